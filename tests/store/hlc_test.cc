// HLC rules (Kulkarni et al. 2014) as pure functions, and as the store applies them:
// never backwards, even when the wall clock is; one stamp per transaction; persisted.
#include "store/hlc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>

#include "store/store.h"
#include "store/txn.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

using testing::StoreFixture;
constexpr uint64_t kNode = 7;
constexpr uint64_t kOther = 9;
constexpr uint64_t kMax = HlcStamp::kLogicalMask;

TEST(HlcTest, MakePacksPhysicalAndLogical) {
  HlcStamp s = HlcStamp::Make(1234, 56, kNode);
  EXPECT_EQ(s.physical_ms(), 1234u);
  EXPECT_EQ(s.logical(), 56u);
  EXPECT_EQ(s.node, kNode);
  EXPECT_FALSE(s.IsZero());
  EXPECT_TRUE(HlcStamp{}.IsZero());
}

TEST(HlcTest, TickTakesWallClockWhenAhead) {
  HlcStamp last = HlcStamp::Make(1000, 5, kNode);
  HlcStamp s = HlcTick(2000, last, kNode);
  EXPECT_EQ(s.physical_ms(), 2000u);
  EXPECT_EQ(s.logical(), 0u);
  EXPECT_GT(s, last);
}

TEST(HlcTest, TickIsMonotonicWhenWallClockGoesBackwards) {
  HlcStamp last = HlcStamp::Make(5000, 3, kNode);
  HlcStamp s1 = HlcTick(1000, last, kNode);  // clock jumped back 4 s
  EXPECT_GT(s1, last);
  EXPECT_EQ(s1.physical_ms(), 5000u);
  EXPECT_EQ(s1.logical(), 4u);
  HlcStamp s2 = HlcTick(5000, s1, kNode);  // clock equal to the stamp's time
  EXPECT_GT(s2, s1);
  EXPECT_EQ(s2.logical(), 5u);
}

TEST(HlcTest, TickNeverGoesBackwardsUnderRandomClock) {
  const uint64_t seed = testing::TestSeed();
  SCOPED_TRACE(testing::SeedNote(seed));
  std::mt19937_64 rng(seed);
  HlcStamp last;
  for (int i = 0; i < 100000; ++i) {
    const uint64_t now = 1'000'000 + rng() % 100;  // a clock jittering in a 100 ms window
    HlcStamp s = HlcTick(now, last, kNode);
    ASSERT_GT(s, last) << "step " << i;
    ASSERT_GE(s.physical_ms(), now);
    last = s;
  }
}

TEST(HlcTest, LogicalOverflowCarriesIntoPhysical) {
  HlcStamp last = HlcStamp::Make(1000, static_cast<uint32_t>(kMax), kNode);
  HlcStamp s = HlcTick(1000, last, kNode);
  EXPECT_GT(s, last);
  EXPECT_EQ(s.physical_ms(), 1001u);
  EXPECT_EQ(s.logical(), 0u);
  // The borrowed millisecond is then simply the clock: a later tick at 1001 goes on.
  HlcStamp s2 = HlcTick(1001, s, kNode);
  EXPECT_GT(s2, s);
  EXPECT_EQ(s2.physical_ms(), 1001u);
  EXPECT_EQ(s2.logical(), 1u);
}

TEST(HlcTest, ManyTicksInOneMillisecondStayOrdered) {
  HlcStamp last = HlcStamp::Make(1000, 0, kNode);
  for (uint64_t i = 0; i < 3 * (kMax + 1); ++i) {
    HlcStamp s = HlcTick(1000, last, kNode);
    ASSERT_GT(s, last);
    last = s;
  }
  EXPECT_EQ(last.physical_ms(), 1003u);
}

TEST(HlcTest, ReceiveRemoteAhead) {
  HlcStamp last = HlcStamp::Make(1000, 4, kNode);
  HlcStamp remote = HlcStamp::Make(3000, 7, kOther);
  HlcStamp s = HlcReceive(2000, last, remote, kNode);
  EXPECT_GT(s, last);
  EXPECT_GT(s, remote);
  EXPECT_EQ(s.physical_ms(), 3000u);
  EXPECT_EQ(s.logical(), 8u);
  EXPECT_EQ(s.node, kNode);
}

TEST(HlcTest, ReceiveRemoteBehind) {
  HlcStamp last = HlcStamp::Make(3000, 4, kNode);
  HlcStamp remote = HlcStamp::Make(1000, 70, kOther);
  HlcStamp s = HlcReceive(2000, last, remote, kNode);
  EXPECT_GT(s, last);
  EXPECT_GT(s, remote);
  EXPECT_EQ(s.physical_ms(), 3000u);
  EXPECT_EQ(s.logical(), 5u);
}

