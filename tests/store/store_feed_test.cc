// The change feed (one entry per object, newest last) and per-object version vectors.
#include <gtest/gtest.h>

#include <set>

#include "store/txn.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

using testing::StoreFixture;
using StoreFeedTest = StoreFixture;

std::vector<Ino> FeedInos(const std::vector<Change>& feed) {
  std::vector<Ino> inos;
  for (const Change& c : feed) inos.push_back(c.ino);
  return inos;
}

uint64_t Counter(const Inode& n, uint64_t node) {
  for (const VersionSlot& v : n.versions) {
    if (v.node == node) return v.counter;
  }
  return 0;
}

TEST_F(StoreFeedTest, EmptyStoreHasEmptyFeed) {
  KVFS_ASSERT_OK_AND_ASSIGN(auto feed, Feed());
  EXPECT_TRUE(feed.empty());
  Status st = View([](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(uint64_t last, r.LastSeq());
    EXPECT_EQ(last, 0u);
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
}

TEST_F(StoreFeedTest, OneEntryPerObjectNewestLast) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Create(kRootIno, "b"));
  KVFS_ASSERT_OK_AND_ASSIGN(auto feed, Feed());
  // a, then the root (touched by a), b, then the root again: the root moves to the end.
  EXPECT_EQ(FeedInos(feed), (std::vector<Ino>{a.ino, b.ino, kRootIno}));
  ASSERT_TRUE(Write(a.ino, 0, "x").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(feed, Feed());
  EXPECT_EQ(FeedInos(feed), (std::vector<Ino>{b.ino, kRootIno, a.ino}));
  EXPECT_EQ(feed.back().op, ChangeOp::kWrite);
  // seq strictly increases, stamps never go down.
  for (size_t i = 0; i + 1 < feed.size(); ++i) {
    EXPECT_LT(feed[i].seq, feed[i + 1].seq);
    EXPECT_LE(feed[i].stamp, feed[i + 1].stamp);
  }
  // Each feed entry agrees with its object's record.
  for (const Change& c : feed) {
    KVFS_ASSERT_OK_AND_ASSIGN(Inode n, Get(c.ino));
    EXPECT_EQ(n.seq, c.seq);
    EXPECT_EQ(n.stamp, c.stamp);
  }
}

TEST_F(StoreFeedTest, ObjectChangedTwiceAppearsOnceAtTheEnd) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Create(kRootIno, "b"));
  ASSERT_TRUE(Write(a.ino, 0, "1").ok());
  ASSERT_TRUE(Write(b.ino, 0, "1").ok());
  ASSERT_TRUE(Write(a.ino, 1, "2").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(auto feed, Feed());
  EXPECT_EQ(FeedInos(feed), (std::vector<Ino>{kRootIno, b.ino, a.ino}));
  const std::vector<Ino> inos = FeedInos(feed);
  EXPECT_EQ(std::set<Ino>(inos.begin(), inos.end()).size(), feed.size());
}

TEST_F(StoreFeedTest, ChangedTwiceInOneTransactionAppearsOnce) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    KVFS_RETURN_IF_ERROR(w.Write(a.ino, 0, "one").status());
    KVFS_RETURN_IF_ERROR(w.SetXattr(a.ino, "user.x", "y", 0));
    return w.Write(a.ino, 3, "two").status();
  }));
  KVFS_ASSERT_OK_AND_ASSIGN(auto feed, Feed());
  EXPECT_EQ(FeedInos(feed), (std::vector<Ino>{kRootIno, a.ino}));
  EXPECT_EQ(feed.back().op, ChangeOp::kWrite);
}

TEST_F(StoreFeedTest, ChangesSinceReturnsOnlyNewer) {
  ASSERT_TRUE(Create(kRootIno, "a").ok());
  uint64_t mark = 0;
  Status st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(mark, r.LastSeq());
    return Status::Ok();
  });
  KVFS_ASSERT_OK(st);
  EXPECT_GT(mark, 0u);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Create(kRootIno, "b"));
  KVFS_ASSERT_OK_AND_ASSIGN(auto since, Feed(mark));
  EXPECT_EQ(FeedInos(since), (std::vector<Ino>{b.ino, kRootIno}));
  for (const Change& c : since) EXPECT_GT(c.seq, mark);
  st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(auto one, r.ChangesSince(0, 1));
    EXPECT_EQ(one.size(), 1u);
    KVFS_ASSIGN_OR_RETURN(uint64_t last, r.LastSeq());
    KVFS_ASSIGN_OR_RETURN(auto none, r.ChangesSince(last));
    EXPECT_TRUE(none.empty());
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
}

TEST_F(StoreFeedTest, DeletesAreInTheFeed) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  KVFS_ASSERT_OK(Update([](WriteTxn& w) { return w.Unlink(kRootIno, "a").status(); }));
  KVFS_ASSERT_OK_AND_ASSIGN(auto feed, Feed());
  ASSERT_EQ(feed.size(), 2u);
  EXPECT_EQ(feed[0].ino, a.ino);
  EXPECT_EQ(feed[0].op, ChangeOp::kDelete);
  // Purging the tombstone keeps it in the feed, so the delete still propagates.
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Purge(a.ino); }));
  KVFS_ASSERT_OK_AND_ASSIGN(auto after, Feed());
  EXPECT_EQ(FeedInos(after), FeedInos(feed));
}

