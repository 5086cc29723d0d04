#pragma once
// The merge rules: pure functions over ObjectStates, testable without a store.
//
// MergeObject(local, remote) joins two states of one object register by register:
//   - name, delete, attrs, times, xattrs: the larger stamp wins; equal stamps with
//     different values (only possible for conflict copies minted on two peers) are
//     broken by comparing the values, so the result never depends on argument order;
//   - content: the version vectors decide. When one side has seen the other, it wins.
//     When they are concurrent, the larger content stamp keeps the object, the joined
//     vector records both, and the other version becomes a conflict copy: a new object
//     whose id, name and content depend only on the losing version, so every peer that
//     sees the conflict mints the same copy.
// The main state is a join (commutative, associative, idempotent); conflict copies
// are ordinary objects that replicate like any other, so every peer ends with the
// same set of copies whatever order it learned the versions in.
#include <optional>
#include <string>

#include "sync/object_state.h"

namespace kvfs::sync {

enum class Side { kLocal, kRemote };

struct ConflictCopy {
  ObjectState state;
  Side content_from = Side::kLocal;  // whose chunks hold the copy's bytes
};

struct MergeOutcome {
  ObjectState state;
  Side content_from = Side::kLocal;  // whose chunks hold the merged content
  std::optional<ConflictCopy> conflict;
  bool changed = false;  // state != local
};

MergeOutcome MergeObject(const ObjectState& local, const ObjectState& remote);

// The object id of the conflict copy of `oid`'s version stamped `loser_stamp`.
ObjectId ConflictCopyId(const ObjectId& oid, const HlcStamp& loser_stamp);

// "bashrc" -> "bashrc.sync-conflict-20261122-171800-<node>", kept within 255 bytes.
std::string ConflictName(const std::string& name, const HlcStamp& stamp);

// The name an object (id `oid`, name stamp `stamp`) moves on to when it loses a name
// clash at `name`: its ConflictName, or, when `name` already carries that conflict
// suffix (it lost the conflict name too), `name` + "-" + 16 hex digits of a hash of
// (oid, stamp, name). A pure function of replicated state, so every peer walks the
// same chain of names; it always differs from `name`.
std::string DisplacedName(const std::string& name, const ObjectId& oid, const HlcStamp& stamp);

}  // namespace kvfs::sync
