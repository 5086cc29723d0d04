// PurgeSchedule: queued purges wait while the mount commits, run once it has rested
// for `idle` or the queue has waited `max_wait`, and a long queue is purged at once.
#include "fs/purge_schedule.h"

#include <gtest/gtest.h>

namespace kvfs::fs {
namespace {

using namespace std::chrono_literals;
using Clock = PurgeSchedule::Clock;

class PurgeScheduleTest : public ::testing::Test {
 protected:
  PurgeSchedule Make() {
    PurgeSchedule::Options o;
    o.idle = 250ms;
    o.max_wait = 5000ms;
    o.backlog = 100;
    return PurgeSchedule(o);
  }
  Clock::time_point t0_ = Clock::now();
};

TEST_F(PurgeScheduleTest, AnEmptyQueueIsNeverDue) {
  PurgeSchedule s = Make();
  EXPECT_FALSE(s.Due(0, t0_ + 1h));
}

TEST_F(PurgeScheduleTest, AQueueWaitsWhileTheMountCommitsAndRunsOnceItRests) {
  PurgeSchedule s = Make();
  s.Filled(t0_);
  // rm -rf: a commit every 150 us for a second.
  for (auto t = t0_; t < t0_ + 1s; t += 150us) {
    s.Committed(t);
    EXPECT_FALSE(s.Due(10, t + 100us)) << "due while deletes go on";
  }
  const auto last = t0_ + 1s;
  EXPECT_FALSE(s.Due(10, last + 249ms));
  EXPECT_TRUE(s.Due(10, last + 250ms)) << "not due once the mount rested";
}

TEST_F(PurgeScheduleTest, AMountThatNeverRestsStillPurgesAfterMaxWait) {
  PurgeSchedule s = Make();
  s.Filled(t0_);
  auto t = t0_;
  for (; t < t0_ + 4999ms; t += 10ms) {
    s.Committed(t);
    EXPECT_FALSE(s.Due(10, t));
  }
  for (; t < t0_ + 5100ms; t += 10ms) s.Committed(t);
  EXPECT_TRUE(s.Due(10, t)) << "the queue waited 5 s on a busy mount";
  // Drained and filled again: a new wait starts.
  s.Filled(t);
  s.Committed(t);
  EXPECT_FALSE(s.Due(10, t + 10ms));
}

TEST_F(PurgeScheduleTest, EveryBacklogthEntryOverflows) {
  PurgeSchedule s = Make();
  EXPECT_FALSE(s.Overflowing(0));
  EXPECT_FALSE(s.Overflowing(99));
  EXPECT_TRUE(s.Overflowing(100));
  EXPECT_FALSE(s.Overflowing(101)) << "a queue that cannot be purged is not tried on every entry";
  EXPECT_TRUE(s.Overflowing(200));
}

}  // namespace
}  // namespace kvfs::fs
