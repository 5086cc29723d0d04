#pragma once
// FlushSchedule: when the syncer flushes the whole store (Store::Sync, every page the
// commits since the last flush dirtied) instead of only persisting the redo log.
//
// A flush is due every `interval`, or once the redo log is a quarter full. But on a
// store with many free pages each commit dirties new, cold pages (LMDB hands out the
// oldest free pages first): ~100 KiB for a 4 KiB append, so a flush after 1,000 of
// them writes back ~100 MB (200-450 ms here), and every fsync an application makes
// meanwhile waits behind that writeback (src/fs/README.md). So while fsyncs keep coming
// (the last one within `fsync_quiet`), a due flush waits, until the log is nearly
// full (then an fsync would soon have to flush the store itself, while its caller
// waits) or `deadline` has passed since the last flush. The deadline stays under
// the kernel's own writeback age (30 s), which writes LMDB's pages in no order.
// A flush already under way when fsyncs start asks Due() between its slices and
// pauses while it is false (Filesystem::FlushPaced, store/paced_writeback.h).

#include <atomic>
#include <chrono>
#include <cstdint>

namespace kvfs::fs {

class FlushSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::chrono::milliseconds interval{10000};
    std::chrono::milliseconds deadline{20000};
    std::chrono::milliseconds fsync_quiet{1000};
  };
  // How full the redo log is (store::RedoLog::WantsFlush, MustFlush).
  enum class Log { kRoomy, kQuarterFull, kNearlyFull };

  explicit FlushSchedule(Clock::time_point start) : FlushSchedule(start, Options{}) {}
  FlushSchedule(Clock::time_point start, Options options)
      : options_(options), last_flush_(Ticks(start)) {}

  // An application's fsync (fsync, fdatasync, fsyncdir) was served at `now` (any thread).
  void Fsynced(Clock::time_point now) { last_fsync_.store(Ticks(now), std::memory_order_relaxed); }
  // The store was flushed at `now`.
  void Flushed(Clock::time_point now) { last_flush_.store(Ticks(now), std::memory_order_relaxed); }
  // Whether the syncer should flush the store now, with the log `log`.
  bool Due(Log log, Clock::time_point now) const;

 private:
  static int64_t Ticks(Clock::time_point t) { return t.time_since_epoch().count(); }

  const Options options_;
  std::atomic<int64_t> last_flush_;
  std::atomic<int64_t> last_fsync_{INT64_MIN};
};

}  // namespace kvfs::fs
