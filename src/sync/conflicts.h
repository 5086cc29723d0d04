#pragma once
// Conflict copies in a store: the objects the merge rules named
// "NAME.sync-conflict-YYYYMMDD-HHMMSS-NODE" (merge.h, ConflictName).
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/txn.h"

namespace kvfs::sync {

inline constexpr std::string_view kConflictMarker = ".sync-conflict-";

// Calls `fn` with the path ("dir/name.sync-conflict-...") of every live name that
// carries the conflict marker, walking the whole tree depth first. A conflict copy
// of a directory is reported, and its contents are walked as well.
Status ForEachConflict(store::ReadTxn& t, const std::function<Status(const std::string&)>& fn);

}  // namespace kvfs::sync
