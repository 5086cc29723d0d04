#pragma once
// Compaction of a store's LMDB file.
//
// LMDB never gives free pages back to the disk and reuses them oldest first, so a
// store that once held large files keeps a large free list, and every later commit
// writes cold, scattered pages (bench/README.md, "The store ages"). CompactIfWasteful
// rewrites db/data.mdb with LMDB's compacting copy when much of it is free, and only
// when no other kvfs process has the store open.
//
// Exclusion: every open Store holds a shared flock on db/open.lock (StoreOpenLock);
// compaction takes it exclusively without waiting, and gives up if anyone holds it.
// Programs outside kvfs that open db/ with LMDB directly (mdb_stat, mdb_dump) do not
// take the lock; do not run them while a kvfs mount is starting.

#include <cstdint>
#include <string>
#include <utility>

#include "base/scoped_fd.h"
#include "base/status.h"

namespace kvfs::store {

struct CompactPolicy {
  // Compact only when at least this much of the file is free...
  uint64_t min_free_bytes = uint64_t{64} << 20;
  // ...and at least this fraction of it.
  double min_free_fraction = 0.25;
  // The copy runs while a mount starts: bound its time by the live data it copies.
  uint64_t max_live_bytes = uint64_t{1} << 30;
};

struct CompactReport {
  bool compacted = false;
  std::string skipped;  // why it was not compacted (empty when it was)
  // No other kvfs process had the store open when it was looked at (its open lock
  // was free), so no other process could hold a deleted file open either.
  bool store_was_free = false;
  uint64_t file_bytes_before = 0;
  uint64_t free_bytes = 0;
  uint64_t file_bytes_after = 0;
};

// Compacts the store in `store_dir` if it is worth it under `policy` and nobody else
// has it open. An error means the store was left as it was (a failed copy is removed).
Result<CompactReport> CompactIfWasteful(const std::string& store_dir,
                                        const CompactPolicy& policy = {});

// The shared lock an open Store holds on db/open.lock (see above). Move-only.
class StoreOpenLock {
 public:
  StoreOpenLock() = default;
  // Waits while a compaction holds the lock exclusively. On a store where the lock
  // file cannot be created or opened (a read-only disk), holds nothing: nothing can
  // compact such a store either.
  static Result<StoreOpenLock> Shared(const std::string& store_dir);

 private:
  explicit StoreOpenLock(ScopedFd fd) : fd_(std::move(fd)) {}
  ScopedFd fd_;
};

// True when no process has the store in `store_dir` open right now (nobody holds
// db/open.lock); call it before opening the store yourself.
bool StoreOpenByNoOne(const std::string& store_dir);

// The lock file inside a store.
std::string StoreOpenLockPath(const std::string& store_dir);

}  // namespace kvfs::store
