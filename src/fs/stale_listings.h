#pragma once
// StaleListings: the directories whose listings the kernel may hold stale after
// changes made outside the daemon (the CLI, a merge from a peer).
//
// The daemon answers no OPENDIR (dir_cookies.h), and the kernel then caches every
// listing it reads (it assumes FOPEN_CACHE_DIR). It drops a cached listing only when
// the directory's mtime moves, when its own requests change the directory, or when
// told to (an inode invalidation, which drops the directory's pages). An entry
// invalidation does not do it when the kernel holds no dentry of that name, and a
// merge changes names without moving the directory's mtime (that time is replicated,
// not local): a merged conflict copy was missing from `ls` for as long as the mount
// lived. So the feed watcher collects, per batch, the directories that gained or lost
// a name, and invalidates each.
//
// A merged object the kernel holds no lookup of may have moved from a directory the
// daemon never named to the kernel (it came in a listing only): then every listed
// directory is a suspect.
//
// A READDIR answered from a snapshot taken before a merge can reach the kernel's
// cache after the invalidation: the watcher invalidates the same directories once
// more a little later (FeedWatcher::kRecheckDelay), by which time any such reply
// has long been taken in.

#include <unordered_set>
#include <vector>

#include "store/types.h"

namespace kvfs::fs {

class StaleListings {
 public:
  // One changed object: the names the kernel was told of (`told`), the names it has
  // now (`live`, empty once deleted), its last names when it is a tombstone
  // (`last_names`), and whether it may have moved from a directory not in `told`.
  void Note(const std::vector<store::Link>& told, const std::vector<store::Link>& live,
            const std::vector<store::Link>& last_names, bool may_have_moved_unseen);

  // Adds the suspects of `other`.
  void Merge(const StaleListings& other);

  bool empty() const { return !all_ && dirs_.empty(); }
  // Every listed directory is suspect.
  bool all() const { return all_; }
  // The directories that gained or lost a name (meaningful when !all()).
  const std::unordered_set<store::Ino>& dirs() const { return dirs_; }

 private:
  bool all_ = false;
  std::unordered_set<store::Ino> dirs_;
};

}  // namespace kvfs::fs
