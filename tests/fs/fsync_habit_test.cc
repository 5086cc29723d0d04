// FsyncHabit (fs/fsync_habit.h): which writes are expected to be followed by an fsync.
#include "fs/fsync_habit.h"

#include <gtest/gtest.h>

namespace kvfs::fs {
namespace {

// One write then one fsync of `ino`; returns what the write was told.
bool WriteThenFsync(FsyncHabit& habit, uint64_t ino) {
  const bool expected = habit.Wrote(ino);
  habit.Fsynced(ino);
  return expected;
}

TEST(FsyncHabitTest, AfterTwoWriteFsyncPairsTheNextWriteExpectsAnFsync) {
  FsyncHabit habit;
  EXPECT_FALSE(WriteThenFsync(habit, 7)) << "writes are counted from the first fsync on";
  EXPECT_FALSE(WriteThenFsync(habit, 7));
  EXPECT_FALSE(WriteThenFsync(habit, 7));
  EXPECT_TRUE(WriteThenFsync(habit, 7));
  EXPECT_TRUE(WriteThenFsync(habit, 7));
  EXPECT_FALSE(habit.Wrote(8)) << "another file has no habit yet";
}

TEST(FsyncHabitTest, OnlyTheFirstWriteAfterAnFsyncAndTwoWritesBreakTheHabit) {
  FsyncHabit habit;
  for (int i = 0; i < 3; ++i) WriteThenFsync(habit, 7);
  EXPECT_TRUE(habit.Wrote(7));
  EXPECT_FALSE(habit.Wrote(7)) << "a second write before the fsync";
  habit.Fsynced(7);  // followed two writes: the rhythm starts again
  EXPECT_FALSE(WriteThenFsync(habit, 7));
  EXPECT_FALSE(WriteThenFsync(habit, 7));
  EXPECT_TRUE(habit.Wrote(7));
}

TEST(FsyncHabitTest, FilesThatAreOnlyWrittenTakeNoRoom) {
  FsyncHabit habit;
  for (int i = 0; i < 3; ++i) WriteThenFsync(habit, 1);
  // More written-only files than the habit tracks: they must not push file 1 out.
  for (uint64_t ino = 100; ino < 100 + 2 * FsyncHabit::kMaxFiles; ++ino) {
    EXPECT_FALSE(habit.Wrote(ino));
  }
  EXPECT_TRUE(habit.Wrote(1));
}

TEST(FsyncHabitTest, AReleasedFileIsForgotten) {
  FsyncHabit habit;
  for (int i = 0; i < 3; ++i) WriteThenFsync(habit, 7);
  habit.Released(7);
  EXPECT_FALSE(habit.Wrote(7));
}

TEST(FsyncHabitTest, TooManyFilesStartAgainFromNone) {
  FsyncHabit habit;
  for (int i = 0; i < 3; ++i) WriteThenFsync(habit, 1);
  for (uint64_t ino = 100; ino < 100 + FsyncHabit::kMaxFiles; ++ino) habit.Fsynced(ino);
  EXPECT_FALSE(habit.Wrote(1));
}

}  // namespace
}  // namespace kvfs::fs
