// AsyncWrite (store/async_write.h): a direct write started now and waited for later.
#include "store/async_write.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/scoped_fd.h"
#include "store/redo_log.h"  // AlignedBytes
#include "store_test_util.h"

namespace kvfs::store {
namespace {

constexpr size_t kPage = 4096;

AlignedBytes AlignedPage(char fill) {
  AlignedBytes page(static_cast<char*>(std::aligned_alloc(kPage, kPage)), &std::free);
  std::memset(page.get(), fill, kPage);
  return page;
}

class AsyncWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.Sub("log");
    fd_ = ScopedFd(open(path_.c_str(), O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0600));
    if (fd_.get() < 0) GTEST_SKIP() << "no O_DIRECT here: " << std::strerror(errno);
    ASSERT_EQ(ftruncate(fd_.get(), 4 * kPage), 0);
  }
  // The file's page `n`, read through the page cache.
  std::string PageOnFile(int n) const {
    ScopedFd fd(open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    std::string out(kPage, '\0');
    EXPECT_EQ(pread(fd.get(), out.data(), kPage, n * static_cast<off_t>(kPage)),
              static_cast<ssize_t>(kPage));
    return out;
  }

  testing::TempDir dir_;
  std::string path_;
  ScopedFd fd_;
};

TEST_F(AsyncWriteTest, AStartedWriteIsOnTheFileOnceWaitedFor) {
  AsyncWrite w;
  AlignedBytes page = AlignedPage('a');
  ASSERT_TRUE(w.Start(fd_.get(), page.get(), kPage, kPage));
  EXPECT_TRUE(w.pending());
  ASSERT_TRUE(w.Wait());
  EXPECT_FALSE(w.pending());
  EXPECT_EQ(PageOnFile(1), std::string(kPage, 'a'));
}

TEST_F(AsyncWriteTest, OneWriteAtATime) {
  AsyncWrite w;
  AlignedBytes first = AlignedPage('b'), second = AlignedPage('c');
  ASSERT_TRUE(w.Start(fd_.get(), first.get(), kPage, 2 * kPage));
  EXPECT_FALSE(w.Start(fd_.get(), second.get(), kPage, 3 * kPage));
  EXPECT_EQ(errno, EBUSY);
  ASSERT_TRUE(w.Wait());
  ASSERT_TRUE(w.Start(fd_.get(), second.get(), kPage, 3 * kPage));
  ASSERT_TRUE(w.Wait());
  EXPECT_EQ(PageOnFile(2), std::string(kPage, 'b'));
  EXPECT_EQ(PageOnFile(3), std::string(kPage, 'c'));
}

TEST_F(AsyncWriteTest, AFailedWriteIsReported) {
  AsyncWrite w;
  AlignedBytes page = AlignedPage('d');
  // An O_DIRECT write at an unaligned offset fails (EINVAL), at submission or after.
  if (!w.Start(fd_.get(), page.get(), kPage, 1)) {
    EXPECT_EQ(errno, EINVAL);
    return;
  }
  EXPECT_FALSE(w.Wait());
  EXPECT_EQ(errno, EINVAL);
  EXPECT_FALSE(w.pending());
}

}  // namespace
}  // namespace kvfs::store
