#pragma once
// PurgeSchedule: when the queued purges of forgotten tombstones run.
//
// A purge is a write transaction like any other. Run while `rm -rf` is still deleting,
// it takes the store's write lock and a core from the deletes: removing a 4,000-file
// tree took 0.64-0.72 s with the purges during it and 0.52-0.59 s with them after it,
// while the purges themselves took ~20 ms (2026-11-23). So the queue waits until the
// mount has committed nothing for `idle`; on a mount that never rests, until its
// oldest entry has waited `max_wait`. A queue that reaches `backlog` entries is purged
// at once by the thread that fills it, so memory and the space held by deleted
// content stay bounded (and a write that finds the disk full purges the queue first,
// Filesystem::UpdateMaybeForeign).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace kvfs::fs {

class PurgeSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::chrono::milliseconds idle{250};
    std::chrono::milliseconds max_wait{5000};
    size_t backlog = 16384;
  };

  PurgeSchedule() : PurgeSchedule(Options{}) {}
  explicit PurgeSchedule(Options options) : options_(options) {}

  // Something was committed at `now` (any thread).
  void Committed(Clock::time_point now) { last_commit_.store(Ticks(now), std::memory_order_relaxed); }
  // The queue went from empty to holding entries at `now`.
  void Filled(Clock::time_point now) { filled_at_.store(Ticks(now), std::memory_order_relaxed); }
  // Whether the periodic pass should purge a queue of `queued` entries now.
  bool Due(size_t queued, Clock::time_point now) const;
  // Whether the thread that made the queue `queued` long should purge it itself:
  // on every `backlog`-th entry, so a queue that cannot be purged (a full disk) is
  // not tried again on every forget.
  bool Overflowing(size_t queued) const { return queued > 0 && queued % options_.backlog == 0; }

 private:
  static int64_t Ticks(Clock::time_point t) { return t.time_since_epoch().count(); }

  const Options options_;
  std::atomic<int64_t> last_commit_{0};
  std::atomic<int64_t> filled_at_{0};
};

}  // namespace kvfs::fs
