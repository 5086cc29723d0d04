// FsConfigFor: what the mount options decide of the daemon's settings.
#include <gtest/gtest.h>

#include "fs/filesystem.h"

namespace kvfs::fs {
namespace {

TEST(FsConfigForTest, ALocalMountCachesNegativeEntries) {
  const FsConfig c = FsConfigFor(FsConfig{}, MountOptions{});
  EXPECT_EQ(c.negative_timeout, 1.0);
  EXPECT_EQ(c.entry_timeout, 5.0);
  EXPECT_FALSE(c.read_only || c.writeback_cache);
  EXPECT_EQ(c.readdir_attrs, ReaddirAttrs::kDirectories);
}

TEST(FsConfigForTest, AMountThatSyncsCachesNoNegativeEntries) {
  MountOptions with_peer;
  with_peer.peers = {"127.0.0.1:7420"};
  EXPECT_EQ(FsConfigFor(FsConfig{}, with_peer).negative_timeout, 0.0);
  MountOptions listening;
  listening.listen = "127.0.0.1:7420";
  const FsConfig c = FsConfigFor(FsConfig{}, listening);
  EXPECT_EQ(c.negative_timeout, 0.0);
  EXPECT_EQ(c.entry_timeout, 5.0);  // positive entries are still cached
}

TEST(FsConfigForTest, OptionsReachTheConfig) {
  MountOptions o;
  ASSERT_TRUE(ParseMountOptions("ro,writeback_cache,readdirplus", &o).ok());
  FsConfig base;
  base.attr_timeout = 2.5;
  const FsConfig c = FsConfigFor(base, o);
  EXPECT_TRUE(c.read_only);
  EXPECT_TRUE(c.writeback_cache);
  EXPECT_EQ(c.readdir_attrs, ReaddirAttrs::kAll);
  EXPECT_EQ(c.attr_timeout, 2.5);  // the rest is the base's
}

}  // namespace
}  // namespace kvfs::fs