TEST(HlcTest, ReceiveRemoteEqualTimeTakesLargerLogical) {
  HlcStamp last = HlcStamp::Make(3000, 4, kNode);
  HlcStamp remote = HlcStamp::Make(3000, 9, kOther);
  HlcStamp s = HlcReceive(1000, last, remote, kNode);
  EXPECT_GT(s, last);
  EXPECT_GT(s, remote);
  EXPECT_EQ(s.physical_ms(), 3000u);
  EXPECT_EQ(s.logical(), 10u);
}

TEST(HlcTest, ReceiveWithWallClockAheadOfBoth) {
  HlcStamp last = HlcStamp::Make(3000, 4, kNode);
  HlcStamp remote = HlcStamp::Make(3500, 9, kOther);
  HlcStamp s = HlcReceive(9000, last, remote, kNode);
  EXPECT_EQ(s, HlcStamp::Make(9000, 0, kNode));
}

TEST(HlcTest, ReceiveOverflowCarries) {
  HlcStamp last = HlcStamp::Make(3000, 4, kNode);
  HlcStamp remote = HlcStamp::Make(3000, static_cast<uint32_t>(kMax), kOther);
  HlcStamp s = HlcReceive(1000, last, remote, kNode);
  EXPECT_GT(s, remote);
  EXPECT_EQ(s.physical_ms(), 3001u);
}

TEST(HlcTest, ReceiveIsStrictlyGreaterUnderRandomInput) {
  const uint64_t seed = testing::TestSeed();
  SCOPED_TRACE(testing::SeedNote(seed));
  std::mt19937_64 rng(seed);
  HlcStamp last;
  for (int i = 0; i < 100000; ++i) {
    const uint64_t now = 5000 + rng() % 50;
    HlcStamp remote =
        HlcStamp::Make(5000 + rng() % 50, static_cast<uint32_t>(rng() % (kMax + 1)), rng() % 4);
    HlcStamp s = (rng() % 2) ? HlcReceive(now, last, remote, kNode) : HlcTick(now, last, kNode);
    ASSERT_GT(s, last) << "step " << i;
    last = s;
  }
}

TEST(HlcTest, NodeIdBreaksTiesIntoTotalOrder) {
  HlcStamp a = HlcStamp::Make(1000, 3, 1);
  HlcStamp b = HlcStamp::Make(1000, 3, 2);
  EXPECT_LT(a, b);
  EXPECT_NE(a, b);
  // Any set of stamps sorts one way only: time first, then node.
  std::vector<HlcStamp> stamps = {HlcStamp::Make(2, 0, 5), HlcStamp::Make(1, 9, 7),
                                  HlcStamp::Make(1, 9, 3), HlcStamp::Make(1, 10, 1)};
  std::sort(stamps.begin(), stamps.end());
  EXPECT_EQ(stamps[0], HlcStamp::Make(1, 9, 3));
  EXPECT_EQ(stamps[1], HlcStamp::Make(1, 9, 7));
  EXPECT_EQ(stamps[2], HlcStamp::Make(1, 10, 1));
  EXPECT_EQ(stamps[3], HlcStamp::Make(2, 0, 5));
  for (size_t i = 0; i + 1 < stamps.size(); ++i) EXPECT_LT(stamps[i], stamps[i + 1]);
}

TEST(HlcTest, ToStringIsReadableAndSortable) {
  HlcStamp s = HlcStamp::Make(1'795'367'880'123ull, 5, 0xdeadbeef);
  EXPECT_EQ(s.ToString(), "2026-11-22T17:18:00.123Z/5/00000000deadbeef");
}

// --- The clock as the store applies it ---------------------------------------

class StoreHlcTest : public StoreFixture {
 protected:
  HlcStamp StampOf(Ino ino) {
    auto n = Get(ino);
    EXPECT_TRUE(n.ok()) << n.status().message();
    return n.ok() ? n->stamp : HlcStamp{};
  }
};

TEST_F(StoreHlcTest, StampsUseTheInjectedClockAndNode) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  EXPECT_EQ(f.stamp.physical_ms(), clock_now_);
  EXPECT_EQ(f.stamp.node, store_->node_id());
  EXPECT_EQ(f.oid.node, store_->node_id());
}

TEST_F(StoreHlcTest, MonotonicWhenWallClockGoesBackwards) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  clock_now_ -= 3'600'000;  // an hour back
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Create(kRootIno, "b"));
  EXPECT_GT(b.stamp, a.stamp);
  clock_now_ -= 1;
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a2, Write(a.ino, 0, "x"));
  EXPECT_GT(a2.stamp, b.stamp);
  clock_now_ += 10 * 3'600'000;
  KVFS_ASSERT_OK_AND_ASSIGN(Inode c, Create(kRootIno, "c"));
  EXPECT_GT(c.stamp, a2.stamp);
  EXPECT_EQ(c.stamp.physical_ms(), clock_now_);
}

TEST_F(StoreHlcTest, StampPersistsAcrossReopen) {
  clock_now_ = 4'000'000'000'000;  // year 2096
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  clock_now_ = 1'000'000'000'000;  // back to 2001, as after a dead RTC battery
  Reopen();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Create(kRootIno, "b"));
  EXPECT_GT(b.stamp, a.stamp);
  EXPECT_EQ(b.stamp.physical_ms(), a.stamp.physical_ms());
}

