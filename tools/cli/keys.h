#pragma once
// Keys as the CLI takes them: "a/b/c" names the file c in directory a/b; "" or "/"
// is the root. ParseKey checks a key completely (length, empty components, name
// rules) before any transaction begins, so bad input never reaches the store.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/txn.h"

namespace kvfs::cli {

struct Key {
  std::vector<std::string> names;

  bool is_root() const { return names.empty(); }
  const std::string& leaf() const { return names.back(); }  // not for the root
  // "a/b/c"; "/" for the root. For messages and output.
  std::string Display() const { return Join(names.size()); }
  // The first `count` names joined with '/'; "/" when count is 0.
  std::string Join(size_t count) const;
};

// Errors: kInvalid (empty component, NUL, "." or ".."), kNameTooLong (a name over
// 255 bytes, a key over 4095 bytes).
Result<Key> ParseKey(std::string_view text);

// The object the first `count` names lead to (`count` defaults to all of them).
// kNotFound, naming the whole key, when a name is missing or passes through a file.
Result<store::Inode> ResolveKey(store::ReadTxn& txn, const Key& key, size_t count = SIZE_MAX);

// Walks the first `count` names from the root, creating each missing directory
// (`mode`, owned by the calling user) like `mkdir -p`, and returns the last one.
// kNotDir when a name on the way is a file or symlink.
Result<store::Inode> MakeDirs(store::WriteTxn& txn, const Key& key, size_t count, uint32_t mode);

// A new object owned by the calling process's uid and gid.
store::NewObject OwnedObject(store::FileType type, uint32_t mode);

// Parses an octal permission string ("644", "0600", "1777"). kInvalid otherwise.
Result<uint32_t> ParseMode(std::string_view text);

}  // namespace kvfs::cli
