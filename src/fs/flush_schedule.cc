#include "fs/flush_schedule.h"

namespace kvfs::fs {

bool FlushSchedule::Due(Log log, Clock::time_point now) const {
  if (log == Log::kNearlyFull) return true;
  const Clock::duration since_flush(Ticks(now) - last_flush_.load(std::memory_order_relaxed));
  if (since_flush < options_.interval && log == Log::kRoomy) return false;
  const int64_t last_fsync = last_fsync_.load(std::memory_order_relaxed);
  const bool fsyncing =
      last_fsync != INT64_MIN && Clock::duration(Ticks(now) - last_fsync) < options_.fsync_quiet;
  return !fsyncing || since_flush >= options_.deadline;
}

}  // namespace kvfs::fs
