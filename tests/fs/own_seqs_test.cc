#include "fs/own_seqs.h"

#include <gtest/gtest.h>

#include <thread>

namespace kvfs::fs {
namespace {

using namespace std::chrono_literals;

TEST(OwnSeqsTest, CommittedRangesAreOwn) {
  OwnSeqs s;
  const uint64_t t = s.Begin();
  s.Tentative(t, 10, 13);  // seqs 11, 12, 13
  EXPECT_EQ(s.Classify(11), OwnSeqs::Kind::kPending);
  s.Finish(t, true);
  EXPECT_EQ(s.Classify(10), OwnSeqs::Kind::kForeign);
  EXPECT_EQ(s.Classify(11), OwnSeqs::Kind::kOwn);
  EXPECT_EQ(s.Classify(13), OwnSeqs::Kind::kOwn);
  EXPECT_EQ(s.Classify(14), OwnSeqs::Kind::kForeign);
}

TEST(OwnSeqsTest, AbortedAttemptsAreForeign) {
  OwnSeqs s;
  const uint64_t t = s.Begin();
  s.Tentative(t, 5, 8);
  s.Finish(t, false);
  EXPECT_EQ(s.Classify(6), OwnSeqs::Kind::kForeign);
}

TEST(OwnSeqsTest, ARetryReplacesTheTentativeRange) {
  OwnSeqs s;
  const uint64_t t = s.Begin();
  s.Tentative(t, 5, 8);
  s.Tentative(t, 7, 9);  // another process committed 6 and 7 in between
  s.Finish(t, true);
  EXPECT_EQ(s.Classify(6), OwnSeqs::Kind::kForeign);
  EXPECT_EQ(s.Classify(8), OwnSeqs::Kind::kOwn);
}

TEST(OwnSeqsTest, IsOwnWaitsForThePendingWriter) {
  OwnSeqs s;
  const uint64_t t = s.Begin();
  s.Tentative(t, 0, 2);
  std::thread writer([&] {
    std::this_thread::sleep_for(50ms);
    s.Finish(t, true);
  });
  EXPECT_TRUE(s.IsOwn(1, 5s));
  writer.join();
}

TEST(OwnSeqsTest, IsOwnGivesUpAsForeign) {
  OwnSeqs s;
  const uint64_t t = s.Begin();
  s.Tentative(t, 0, 2);
  EXPECT_FALSE(s.IsOwn(1, 20ms));
  s.Finish(t, true);
}

TEST(OwnSeqsTest, PruneForgetsPassedRanges) {
  OwnSeqs s;
  for (uint64_t after : {0, 10, 20}) {
    const uint64_t t = s.Begin();
    s.Tentative(t, after, after + 5);
    s.Finish(t, true);
  }
  s.Prune(15);
  EXPECT_EQ(s.Classify(3), OwnSeqs::Kind::kForeign);
  EXPECT_EQ(s.Classify(13), OwnSeqs::Kind::kForeign);
  EXPECT_EQ(s.Classify(23), OwnSeqs::Kind::kOwn);
}

}  // namespace
}  // namespace kvfs::fs
