// SplitWrites: a file whose last WRITE ended on a page boundary is held (another
// piece of the same write(2) may follow) until a WRITE ends inside a page, the file
// is released, or the settle time passes; a run of page-aligned writes is held at
// most max_hold in a row.
#include "fs/split_writes.h"

#include <gtest/gtest.h>

namespace kvfs::fs {
namespace {

using namespace std::chrono_literals;

class SplitWritesTest : public ::testing::Test {
 protected:
  SplitWrites Make() {
    SplitWrites::Options o;
    o.settle = 50ms;
    o.max_hold = 1000ms;
    o.now = [this] { return now_; };
    return SplitWrites(o);
  }
  // One WRITE request as the daemon handles it.
  static void Write(SplitWrites& s, uint64_t ino, uint64_t off, uint64_t size) {
    s.BeforeWrite(ino, off, size);
    s.AfterWrite(ino, off, size);
  }
  SplitWrites::Clock::time_point now_{};
};

TEST_F(SplitWritesTest, APieceEndingOnAPageIsHeldUntilThePieceEndingInsideOne) {
  SplitWrites s = Make();
  // write(2) of 5000 bytes at offset 100: the kernel sends [100, 4096), then the rest.
  s.BeforeWrite(7, 100, 3996);
  EXPECT_TRUE(s.Held(7)) << "held while the first piece commits";
  s.AfterWrite(7, 100, 3996);
  EXPECT_TRUE(s.Held(7));
  EXPECT_FALSE(s.Held(8)) << "another file";
  s.BeforeWrite(7, 4096, 1004);
  EXPECT_TRUE(s.Held(7)) << "the last piece is not committed yet";
  s.AfterWrite(7, 4096, 1004);
  EXPECT_FALSE(s.Held(7));
}

TEST_F(SplitWritesTest, AWriteEndingInsideAPageIsNeverHeld) {
  SplitWrites s = Make();
  Write(s, 3, 0, 10);
  EXPECT_FALSE(s.Held(3));
  Write(s, 3, 4000, 200);
  EXPECT_FALSE(s.Held(3));
  Write(s, 3, 0, 0);
  EXPECT_FALSE(s.Held(3));
}

TEST_F(SplitWritesTest, AHoldSettlesAndReleaseEndsIt) {
  SplitWrites s = Make();
  Write(s, 5, 0, 8192);  // may have been a whole write(2): no more pieces come
  EXPECT_TRUE(s.Held(5));
  now_ += 49ms;
  EXPECT_TRUE(s.Held(5));
  now_ += 2ms;
  EXPECT_FALSE(s.Held(5));

  Write(s, 5, 8192, 4096);
  EXPECT_TRUE(s.Held(5));
  s.Released(5);
  EXPECT_FALSE(s.Held(5));
}

TEST_F(SplitWritesTest, TheSettleTimeCountsFromTheCommitOfAPiece) {
  SplitWrites s = Make();
  // A slow commit (a loaded machine): 1 MiB piece, 80 ms between request and reply.
  s.BeforeWrite(4, 100, 1048476);
  now_ += 80ms;
  EXPECT_TRUE(s.Held(4)) << "held while the piece commits";
  s.AfterWrite(4, 100, 1048476);
  now_ += 49ms;
  EXPECT_TRUE(s.Held(4)) << "the next piece may still come";
  now_ += 2ms;
  EXPECT_FALSE(s.Held(4));
}

TEST_F(SplitWritesTest, ARunOfAlignedWritesIsHeldAtMostMaxHold) {
  SplitWrites s = Make();
  uint64_t off = 0;
  // cp of a big file: 128 KiB writes every 10 ms.
  for (int i = 0; i <= 100; ++i, off += 131072, now_ += 10ms) {
    Write(s, 9, off, 131072);
    EXPECT_TRUE(s.Held(9)) << "at " << i * 10 << " ms";
  }
  Write(s, 9, off, 131072);  // 1010 ms after the first
  EXPECT_FALSE(s.Held(9)) << "held past max_hold";
  now_ += 60ms;  // the cap's hold settles; a new run starts a new cap
  EXPECT_FALSE(s.Held(9));
  Write(s, 9, off + 131072, 131072);
  EXPECT_TRUE(s.Held(9));
}

}  // namespace
}  // namespace kvfs::fs
