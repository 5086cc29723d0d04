// WriteBackPaced: asks `hold` before each slice, waits while it says so, takes
// another pass after a pause (at most max_passes), and reports a refused fd.
#include "store/paced_writeback.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "store_test_util.h"

namespace kvfs::store {
namespace {

using testing::Pattern;
using testing::TempDir;

constexpr size_t kSlice = size_t{1} << 20;

class PacedWritebackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = open(dir_.Sub("data").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
  }
  // Dirties `slices` slices of the file (page-cache writes, not yet written back).
  void Dirty(size_t slices) {
    const std::string block = Pattern(kSlice, 'p');
    for (size_t i = 0; i < slices; ++i) {
      ASSERT_EQ(pwrite(fd_, block.data(), block.size(), static_cast<off_t>(i * kSlice)),
                static_cast<ssize_t>(block.size()));
    }
  }
  static PacedWriteback Pace() {
    PacedWriteback pace;
    pace.slice_bytes = kSlice;
    pace.poll = std::chrono::milliseconds(2);
    return pace;
  }

  TempDir dir_;
  int fd_ = -1;
};

TEST_F(PacedWritebackTest, AsksBeforeEachSliceAndTakesOnePassWhenNeverHeld) {
  Dirty(4);
  int asked = 0;
  EXPECT_TRUE(WriteBackPaced(fd_, Pace(), [&] {
    ++asked;
    return false;
  }));
  EXPECT_EQ(asked, 4);
}

TEST_F(PacedWritebackTest, WaitsWhileHeldThenTakesAnotherPass) {
  Dirty(4);
  int asked = 0;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(WriteBackPaced(fd_, Pace(), [&] { return ++asked <= 5; }));
  const auto waited = std::chrono::steady_clock::now() - start;
  // 5 answers "hold" before the first slice, then 4 slices, then a second pass of 4.
  EXPECT_EQ(asked, 5 + 4 + 4);
  EXPECT_GE(waited, 5 * Pace().poll);
  // The data is intact.
  std::string back(kSlice, '\0');
  ASSERT_EQ(pread(fd_, back.data(), back.size(), 3 * kSlice), static_cast<ssize_t>(kSlice));
  EXPECT_TRUE(back == Pattern(kSlice, 'p'));
}

TEST_F(PacedWritebackTest, PausesInEveryPassStopAtMaxPasses) {
  Dirty(2);
  int asked = 0;
  // Every slice is held once: each pass pauses, so only max_passes ends it.
  EXPECT_TRUE(WriteBackPaced(fd_, Pace(), [&] { return ++asked % 2 == 1; }));
  EXPECT_EQ(asked, Pace().max_passes * 2 * 2);
}

TEST_F(PacedWritebackTest, AnEmptyFileNeedsNoSlice) {
  int asked = 0;
  EXPECT_TRUE(WriteBackPaced(fd_, Pace(), [&] { return ++asked > 100; }));
  EXPECT_EQ(asked, 0);
}

TEST_F(PacedWritebackTest, ARefusedFdIsReported) {
  EXPECT_FALSE(WriteBackPaced(-1, Pace(), {}));
  EXPECT_EQ(errno, EBADF);
  // A pipe is not a file the kernel writes back.
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  EXPECT_FALSE(WriteBackPaced(p[0], Pace(), {}));
  close(p[0]);
  close(p[1]);
}

}  // namespace
}  // namespace kvfs::store
