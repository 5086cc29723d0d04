#include "fs/unmount.h"

#include <gtest/gtest.h>

namespace kvfs::fs {
namespace {

TEST(ParseMountInfoTest, ReadsMountPointTypeAndSource) {
  const char* text =
      "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
      "90 30 0:50 / /tmp/my\\040mnt rw,nosuid,nodev shared:7 master:1 - fuse.kvfs "
      "/home/u/kv\\040store rw,user_id=0\n"
      "garbage line\n"
      "91 30 0:51 / /x rw - ext4\n";
  auto mounts = ParseMountInfo(text);
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0].mount_point, "/proc");
  EXPECT_EQ(mounts[0].fstype, "proc");
  EXPECT_EQ(mounts[1].mount_point, "/tmp/my mnt");
  EXPECT_EQ(mounts[1].fstype, "fuse.kvfs");
  EXPECT_EQ(mounts[1].source, "/home/u/kv store");
}

TEST(UnmountTest, NotMountedIsNotFound) {
  Status st = Unmount("/definitely/not/a/mount/point");
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_NE(st.message().find("not mounted"), std::string::npos);
}

TEST(UnmountTest, RefusesNonFuseMounts) { EXPECT_EQ(Unmount("/proc").code(), Code::kInvalid); }

}  // namespace
}  // namespace kvfs::fs
