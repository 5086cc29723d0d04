// What the wire carries: an object applied from a peer is not echoed back to it
// (SKIP moves the peer's cursor instead), a later local change or a relay still goes
// out, and small files travel in compressed BATCH frames within 1.1x of their bytes.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "crypto/store_key.h"
#include "sync/peer_manager.h"
#include "sync/peer_status.h"
#include "sync/session.h"
#include "sync/sync_round.h"
#include "sync_test_util.h"

namespace kvfs::sync {
namespace {

using namespace std::chrono_literals;
using testing::ReadFile;
using testing::Snapshot;
using testing::WaitUntil;
using testing::WriteFile;

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

class WireEfficiencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = crypto::GenerateStoreKey();
    a_ = testing::MakeStore(dir_.path() + "/a");
    b_ = testing::MakeStore(dir_.path() + "/b");
    ASSERT_TRUE(a_ && b_);
    SyncServiceOptions opts;
    opts.listen = "127.0.0.1:0";
    b_service_ = std::make_unique<SyncService>(*b_, key_, opts);
    ASSERT_TRUE(b_service_->Start().ok());
    b_address_ = "127.0.0.1:" + std::to_string(b_service_->listen_port());
  }

  Result<SyncRoundResult> SyncA() {
    SyncRoundOptions opts;
    opts.timeout = 60s;
    return SyncOnce(*a_, key_, b_address_, opts);
  }

  PeerStatus StatusOnA() {
    std::vector<PeerStatus> peers;
    EXPECT_TRUE(a_->View([&](store::ReadTxn& t) -> Status {
                    KVFS_ASSIGN_OR_RETURN(peers, ReadPeerStatus(t));
                    return Status::Ok();
                  }).ok());
    EXPECT_EQ(peers.size(), 1u);
    return peers.empty() ? PeerStatus{} : peers[0];
  }

  testing::Scratch dir_;
  crypto::StoreKey key_;
  std::unique_ptr<store::Store> a_, b_;
  std::unique_ptr<SyncService> b_service_;
  std::string b_address_;
};

TEST_F(WireEfficiencyTest, AppliedObjectsAreNotEchoedBack) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(WriteFile(*a_, "dir/f" + std::to_string(i), "content " + std::to_string(i)).ok());
  }
  auto round = SyncA();
  ASSERT_TRUE(round.ok()) << round.status().message();
  EXPECT_GE(round->counts.objects_sent, 51u);
  // B had nothing of its own: everything it could send back is an echo.
  EXPECT_EQ(round->counts.objects_received, 0u);
  EXPECT_EQ(Snapshot(*a_), Snapshot(*b_));
  // The SKIP moved A's cursor over B's echo entries: nothing pending either way.
  const PeerStatus status = StatusOnA();
  EXPECT_EQ(status.pending_in, 0u);
  EXPECT_EQ(status.pending_out, 0u);

  // A later change on B is not an echo: it goes to A.
  ASSERT_TRUE(WriteFile(*b_, "dir/f7", "changed on b").ok());
  auto second = SyncA();
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->counts.objects_received, 1u);
  EXPECT_EQ(ReadFile(*a_, "dir/f7").value(), "changed on b");
  EXPECT_EQ(Snapshot(*a_), Snapshot(*b_));
}

TEST_F(WireEfficiencyTest, AMergeThatKeptLocalStateIsSentBack) {
  // Concurrent edits: B's merge makes a conflict copy A does not have yet.
  ASSERT_TRUE(WriteFile(*a_, "same", "from a").ok());
  ASSERT_TRUE(WriteFile(*b_, "same", "from b").ok());
  auto round = SyncA();
  ASSERT_TRUE(round.ok()) << round.status().message();
  EXPECT_GE(round->counts.objects_received, 1u);
  EXPECT_EQ(Snapshot(*a_), Snapshot(*b_));
}

TEST_F(WireEfficiencyTest, RelayedObjectsStillReachTheThirdStore) {
  // A -> B (one round), then C syncs with B alone: B must relay A's objects to C even
  // though it did not echo them to A.
  ASSERT_TRUE(WriteFile(*a_, "relay/x", "from a").ok());
  ASSERT_TRUE(SyncA().ok());
  auto c = testing::MakeStore(dir_.path() + "/c");
  ASSERT_TRUE(c);
  SyncRoundOptions opts;
  opts.timeout = 60s;
  auto round = SyncOnce(*c, key_, b_address_, opts);
  ASSERT_TRUE(round.ok()) << round.status().message();
  EXPECT_EQ(ReadFile(*c, "relay/x").value(), "from a");
  EXPECT_EQ(Snapshot(*c), Snapshot(*a_));
}

TEST_F(WireEfficiencyTest, SmallFilesTravelInBatchesWithinTenPercent) {
  constexpr int kFiles = 500;
  constexpr size_t kSize = 1024;
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_TRUE(
        WriteFile(*a_, "d" + std::to_string(i % 10) + "/f" + std::to_string(i), Random(kSize, i))
            .ok());
  }
  auto round = SyncA();
  ASSERT_TRUE(round.ok()) << round.status().message();
  const uint64_t payload = kFiles * kSize;
  const uint64_t wire = round->counts.bytes_sent + round->counts.bytes_received;
  EXPECT_LT(wire, payload * 11 / 10) << "wire " << wire << " for payload " << payload;
  // Far fewer frames than objects.
  EXPECT_LT(round->counts.frames_sent * 10, round->counts.objects_sent);
  EXPECT_EQ(Snapshot(*a_), Snapshot(*b_));
}

}  // namespace
}  // namespace kvfs::sync
