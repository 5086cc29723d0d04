#pragma once
// FeedWatcher: keeps the kernel's caches of a mount true to the store when
// someone else (the CLI, a sync server, another mount) changes it.
//
// One thread reads the store's change feed from where it last stopped, skips the
// changes the daemon made itself (OwnSeqs), and for each other change tells the
// kernel to drop the object's cached attributes and pages
// (fuse_lowlevel_notify_inval_inode) and every name whose binding changed — old
// names that are gone and new names that may be cached as negative
// (fuse_lowlevel_notify_inval_entry), and the cached listings of the directories
// that gained or lost a name (stale_listings.h). It runs the feed every 200 ms, and at once
// when a writer nudges it on its unix socket (mount_notify.h), acking when done;
// the ack also waits until the unlinks answered so far are committed, because a
// reader (the CLI) nudges too.
//
// The thread is never a FUSE request thread, so the kernel can call back into
// the daemon (write back dirty pages) while it invalidates.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "fs/filesystem.h"
#include "fs/fuse_api.h"
#include "fs/stale_listings.h"

namespace kvfs::fs {

class FeedWatcher {
 public:
  // How long after invalidating a listing the watcher invalidates it again.
  static constexpr std::chrono::milliseconds kRecheckDelay{100};

  FeedWatcher(Filesystem& fs, fuse_session* session, std::string store_dir);
  ~FeedWatcher();  // stops the thread and removes the socket
  FeedWatcher(const FeedWatcher&) = delete;
  FeedWatcher& operator=(const FeedWatcher&) = delete;

  // Starts at the current end of the feed (the kernel has nothing cached yet),
  // opens the socket, starts the thread.
  Status Start();
  const std::string& socket_path() const { return socket_path_; }

 private:
  struct Changed {
    uint64_t seq = 0;
    store::Ino ino = 0;
    bool own = false;  // written by the daemon itself: nothing to invalidate, nothing read
    bool found = false;
    bool deleted = false;
    bool is_file = false;
    bool merged = false;  // applied from a peer (where it was before is not in the feed)
    // Writeback cache, a regular file the kernel holds: its size, and the content
    // of its last page, to push into the kernel (see Invalidate).
    uint64_t size = 0;
    std::optional<std::string> tail;
    std::vector<store::Link> links;
  };

  void Run(std::stop_token stop);
  // Reads the feed up to its current end and invalidates; returns once done.
  void CatchUp();
  Status ReadBatch(std::vector<Changed>* batch);
  // Invalidates what the kernel may hold of `c`, and notes in `stale` the
  // directories whose listings it may have made stale.
  void Invalidate(const Changed& c, StaleListings* stale);
  void InvalidateEntry(const store::Link& link);
  void DropListings(const StaleListings& stale);
  // Invalidates the listings dropped at least kRecheckDelay ago once more
  // (stale_listings.h).
  void RecheckListings();
  void PushSize(const Changed& c);

  Filesystem& fs_;
  fuse_session* session_;
  const std::string store_dir_;
  std::string socket_path_;
  int listen_fd_ = -1;
  uint64_t cursor_ = 0;  // last feed seq handled; only the watcher thread uses it
  // Listings dropped since the last recheck, and when the first of them was; only
  // the watcher thread uses them.
  StaleListings recheck_;
  std::chrono::steady_clock::time_point recheck_since_;
  std::jthread thread_;
};

}  // namespace kvfs::fs
