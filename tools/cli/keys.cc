#include "keys.h"

#include <unistd.h>

#include <algorithm>

#include "store/path.h"

namespace kvfs::cli {

std::string Key::Join(size_t count) const {
  count = std::min(count, names.size());
  if (count == 0) return "/";
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (i) out += '/';
    out += names[i];
  }
  return out;
}

Result<Key> ParseKey(std::string_view text) {
  KVFS_ASSIGN_OR_RETURN(auto split, store::SplitKey(text));
  Key key;
  key.names.assign(split.begin(), split.end());
  return key;
}

Result<store::Inode> ResolveKey(store::ReadTxn& txn, const Key& key, size_t count) {
  count = std::min(count, key.names.size());
  KVFS_ASSIGN_OR_RETURN(store::Inode node, txn.Get(store::kRootIno));
  for (size_t i = 0; i < count; ++i) {
    if (!node.is_dir()) {
      return Status(Code::kNotFound, "no such key: " + key.Join(count) + " ('" + key.Join(i) +
                                         "' is not a directory)");
    }
    auto next = txn.Lookup(node.ino, key.names[i]);
    if (!next.ok() && next.status().code() == Code::kNotFound) {
      return Status(Code::kNotFound, "no such key: " + key.Join(count));
    }
    KVFS_ASSIGN_OR_RETURN(node, std::move(next));
  }
  return node;
}

Result<store::Inode> MakeDirs(store::WriteTxn& txn, const Key& key, size_t count, uint32_t mode) {
  count = std::min(count, key.names.size());
  KVFS_ASSIGN_OR_RETURN(store::Inode node, txn.Get(store::kRootIno));
  for (size_t i = 0; i < count; ++i) {
    const std::string& name = key.names[i];
    auto next = txn.Lookup(node.ino, name);
    if (next.ok()) {
      if (!next->is_dir()) {
        return Status(Code::kNotDir, "'" + key.Join(i + 1) + "' is a file, not a directory; " +
                                         "remove it or choose another key");
      }
      node = std::move(next).value();
      continue;
    }
    if (next.status().code() != Code::kNotFound) return next.status();
    KVFS_ASSIGN_OR_RETURN(
        node, txn.Create(node.ino, name, OwnedObject(store::FileType::kDirectory, mode)));
  }
  return node;
}

store::NewObject OwnedObject(store::FileType type, uint32_t mode) {
  store::NewObject spec;
  spec.type = type;
  spec.mode = mode;
  spec.uid = getuid();
  spec.gid = getgid();
  return spec;
}

Result<uint32_t> ParseMode(std::string_view text) {
  const bool octal =
      !text.empty() && text.size() <= 5 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
  uint32_t mode = 0;
  for (char c : text) mode = mode * 8 + static_cast<uint32_t>(c - '0');
  if (!octal || mode > 07777) {
    return Status(Code::kInvalid, "bad mode '" + std::string(text) +
                                      "'; give octal permission bits such as 644 or 0600");
  }
  return mode;
}

}  // namespace kvfs::cli