TEST_F(StoreHlcTest, OneStampForEveryChangeInATransaction) {
  std::vector<Ino> inos;
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    NewObject dir_spec;
    dir_spec.type = FileType::kDirectory;
    KVFS_ASSIGN_OR_RETURN(Inode d, w.Create(kRootIno, "d", dir_spec));
    KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(d.ino, "f", {}));
    KVFS_ASSIGN_OR_RETURN(Inode g, w.Create(d.ino, "g", {}));
    KVFS_RETURN_IF_ERROR(w.Write(f.ino, 0, std::string(3 * kChunkSize, 'x')).status());
    KVFS_RETURN_IF_ERROR(w.SetXattr(g.ino, "user.k", "v", 0));
    inos = {kRootIno, d.ino, f.ino, g.ino};
    return Status::Ok();
  }));
  const HlcStamp s = StampOf(kRootIno);
  for (Ino ino : inos) EXPECT_EQ(StampOf(ino), s) << "ino " << ino;
  KVFS_ASSERT_OK_AND_ASSIGN(auto feed, Feed());
  ASSERT_EQ(feed.size(), 4u);
  for (const Change& c : feed) EXPECT_EQ(c.stamp, s);
  // A later transaction with the clock standing still gets a later stamp.
  KVFS_ASSERT_OK_AND_ASSIGN(Inode h, Create(kRootIno, "h"));
  EXPECT_GT(h.stamp, s);
}

TEST_F(StoreHlcTest, ManyTransactionsInOneMillisecondGetDistinctStamps) {
  std::set<HlcStamp> seen;
  for (int i = 0; i < 200; ++i) {
    KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f" + std::to_string(i)));
    EXPECT_TRUE(seen.insert(f.stamp).second);
    EXPECT_EQ(f.stamp.physical_ms(), clock_now_);
  }
}

TEST_F(StoreHlcTest, ObservedRemoteStampOrdersLaterLocalChanges) {
  const HlcStamp remote = HlcStamp::Make(clock_now_ + 3'600'000, 7, kOther);  // an hour ahead
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    w.ObserveRemote(remote);
    KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "f", {}));
    EXPECT_GT(f.stamp, remote);
    return Status::Ok();
  }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode g, Create(kRootIno, "g"));
  EXPECT_GT(g.stamp, remote);
}

TEST_F(StoreHlcTest, ObservedRemoteStampAfterAChangeStillMovesTheClock) {
  const HlcStamp remote = HlcStamp::Make(clock_now_ + 3'600'000, 7, kOther);
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    KVFS_RETURN_IF_ERROR(w.Create(kRootIno, "f", {}).status());
    w.ObserveRemote(remote);
    return Status::Ok();
  }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode g, Create(kRootIno, "g"));
  EXPECT_GT(g.stamp, remote);
}

TEST_F(StoreHlcTest, ObservedRemoteStampWithoutALocalChangeIsRemembered) {
  // Sync sees an object it already has: nothing to save, but the clock must still
  // move past the stamp it saw, or a later local edit would lose to it.
  const HlcStamp remote = HlcStamp::Make(clock_now_ + 3'600'000, 7, kOther);
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    w.ObserveRemote(remote);
    return Status::Ok();
  }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode g, Create(kRootIno, "g"));
  EXPECT_GT(g.stamp, remote);
}

}  // namespace
}  // namespace kvfs::store

namespace kvfs::store {
namespace {

TEST(HlcSkewTest, RemoteStampFarInTheFutureDoesNotDragTheClock) {
  char tmpl[] = "/tmp/kvfs-hlcskew-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  ASSERT_TRUE(Store::Create(dir + "/s").ok());
  uint64_t now = 1'800'000'000'000;
  StoreOptions options;
  options.clock_ms = [&] { return now; };
  auto store = Store::Open(dir + "/s", options);
  ASSERT_TRUE(store.ok());
  HlcStamp stamped;
  const HlcStamp far = HlcStamp::Make(now + kMaxClockAheadMs + 1000, 0, 42);
  const HlcStamp near = HlcStamp::Make(now + 5000, 0, 42);
  ASSERT_TRUE((*store)->Update([&](WriteTxn& t) -> Status {
    t.ObserveRemote(far);
    KVFS_ASSIGN_OR_RETURN(stamped, t.Stamp());
    return Status::Ok();
  }).ok());
  EXPECT_LT(stamped.physical_ms(), now + kMaxClockAheadMs);
  ASSERT_TRUE((*store)->Update([&](WriteTxn& t) -> Status {
    t.ObserveRemote(near);
    KVFS_ASSIGN_OR_RETURN(stamped, t.Stamp());
    return Status::Ok();
  }).ok());
  EXPECT_GT(stamped, near);  // a stamp within the bound is followed as usual
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kvfs::store
