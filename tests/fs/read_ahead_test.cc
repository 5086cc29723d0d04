// ReadAhead: reads that go on where the last one ended grow a prefetch window past
// them (never asking twice for the same bytes); a read elsewhere drops it.
#include "fs/read_ahead.h"

#include <gtest/gtest.h>

namespace kvfs::fs {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kRead = 128 * kKiB;  // the kernel's READ size for a FUSE mount

TEST(ReadAheadTest, TheFirstReadOfAFileAsksForNothing) {
  ReadAhead ra;
  EXPECT_TRUE(ra.OnRead(5, 0, kRead).empty());
}

TEST(ReadAheadTest, SequentialReadsGrowTheWindowUpToTheMax) {
  ReadAhead ra;
  ra.OnRead(5, 0, kRead);
  ReadAhead::Range r = ra.OnRead(5, kRead, kRead);
  EXPECT_EQ(r.from, 2 * kRead);
  EXPECT_EQ(r.to, 2 * kRead + ReadAhead::kFirstWindow);
  // The next read asks only for what lies past the last range: the window doubled.
  r = ra.OnRead(5, 2 * kRead, kRead);
  EXPECT_EQ(r.from, 2 * kRead + ReadAhead::kFirstWindow);
  EXPECT_EQ(r.to, 3 * kRead + 2 * ReadAhead::kFirstWindow);
  uint64_t off = 3 * kRead, asked_to = r.to;
  for (int i = 0; i < 200; ++i, off += kRead) {
    r = ra.OnRead(5, off, kRead);
    if (r.empty()) continue;
    EXPECT_EQ(r.from, asked_to) << "asked twice for some bytes at read " << i;
    EXPECT_LE(r.to - (off + kRead), ReadAhead::kMaxWindow) << "window past the max";
    asked_to = r.to;
  }
  EXPECT_EQ(asked_to, off + ReadAhead::kMaxWindow) << "a long read keeps the full window";
}

TEST(ReadAheadTest, AReadElsewhereDropsTheWindow) {
  ReadAhead ra;
  for (uint64_t off = 0; off < 8 * kRead; off += kRead) ra.OnRead(9, off, kRead);
  EXPECT_TRUE(ra.OnRead(9, 100 * 1024 * kKiB, kRead).empty()) << "a jump of 100 MiB";
  EXPECT_TRUE(ra.OnRead(9, 0, kRead).empty()) << "back to the start";
  ReadAhead::Range r = ra.OnRead(9, kRead, kRead);
  EXPECT_EQ(r.to - r.from, ReadAhead::kFirstWindow) << "a new stream starts small";
}

TEST(ReadAheadTest, ReadsSlightlyOutOfOrderStillCountAsSequential) {
  ReadAhead ra;
  ra.OnRead(3, 0, kRead);
  // The kernel's next two READs, served out of order.
  ReadAhead::Range r1 = ra.OnRead(3, 2 * kRead, kRead);
  ASSERT_FALSE(r1.empty());
  EXPECT_EQ(r1.from, 3 * kRead);
  ReadAhead::Range r2 = ra.OnRead(3, kRead, kRead);
  ASSERT_FALSE(r2.empty()) << "the stream goes on: its window grows";
  EXPECT_EQ(r2.from, r1.to) << "nothing asked for twice";
  EXPECT_EQ(r2.to, 3 * kRead + 2 * ReadAhead::kFirstWindow);
  ReadAhead::Range r3 = ra.OnRead(3, 3 * kRead, kRead);
  EXPECT_EQ(r3.from, r2.to);
}

TEST(ReadAheadTest, FilesHaveStreamsOfTheirOwn) {
  ReadAhead ra;
  ra.OnRead(1, 0, kRead);
  ra.OnRead(2, 0, kRead);  // another slot
  EXPECT_FALSE(ra.OnRead(1, kRead, kRead).empty());
  EXPECT_FALSE(ra.OnRead(2, kRead, kRead).empty());
  // Two files in one slot take it from each other: neither gets read-ahead.
  const uint64_t other = 1 + ReadAhead::kStreams;
  ra.OnRead(other, 0, kRead);
  EXPECT_TRUE(ra.OnRead(1, 2 * kRead, kRead).empty());
}

TEST(ReadAheadTest, AnEmptyReadAsksForNothing) {
  ReadAhead ra;
  ra.OnRead(4, 0, kRead);
  EXPECT_TRUE(ra.OnRead(4, kRead, 0).empty());
}

}  // namespace
}  // namespace kvfs::fs
