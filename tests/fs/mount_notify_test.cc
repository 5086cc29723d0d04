#include "fs/mount_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

namespace kvfs::fs {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class MountNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvfs-notify-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(mkdir(MountRunDir(dir_).c_str(), 0700), 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
};

// A daemon stand-in that answers `count` nudges (or never, when !ack).
std::thread Serve(int listen_fd, int count, bool ack, std::atomic<int>* served) {
  return std::thread([=] {
    for (int i = 0; i < count; ++i) {
      int fd = -1;
      for (auto until = Clock::now() + 5s; fd < 0 && Clock::now() < until;) {
        fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) std::this_thread::sleep_for(5ms);
      }
      if (fd < 0) return;
      char nudge = 0;
      if (recv(fd, &nudge, 1, 0) == 1 && nudge == kNudgeByte) ++*served;
      if (ack) {
        send(fd, &kAckByte, 1, MSG_NOSIGNAL);
      } else {
        std::this_thread::sleep_for(500ms);
      }
      close(fd);
    }
  });
}

TEST_F(MountNotifyTest, NudgesEveryMountAndWaitsForItsAck) {
  // The socket names carry live pids (ours and our parent's) so they are not stale.
  const int a = ListenUnixSocket(MountSocketPath(dir_, getppid()), 4);
  ASSERT_GE(a, 0);
  struct stat st;
  ASSERT_EQ(stat(MountSocketPath(dir_, getppid()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::atomic<int> served{0};
  std::thread server = Serve(a, 1, true, &served);
  NotifyMounts(dir_, 2s);
  server.join();
  EXPECT_EQ(served, 1);
  close(a);
}

TEST_F(MountNotifyTest, NoRunDirectoryIsFine) {
  std::filesystem::remove_all(MountRunDir(dir_));
  NotifyMounts(dir_, 100ms);
}

TEST_F(MountNotifyTest, RemovesSocketsOfDeadDaemons) {
  // A pid that cannot exist (above pid_max) stands for a daemon killed with -9.
  const std::string path = MountRunDir(dir_) + "/mount-2147483646.sock";
  const int fd = ListenUnixSocket(path, 1);
  ASSERT_GE(fd, 0);
  close(fd);  // the socket file stays; connecting is refused
  NotifyMounts(dir_, 500ms);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(MountNotifyTest, ASilentDaemonCostsAtMostTheTimeout) {
  const int a = ListenUnixSocket(MountSocketPath(dir_, getppid()), 4);
  ASSERT_GE(a, 0);
  std::atomic<int> served{0};
  std::thread server = Serve(a, 1, false, &served);
  const auto start = Clock::now();
  NotifyMounts(dir_, 200ms);
  EXPECT_LT(Clock::now() - start, 450ms);
  server.join();
  close(a);
}

TEST_F(MountNotifyTest, LongPathsWorkThroughProc) {
  std::string deep = dir_;
  while (deep.size() < 200) {
    deep += "/a-rather-long-directory-name";
    ASSERT_EQ(mkdir(deep.c_str(), 0700), 0);
  }
  ASSERT_EQ(mkdir(MountRunDir(deep).c_str(), 0700), 0);
  const int a = ListenUnixSocket(MountSocketPath(deep, getppid()), 4);
  ASSERT_GE(a, 0) << strerror(errno);
  std::atomic<int> served{0};
  std::thread server = Serve(a, 1, true, &served);
  NotifyMounts(deep, 2s);
  server.join();
  EXPECT_EQ(served, 1);
  close(a);
}

}  // namespace
}  // namespace kvfs::fs
