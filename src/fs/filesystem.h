#pragma once
// Filesystem: the state every FUSE operation shares — the store, what the kernel
// holds of each inode (NodeTable), the seqs of the daemon's own commits (OwnSeqs)
// and the cache timeouts — plus the two ways an operation touches the store:
// View() and Update(), each one store transaction that is finished before the
// operation replies. The one exception is unlink, answered before its commit and
// committed in batches (DeferredUnlinks); every other request waits for those.
//
// Thread-safe: libfuse calls operations from several threads at once; the store
// serialises write transactions.

#include <sys/stat.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "fs/deferred_unlinks.h"
#include "fs/dir_cookies.h"
#include "fs/flush_schedule.h"
#include "fs/fsync_habit.h"
#include "fs/fuse_api.h"
#include "fs/mount_options.h"
#include "fs/node_table.h"
#include "fs/own_seqs.h"
#include "fs/purge_schedule.h"
#include "fs/read_ahead.h"
#include "fs/split_writes.h"
#include "store/store.h"

namespace kvfs::fs {

struct FsConfig {
  // How long the kernel may trust attributes and names without asking again. The
  // feed watcher invalidates them when the store changes under the mount, so
  // these only bound staleness if a notification is lost.
  double attr_timeout = 5.0;
  double entry_timeout = 5.0;
  double negative_timeout = 1.0;
  // Largest write the kernel sends (FUSE_MAX_MAX_PAGES pages in libfuse 3.14).
  unsigned max_write = 1 << 20;
  bool read_only = false;
  // Ask for the kernel's writeback cache (see MountOptions::writeback_cache).
  bool writeback_cache = false;
  // What listings carry besides names (see MountOptions::readdir_attrs).
  ReaddirAttrs readdir_attrs = ReaddirAttrs::kDirectories;
};

// `base` with what the mount options decide: read-only, the kernel features, and no
// negative caching on a mount that syncs. There a merge may create a name right after
// the kernel was told it does not exist, and the feed watcher's invalidation comes
// after the commit: meanwhile `mkdir` got EEXIST from the store while the cached
// "no such name" made the `stat` after it fail with ENOENT (seen once in
// integration.sync_random). Without negative caching every lookup of a missing name
// asks the daemon (one round trip, ~25 us).
FsConfig FsConfigFor(FsConfig base, const MountOptions& options);

class Filesystem {
 public:
  Filesystem(store::Store& store, FsConfig config);
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;

  store::Store& store() { return store_; }
  NodeTable& nodes() { return nodes_; }
  OwnSeqs& own_seqs() { return own_; }
  SplitWrites& split_writes() { return split_writes_; }
  ReadAhead& read_ahead() { return read_ahead_; }
  DeferredUnlinks& deferred_unlinks() { return deferred_unlinks_; }
  FsyncHabit& fsync_habit() { return fsync_habit_; }
  ListingCache& listings() { return listings_; }
  // False once Init found that the kernel lists directories without OPENDIR when
  // told ENOSYS (FUSE_CAP_NO_OPENDIR_SUPPORT, Linux 5.1).
  bool opendir_needed() const { return opendir_needed_; }
  void set_opendir_needed(bool needed) { opendir_needed_ = needed; }
  const FsConfig& config() const { return config_; }

  // One read transaction.
  Status View(const std::function<Status(store::ReadTxn&)>& fn);
  // One write transaction; the feed seqs it writes are recorded as the daemon's
  // own, so the watcher does not invalidate what the kernel itself just did.
  Status Update(const std::function<Status(store::WriteTxn&)>& fn);
  // As Update, but `fn` may set *foreign: the kernel's view of what it changed is
  // then wrong (an O_APPEND write landed at the store's end, not the kernel's), so
  // its seqs count as someone else's and the watcher invalidates the kernel's caches.
  // `early`: an fsync is expected at once (store::LogEarly).
  Status UpdateMaybeForeign(const std::function<Status(store::WriteTxn&, bool* foreign)>& fn,
                            store::LogEarly early = store::LogEarly::kNo);
  // True (once) when something was committed since the last call: the periodic
  // sync uses it to skip idle seconds.
  bool TakeDirty() { return dirty_.exchange(false); }
  // Makes every commit so far durable (fsync, and the periodic sync). Returns once
  // it is on disk. A no-op on a read-only mount.
  Status Sync();
  // Makes every commit so far durable, through the store's redo log when the commits
  // since the last sync are small (Store::MakeDurable).
  Status MakeDurable();
  // fsync(2), fdatasync(2), fsyncdir: MakeDurable, noted for the flush schedule.
  Status Fsync();
  // Whether the periodic sync should flush the whole store now rather than persist
  // the redo log (flush_schedule.h).
  bool FlushDue() const;
  // The periodic sync's flush: Sync(), with the dirty pages written back in slices
  // first, pausing while the schedule would not have started a flush (fsyncs came
  // since, store/paced_writeback.h) and `stop()` is false.
  Status FlushPaced(const std::function<bool()>& stop);

