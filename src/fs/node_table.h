#pragma once
// NodeTable: what the kernel holds of each inode, kept in memory by the daemon.
//
//  - the lookup count (every entry reply adds one, FORGET takes them back): an
//    inode with a zero count is unknown to the kernel, so it needs no invalidation;
//  - the number of open handles;
//  - the names (parent, name) the daemon last reported for it, so that when the
//    store changes under the mount the old names can be invalidated too;
//  - whether the object may be a tombstone, so its content is purged once the
//    kernel lets go of it (lookup count and open count both zero);
//  - for directories, whether the kernel was given a listing, which it may have
//    cached (stale_listings.h).
//
// Thread-safe; one mutex, never held while calling into the store or the kernel.

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "store/types.h"

namespace kvfs::fs {

class NodeTable {
 public:
  // One more lookup of `ino`, reached as `name` in `parent`.
  void Remember(store::Ino ino, store::Ino parent, std::string_view name);
  // Records a name without a lookup (a rename moving a known dentry).
  void AddName(store::Ino ino, store::Ino parent, std::string_view name);
  void DropName(store::Ino ino, store::Ino parent, std::string_view name);
  // The kernel dropped `n` lookups. True when the object should now be purged
  // (no lookups, no handles, possibly a tombstone).
  bool Forget(store::Ino ino, uint64_t n);
  void Open(store::Ino ino);
  // True when the object should now be purged (see Forget).
  bool Release(store::Ino ino);
  // Notes that `ino` became (or may have become) a tombstone. True when nothing
  // holds it any more, so it can be purged now.
  bool MarkDeleted(store::Ino ino);

  // True when the kernel holds lookups of `ino` (the root always).
  bool Known(store::Ino ino) const;
  // The names last reported for `ino` (copied).
  std::vector<store::Link> Names(store::Ino ino) const;
  // Replaces the names of a known inode (after invalidating the stale ones).
  void SetNames(store::Ino ino, std::vector<store::Link> names);

  // The kernel was given (part of) a listing of directory `dir`.
  void Listed(store::Ino dir);
  // The directories the kernel holds and was given a listing of since it looked
  // them up (the root: since the mount).
  std::vector<store::Ino> ListedDirs() const;

  size_t size() const;

 private:
  struct Node {
    uint64_t nlookup = 0;
    uint32_t open = 0;
    bool maybe_deleted = false;
    bool listed = false;
    std::vector<store::Link> names;
  };
  // A hard-linked file may have many names; past this only the newest are kept
  // (older ones were invalidated when replaced, or expire by the entry timeout).
  static constexpr size_t kMaxNames = 16;

  bool Idle(const Node& n) const { return n.nlookup == 0 && n.open == 0; }
  // Erases an idle node; returns whether it was a tombstone candidate.
  bool EraseIfIdle(std::unordered_map<store::Ino, Node>::iterator it);

  mutable std::mutex mu_;
  std::unordered_map<store::Ino, Node> nodes_;  // guarded by mu_
  bool root_listed_ = false;                    // guarded by mu_ (the root has no Node)
};

}  // namespace kvfs::fs
