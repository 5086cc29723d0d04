#include "fs/stale_listings.h"

#include <gtest/gtest.h>

#include <vector>

namespace kvfs::fs {
namespace {

using Links = std::vector<store::Link>;
using Dirs = std::unordered_set<store::Ino>;

TEST(StaleListingsTest, AContentChangeLeavesEveryListingAlone) {
  StaleListings s;
  s.Note(Links{{1, "f"}}, Links{{1, "f"}}, Links{}, /*may_have_moved_unseen=*/false);
  EXPECT_FALSE(s.all());
  EXPECT_TRUE(s.dirs().empty());
}

TEST(StaleListingsTest, ANewNameMarksItsDirectory) {
  // A conflict copy merged into directory 7: the kernel was told of no name of it.
  StaleListings s;
  s.Note(Links{}, Links{{7, "f.sync-conflict-x"}}, Links{}, false);
  EXPECT_EQ(s.dirs(), (Dirs{7}));
  EXPECT_FALSE(s.all());
}

TEST(StaleListingsTest, AMoveMarksBothDirectories) {
  StaleListings s;
  s.Note(Links{{3, "a"}}, Links{{4, "b"}}, Links{}, false);
  EXPECT_EQ(s.dirs(), (Dirs{3, 4}));
}

TEST(StaleListingsTest, ADeleteMarksTheDirectoryOfItsLastName) {
  // The kernel listed the file but never looked it up: only the tombstone's last
  // name says where it was.
  StaleListings s;
  s.Note(Links{}, Links{}, Links{{5, "gone"}}, false);
  EXPECT_EQ(s.dirs(), (Dirs{5}));
}

TEST(StaleListingsTest, AnUnseenMoveMakesEveryListingSuspect) {
  StaleListings s;
  s.Note(Links{}, Links{{4, "b"}}, Links{}, /*may_have_moved_unseen=*/true);
  EXPECT_TRUE(s.all());
  s.Note(Links{{1, "f"}}, Links{{1, "f"}}, Links{}, false);
  EXPECT_TRUE(s.all());  // stays so for the batch
}

TEST(StaleListingsTest, MergeKeepsTheSuspectsOfBoth) {
  StaleListings a, b;
  EXPECT_TRUE(a.empty());
  a.Note(Links{}, Links{{7, "x"}}, Links{}, false);
  b.Note(Links{{3, "a"}}, Links{}, Links{}, false);
  a.Merge(b);
  EXPECT_EQ(a.dirs(), (Dirs{3, 7}));
  EXPECT_FALSE(a.all());
  StaleListings c;
  c.Note(Links{}, Links{{4, "b"}}, Links{}, true);
  a.Merge(c);
  EXPECT_TRUE(a.all());
  EXPECT_FALSE(a.empty());
}

}  // namespace
}  // namespace kvfs::fs
