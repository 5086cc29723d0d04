#include "fs/node_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace kvfs::fs {
namespace {

TEST(NodeTableTest, CountsLookupsAndForgets) {
  NodeTable t;
  EXPECT_TRUE(t.Known(store::kRootIno));
  EXPECT_FALSE(t.Known(5));
  t.Remember(5, 1, "a");
  t.Remember(5, 1, "a");
  EXPECT_TRUE(t.Known(5));
  EXPECT_FALSE(t.Forget(5, 1));
  EXPECT_TRUE(t.Known(5));
  EXPECT_FALSE(t.Forget(5, 1));  // not deleted: nothing to purge
  EXPECT_FALSE(t.Known(5));
  EXPECT_EQ(t.size(), 0u);
}

TEST(NodeTableTest, PurgesADeletedNodeWhenTheKernelLetsGo) {
  NodeTable t;
  t.Remember(7, 1, "f");
  t.Open(7);
  EXPECT_FALSE(t.MarkDeleted(7));  // still held
  EXPECT_FALSE(t.Forget(7, 1));    // still open
  EXPECT_TRUE(t.Release(7));       // last holder gone: purge
  EXPECT_EQ(t.size(), 0u);
}

TEST(NodeTableTest, ReleaseBeforeForgetPurgesAtForget) {
  NodeTable t;
  t.Remember(7, 1, "f");
  t.Open(7);
  EXPECT_FALSE(t.MarkDeleted(7));
  EXPECT_FALSE(t.Release(7));
  EXPECT_TRUE(t.Forget(7, 1));
}

TEST(NodeTableTest, UnknownDeletedNodeCanBePurgedAtOnce) {
  NodeTable t;
  EXPECT_TRUE(t.MarkDeleted(9));
}

TEST(NodeTableTest, KeepsNamesWithoutDuplicates) {
  NodeTable t;
  t.Remember(3, 1, "a");
  t.Remember(3, 1, "a");
  t.Remember(3, 2, "b");
  EXPECT_EQ(t.Names(3), (std::vector<store::Link>{{1, "a"}, {2, "b"}}));
  t.DropName(3, 1, "a");
  t.AddName(3, 4, "c");
  EXPECT_EQ(t.Names(3), (std::vector<store::Link>{{2, "b"}, {4, "c"}}));
  t.SetNames(3, {});
  EXPECT_TRUE(t.Names(3).empty());
  t.AddName(8, 1, "x");  // unknown inode: nothing recorded
  EXPECT_TRUE(t.Names(8).empty());
}

TEST(NodeTableTest, BoundsTheNamesOfOneInode) {
  NodeTable t;
  for (int i = 0; i < 100; ++i) t.Remember(3, 1, "n" + std::to_string(i));
  const auto names = t.Names(3);
  EXPECT_LE(names.size(), 16u);
  EXPECT_EQ(names.back().name, "n99");
}

}  // namespace
TEST(NodeTableTest, ListedDirsAreTheHeldDirectoriesTheKernelWasGivenAListingOf) {
  NodeTable t;
  EXPECT_TRUE(t.ListedDirs().empty());
  t.Remember(5, 1, "d");
  t.Remember(6, 1, "e");
  t.Listed(5);
  t.Listed(9);  // not held by the kernel: not recorded
  t.Listed(store::kRootIno);
  std::vector<store::Ino> dirs = t.ListedDirs();
  std::sort(dirs.begin(), dirs.end());
  EXPECT_EQ(dirs, (std::vector<store::Ino>{store::kRootIno, 5}));
  // Forgotten and looked up again: a new inode for the kernel, with nothing cached.
  t.Forget(5, 1);
  t.Remember(5, 1, "d");
  EXPECT_EQ(t.ListedDirs(), (std::vector<store::Ino>{store::kRootIno}));
}

}  // namespace kvfs::fs