TEST_F(StoreFeedTest, SeqKeepsGrowingAcrossReopen) {
  ASSERT_TRUE(Create(kRootIno, "a").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(auto before, Feed());
  Reopen();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Create(kRootIno, "b"));
  EXPECT_GT(b.seq, before.back().seq);
  EXPECT_GT(b.ino, before.front().ino);
}

TEST_F(StoreFeedTest, VersionVectorCountsChangesOfThisNode) {
  const uint64_t me = store_->node_id();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  EXPECT_EQ(a.versions, (std::vector<VersionSlot>{{me, 1}}));
  ASSERT_TRUE(Write(a.ino, 0, "x").ok());
  EXPECT_EQ(Counter(*Get(a.ino), me), 2u);
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.SetXattr(a.ino, "user.k", "v", 0); }));
  EXPECT_EQ(Counter(*Get(a.ino), me), 3u);
  ASSERT_TRUE(Truncate(a.ino, 0).ok());
  EXPECT_EQ(Counter(*Get(a.ino), me), 4u);
  ASSERT_TRUE(Rename(kRootIno, "a", kRootIno, "b").ok());
  EXPECT_EQ(Counter(*Get(a.ino), me), 5u);
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Link(a.ino, kRootIno, "c").status(); }));
  EXPECT_EQ(Counter(*Get(a.ino), me), 6u);
  EXPECT_EQ(Get(a.ino)->versions.size(), 1u);
  // The root counts the changes to its entries (3 creates/renames/links so far + 1).
  const uint64_t root_before = Counter(*Get(kRootIno), me);
  ASSERT_TRUE(Create(kRootIno, "d").ok());
  EXPECT_EQ(Counter(*Get(kRootIno), me), root_before + 1);
}

TEST_F(StoreFeedTest, CountUnderCountsLiveObjects) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(d.ino, "f"));
  ASSERT_TRUE(Write(f.ino, 0, "12345").ok());
  ASSERT_TRUE(Create(d.ino, "l", FileType::kSymlink).ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode g, Create(kRootIno, "g"));
  ASSERT_TRUE(Write(g.ino, 0, "12").ok());
  KVFS_ASSERT_OK(Update([](WriteTxn& w) { return w.Unlink(kRootIno, "g").status(); }));
  Status st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(auto c, r.CountUnder(kRootIno));
    EXPECT_EQ(c.files, 1u);
    EXPECT_EQ(c.dirs, 1u);
    EXPECT_EQ(c.symlinks, 1u);
    EXPECT_EQ(c.bytes, 5u);
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
}

// True when `seen` has every version `of` has (a >= b, slot by slot).
bool Covers(const std::vector<VersionSlot>& seen, const std::vector<VersionSlot>& of) {
  for (const VersionSlot& v : of) {
    bool found = false;
    for (const VersionSlot& s : seen) found |= s.node == v.node && s.counter >= v.counter;
    if (!found) return false;
  }
  return true;
}

TEST_F(StoreFeedTest, UnlinkedOpenFileStaysDeletedWhenWrittenTo) {
  // A program writes through an fd whose file was unlinked (a temp file pattern).
  // Those writes are invisible to everyone else; they must not make the delete look
  // as if it had missed an edit, which sync treats as "edit beats delete" and
  // brings the file back on every peer.
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "tmp"));
  ASSERT_TRUE(Write(f.ino, 0, "a").ok());
  KVFS_ASSERT_OK(Update([](WriteTxn& w) { return w.Unlink(kRootIno, "tmp").status(); }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode tomb, Get(f.ino));
  ASSERT_TRUE(tomb.deleted);
  EXPECT_GT(tomb.delete_stamp, tomb.name_stamp);
  EXPECT_TRUE(Covers(tomb.delete_versions, tomb.content_versions));
  ASSERT_TRUE(Write(f.ino, 1, "b").ok());
  ASSERT_TRUE(Truncate(f.ino, 5000).ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode after, Get(f.ino));
  EXPECT_TRUE(after.deleted);
  EXPECT_EQ(after.size, 5000u);
  EXPECT_GT(after.delete_stamp, after.name_stamp);
  EXPECT_TRUE(Covers(after.delete_versions, after.content_versions));
  EXPECT_EQ(Lookup(kRootIno, "tmp").status().code(), Code::kNotFound);
}

TEST_F(StoreFeedTest, DeleteSeesTheContentVersionsBeforeIt) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  ASSERT_TRUE(Write(f.ino, 0, "1").ok());
  ASSERT_TRUE(Write(f.ino, 1, "2").ok());
  KVFS_ASSERT_OK(Update([](WriteTxn& w) { return w.Unlink(kRootIno, "f").status(); }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode tomb, Get(f.ino));
  EXPECT_EQ(tomb.delete_versions, tomb.content_versions);
  EXPECT_EQ(tomb.content_versions, (std::vector<VersionSlot>{{store_->node_id(), 3}}));
  EXPECT_EQ(tomb.delete_stamp, tomb.stamp);
  EXPECT_LT(tomb.name_stamp, tomb.delete_stamp);
}

}  // namespace
}  // namespace kvfs::store
