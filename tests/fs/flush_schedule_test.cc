// FlushSchedule: a flush is due every `interval` or when the redo log is half full,
// waits while applications call fsync, and never waits past `deadline` or a nearly
// full log.
#include "fs/flush_schedule.h"

#include <gtest/gtest.h>

namespace kvfs::fs {
namespace {

using namespace std::chrono_literals;
using Clock = FlushSchedule::Clock;
using Log = FlushSchedule::Log;

class FlushScheduleTest : public ::testing::Test {
 protected:
  FlushSchedule Make() {
    FlushSchedule::Options o;
    o.interval = 10s;
    o.deadline = 20s;
    o.fsync_quiet = 1s;
    return FlushSchedule(t0_, o);
  }
  Clock::time_point t0_ = Clock::now();
};

TEST_F(FlushScheduleTest, DueEveryIntervalWhenNobodyFsyncs) {
  FlushSchedule s = Make();
  EXPECT_FALSE(s.Due(Log::kRoomy, t0_ + 9s));
  EXPECT_TRUE(s.Due(Log::kRoomy, t0_ + 10s));
  s.Flushed(t0_ + 10s);
  EXPECT_FALSE(s.Due(Log::kRoomy, t0_ + 19s)) << "the interval counts from the last flush";
  EXPECT_TRUE(s.Due(Log::kRoomy, t0_ + 20s));
}

TEST_F(FlushScheduleTest, AQuarterFullLogIsDueAtOnce) {
  FlushSchedule s = Make();
  EXPECT_TRUE(s.Due(Log::kQuarterFull, t0_ + 1s));
}

TEST_F(FlushScheduleTest, ADueFlushWaitsWhileFsyncsComeAndRunsOnceTheyStop) {
  FlushSchedule s = Make();
  // An append log fsyncing every 200 us from second 9 to second 12.
  for (auto t = t0_ + 9s; t < t0_ + 12s; t += 200us) {
    s.Fsynced(t);
    EXPECT_FALSE(s.Due(Log::kRoomy, t + 100us)) << "flushed while fsyncs go on";
    EXPECT_FALSE(s.Due(Log::kQuarterFull, t + 100us))
        << "flushed a quarter-full log while fsyncs go on";
  }
  EXPECT_FALSE(s.Due(Log::kRoomy, t0_ + 12s + 999ms));
  EXPECT_TRUE(s.Due(Log::kRoomy, t0_ + 13s)) << "not due once fsyncs stopped for a second";
}

TEST_F(FlushScheduleTest, FsyncsNeverHoldAFlushPastTheDeadline) {
  FlushSchedule s = Make();
  s.Fsynced(t0_ + 19s + 900ms);
  EXPECT_FALSE(s.Due(Log::kRoomy, t0_ + 19s + 950ms));
  EXPECT_TRUE(s.Due(Log::kRoomy, t0_ + 20s)) << "the deadline counts from the last flush";
}

TEST_F(FlushScheduleTest, ANearlyFullLogIsFlushedEvenWhileFsyncsCome) {
  FlushSchedule s = Make();
  s.Fsynced(t0_ + 1s);
  EXPECT_TRUE(s.Due(Log::kNearlyFull, t0_ + 1s + 1ms));
}

TEST_F(FlushScheduleTest, AnFsyncLongAgoHoldsNothing) {
  FlushSchedule s = Make();
  s.Fsynced(t0_);
  EXPECT_TRUE(s.Due(Log::kQuarterFull, t0_ + 2s));
}

}  // namespace
}  // namespace kvfs::fs