  // stat(2) for an object.
  void FillAttr(const store::Inode& node, struct stat* st) const;
  // An entry reply for `node` (counts nothing; see RememberEntry).
  void FillEntry(const store::Inode& node, fuse_entry_param* e) const;
  // A negative entry: the kernel may cache "no such name" for a while.
  void FillNegativeEntry(fuse_entry_param* e) const;

  // The errno for a failed operation (EROFS for writes on a read-only mount).
  int ErrnoOf(const Status& status) const;

  // Commits answered unlinks in one transaction (DeferredUnlinks' commit function). An
  // unlink whose name meanwhile went away or names another object is left out.
  void CommitUnlinks(const std::vector<PendingUnlink>& batch);

  // Purges the content of `ino` if it is a tombstone (the kernel let go of it);
  // if that fails (a disk full to the last block), queues it to try again.
  void PurgeIfDeleted(store::Ino ino);
  // The same, later and in bulk: the inode goes on a queue that PurgeQueued()
  // empties in one transaction. Forgotten inodes are queued so that `rm -rf` pays
  // one commit per file (the unlink), not two. Safe to defer: a forgotten
  // tombstone has no name and no open handle, so nothing can read it any more,
  // and one revived by a merge meanwhile is not deleted when the queue is purged.
  void QueuePurge(store::Ino ino);
  // Purges the queued tombstones, in transactions of up to 512 (the daemon at
  // unmount, QueuePurge when the queue is long, and a write that finds the disk
  // full, before it tries once more).
  void PurgeQueued();
  // PurgeQueued when the schedule says it is due (purge_schedule.h); the syncer calls
  // it about once a second.
  void PurgeQueuedIfDue();
  // Queues the tombstones a crash left with their content or xattrs. Only for a
  // mount that is the store's only user, before it serves: then none is open.
  void QueueUnpurgedTombstones();

 private:
  // Sync and FlushPaced: the store's flush (paced when `hold` is set), noted for the
  // flush schedule.
  Status FlushStore(const std::function<bool()>& hold);
  Status CommitOnce(const std::function<Status(store::WriteTxn&, bool* foreign)>& fn,
                    store::LogEarly early);
  bool HasQueuedPurges();
  // CommitUnlinks' transaction; sets removed[i] for each unlink it made.
  Status CommitUnlinkBatch(const std::vector<PendingUnlink>& batch,
                           std::vector<std::optional<store::Inode>>* removed);
  // Purges `ino` if it is a tombstone; false if that failed (logged).
  bool TryPurge(store::Ino ino);
  // Purges `inos` in one transaction (one by one if that fails); adds to `retry`
  // those whose purge failed.
  void PurgeBatch(const std::vector<store::Ino>& inos, std::vector<store::Ino>* retry);
  // Appends to the purge queue, starting its wait when it was empty. Caller holds
  // purge_mu_.
  void AppendToPurgeQueue(const std::vector<store::Ino>& inos);
  // Brings into memory what purging `inos` will read, outside the write lock.
  void PrefetchForPurge(const std::vector<store::Ino>& inos);

  store::Store& store_;
  const FsConfig config_;
  NodeTable nodes_;
  OwnSeqs own_;
  SplitWrites split_writes_;
  ReadAhead read_ahead_;
  FsyncHabit fsync_habit_;
  ListingCache listings_;
  std::atomic<bool> opendir_needed_{true};
  std::atomic<bool> dirty_{false};
  PurgeSchedule purge_schedule_;
  FlushSchedule flush_schedule_{FlushSchedule::Clock::now()};
  std::mutex purge_mu_;
  std::vector<store::Ino> purge_queue_;  // guarded by purge_mu_
  // Last, so it is destroyed first: its destructor commits what is queued through
  // the members above.
  DeferredUnlinks deferred_unlinks_{[this](const std::vector<PendingUnlink>& batch) {
    CommitUnlinks(batch);
  }};
};

}  // namespace kvfs::fs
