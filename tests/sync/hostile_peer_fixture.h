#pragma once
// The fixture of the hostile-peer tests: a real sync service B on 127.0.0.1 over a
// store holding one file, a raw peer that greets it as a well-behaved peer would, and
// the checks every case ends with (B unchanged, B still serving a good peer).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "crypto/store_key.h"
#include "sync/exchange.h"
#include "sync/peer_manager.h"
#include "sync/sync_round.h"
#include "sync_test_util.h"

namespace kvfs::sync::testing {

inline constexpr uint64_t kFakeNode = 0x1234567890abcdefULL;

class HostilePeerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    using namespace std::chrono_literals;
    key_ = crypto::GenerateStoreKey();
    b_ = MakeStore(dir_.path() + "/b");
    ASSERT_TRUE(b_);
    ASSERT_TRUE(WriteFile(*b_, "keep/me", "b's data").ok());
    SyncServiceOptions opts;
    opts.listen = "127.0.0.1:0";
    opts.session.idle_timeout = 800ms;
    opts.session.handshake_timeout = 800ms;
    service_ = std::make_unique<SyncService>(*b_, key_, opts);
    ASSERT_TRUE(service_->Start().ok());
    before_ = Snapshot(*b_);
    seq_before_ = LastSeq(*b_);
  }

  // Handshake, then HELLO (claiming `last_seq`) and ACK as a well-behaved peer would.
  void Greet(RawPeer& peer, uint64_t last_seq = 5) {
    Status st = peer.Connect(service_->listen_port(), key_);
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_TRUE(peer.Send(HelloMsg{kProtocolVersion, kFakeNode, last_seq}).ok());
    auto hello = peer.Receive();
    ASSERT_TRUE(hello.ok()) << hello.status().message();
    ASSERT_TRUE(std::holds_alternative<HelloMsg>(*hello));
    EXPECT_EQ(std::get<HelloMsg>(*hello).node, b_->node_id());
    auto ack = peer.Receive();
    ASSERT_TRUE(ack.ok()) << ack.status().message();
    ASSERT_TRUE(std::holds_alternative<AckMsg>(*ack));
    EXPECT_EQ(std::get<AckMsg>(*ack).cursor, 0u);  // B has applied nothing of ours yet
    ASSERT_TRUE(peer.Send(AckMsg{0, 0}).ok());
  }

  void ExpectUnchanged() {
    EXPECT_EQ(Snapshot(*b_), before_);
    EXPECT_EQ(LastSeq(*b_), seq_before_);
  }

  // The service still serves a good peer afterwards.
  void ExpectStillServing() {
    using namespace std::chrono_literals;
    auto a = MakeStore(dir_.path() + "/a");
    ASSERT_TRUE(a);
    SyncRoundOptions opts;
    opts.timeout = 30s;
    auto round = SyncOnce(*a, key_, "127.0.0.1:" + std::to_string(service_->listen_port()), opts);
    ASSERT_TRUE(round.ok()) << round.status().message();
    EXPECT_EQ(ReadFile(*a, "keep/me").value(), "b's data");
  }

  // The objects of another store holding one file "foreign", as its Outbox sends them.
  std::vector<OutgoingObject> ForeignObjects(const std::string& content) {
    auto other = MakeStore(dir_.path() + "/other" + std::to_string(others_.size()));
    EXPECT_TRUE(WriteFile(*other, "foreign", content).ok());
    Outbox outbox(*other);
    auto objects = outbox.Next(0, 100);
    EXPECT_TRUE(objects.ok());
    others_.push_back(std::move(other));
    return objects.ok() ? *objects : std::vector<OutgoingObject>{};
  }

  Scratch dir_;
  crypto::StoreKey key_;
  std::unique_ptr<store::Store> b_;
  std::unique_ptr<SyncService> service_;
  Tree before_;
  uint64_t seq_before_ = 0;
  std::vector<std::unique_ptr<store::Store>> others_;
};

}  // namespace kvfs::sync::testing
