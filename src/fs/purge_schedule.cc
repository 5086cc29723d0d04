#include "fs/purge_schedule.h"

namespace kvfs::fs {

bool PurgeSchedule::Due(size_t queued, Clock::time_point now) const {
  if (queued == 0) return false;
  const Clock::duration since_commit(Ticks(now) - last_commit_.load(std::memory_order_relaxed));
  const Clock::duration waiting(Ticks(now) - filled_at_.load(std::memory_order_relaxed));
  return since_commit >= options_.idle || waiting >= options_.max_wait;
}

}  // namespace kvfs::fs
