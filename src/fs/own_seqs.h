#pragma once
// OwnSeqs: which change-feed sequence numbers the daemon's own transactions wrote,
// so the feed watcher invalidates the kernel's caches only for changes made by
// someone else (the CLI, a sync server, another mount).
//
// A transaction registers its range before it commits (Tentative) and resolves it
// right after (Finish). The watcher classifies each seq it reads: a seq inside a
// tentative range is kPending until the writer resolves it, so a commit the
// watcher sees is never misjudged, whatever the timing.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>

namespace kvfs::fs {

class OwnSeqs {
 public:
  enum class Kind { kOwn, kForeign, kPending };

  // A new writer; returns its token.
  uint64_t Begin();
  // The writer's transaction wrote seqs (first, last] (replaces an earlier attempt's).
  void Tentative(uint64_t token, uint64_t after, uint64_t last);
  // The writer is done; `committed` says whether its last attempt committed.
  void Finish(uint64_t token, bool committed);

  Kind Classify(uint64_t seq) const;
  // Classifies `seq`, waiting up to `timeout` for a pending writer to resolve (a
  // seq still pending after that counts as foreign: an extra invalidation is safe).
  bool IsOwn(uint64_t seq, std::chrono::milliseconds timeout);
  // Forgets confirmed ranges at or below `seq` (the watcher has passed them).
  void Prune(uint64_t seq);

 private:
  Kind ClassifyLocked(uint64_t seq) const;

  mutable std::mutex mu_;
  std::condition_variable resolved_;
  uint64_t next_token_ = 1;                                    // guarded by mu_
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> pending_;  // token -> (after, last]
  std::map<uint64_t, uint64_t> confirmed_;                     // last -> after
};

}  // namespace kvfs::fs
