// A peer holding the store key that sends hostile BATCH and SKIP messages: the
// session closes the connection, applies nothing of the frame (a good OBJECT before a
// bad message in the same BATCH included), and the service keeps serving.
#include <gtest/gtest.h>
#include <zstd.h>

#include "base/bytes.h"
#include "crypto/store_key.h"
#include "sync/batch.h"
#include "sync/exchange.h"
#include "sync/peer_manager.h"
#include "sync/sync_round.h"
#include "sync_test_util.h"

namespace kvfs::sync {
namespace {

using namespace std::chrono_literals;
using testing::LastSeq;
using testing::RawPeer;
using testing::ReadFile;
using testing::Snapshot;
using testing::WriteFile;

constexpr uint64_t kFakeNode = 0x0badc0ffee0ddf00ULL;

class HostileBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = crypto::GenerateStoreKey();
    b_ = testing::MakeStore(dir_.path() + "/b");
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

  void Greet(RawPeer& peer) {
    Status st = peer.Connect(service_->listen_port(), key_);
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_TRUE(peer.Send(HelloMsg{kProtocolVersion, kFakeNode, 500}).ok());
    auto hello = peer.Receive();
    ASSERT_TRUE(hello.ok()) << hello.status().message();
    ASSERT_TRUE(std::holds_alternative<HelloMsg>(*hello));
    auto ack = peer.Receive();
    ASSERT_TRUE(ack.ok()) << ack.status().message();
    ASSERT_TRUE(std::holds_alternative<AckMsg>(*ack));
    ASSERT_TRUE(peer.Send(AckMsg{0, 0}).ok());
  }

  // A small real object of another store (its chunks inline).
  OutgoingObject ForeignObject() {
    other_ = testing::MakeStore(dir_.path() + "/other");
    EXPECT_TRUE(WriteFile(*other_, "foreign", "foreign bytes").ok());
    Outbox outbox(*other_);
    auto objects = outbox.Next(0, 100);
    EXPECT_TRUE(objects.ok() && !objects->empty());
    for (const OutgoingObject& o : *objects) {
      if (o.state.type == FileType::kRegular) {
        OutgoingObject file = o;  // its parent is the root, known everywhere
        file.seq = 1;
        return file;
      }
    }
    ADD_FAILURE() << "no file object";
    return OutgoingObject{};
  }

  void ExpectUnchanged() {
    EXPECT_EQ(Snapshot(*b_), before_);
    EXPECT_EQ(LastSeq(*b_), seq_before_);
  }

  void ExpectStillServing() {
    auto a = testing::MakeStore(dir_.path() + "/a");
    ASSERT_TRUE(a);
    SyncRoundOptions opts;
    opts.timeout = 30s;
    auto round = SyncOnce(*a, key_, "127.0.0.1:" + std::to_string(service_->listen_port()), opts);
    ASSERT_TRUE(round.ok()) << round.status().message();
    EXPECT_EQ(ReadFile(*a, "keep/me").value(), "b's data");
  }

  static std::string BatchOf(const std::vector<std::string>& encoded) {
    ByteWriter raw;
    for (const std::string& m : encoded) raw.Bytes(m);
    return EncodeBatch(raw.Take()).value();
  }

  testing::Scratch dir_;
  crypto::StoreKey key_;
  std::unique_ptr<store::Store> b_, other_;
  std::unique_ptr<SyncService> service_;
  testing::Tree before_;
  uint64_t seq_before_ = 0;
};

TEST_F(HostileBatchTest, AGoodBatchIsApplied) {
  RawPeer peer;
  Greet(peer);
  const OutgoingObject obj = ForeignObject();
  ASSERT_TRUE(peer.SendPlain(BatchOf({EncodeMessage(ObjectMsg{obj}), EncodeMessage(PingMsg{})}))
                  .ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return ReadFile(*b_, "foreign").ok(); }));
  EXPECT_EQ(ReadFile(*b_, "foreign").value(), "foreign bytes");
}

TEST_F(HostileBatchTest, BadMessageAfterAGoodObjectAppliesNothingOfTheFrame) {
  RawPeer peer;
  Greet(peer);
  const OutgoingObject obj = ForeignObject();
  ASSERT_TRUE(peer.SendPlain(BatchOf({EncodeMessage(ObjectMsg{obj}), std::string("\x06\x01", 2)}))
                  .ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
  ExpectStillServing();
}

TEST_F(HostileBatchTest, ZipBombCloses) {
  RawPeer peer;
  Greet(peer);
  // 64 MiB of zeros declared as such: over the limit, refused before allocating.
  const size_t huge = size_t{64} << 20;
  std::string zeros(huge, '\0');
  std::string z(ZSTD_compressBound(huge), '\0');
  const size_t n = ZSTD_compress(z.data(), z.size(), zeros.data(), zeros.size(), 1);
  ASSERT_FALSE(ZSTD_isError(n));
  z.resize(n);
  ByteWriter w;
  w.U8(static_cast<uint8_t>(MessageType::kBatch));
  w.U32(static_cast<uint32_t>(huge));
  w.Raw(z);
  ASSERT_TRUE(peer.SendPlain(w.Take()).ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
  ExpectStillServing();
}

TEST_F(HostileBatchTest, NestedBatchCloses) {
  RawPeer peer;
  Greet(peer);
  const std::string inner = BatchOf({EncodeMessage(PingMsg{}), EncodeMessage(PingMsg{})});
  ASSERT_TRUE(peer.SendPlain(BatchOf({EncodeMessage(PingMsg{}), inner})).ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
  ExpectStillServing();
}

TEST_F(HostileBatchTest, SkipMovesTheCursorAndIsAcked) {
  RawPeer peer;
  Greet(peer);
  ASSERT_TRUE(peer.Send(SkipMsg{400}).ok());
  bool acked = false;
  for (int i = 0; i < 20 && !acked; ++i) {
    auto m = peer.Receive();
    ASSERT_TRUE(m.ok()) << m.status().message();
    if (const auto* ack = std::get_if<AckMsg>(&*m)) acked = ack->cursor == 400;
  }
  EXPECT_TRUE(acked);
  ExpectUnchanged();
}

TEST_F(HostileBatchTest, SkipBackwardsCloses) {
  RawPeer peer;
  Greet(peer);
  ASSERT_TRUE(peer.Send(SkipMsg{400}).ok());
  ASSERT_TRUE(peer.Send(SkipMsg{300}).ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectStillServing();
}

TEST_F(HostileBatchTest, OldProtocolVersionIsRefusedWithAnUpgradeHint) {
  RawPeer peer;
  Status st = peer.Connect(service_->listen_port(), key_);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_TRUE(peer.Send(HelloMsg{1, kFakeNode, 0}).ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
}

}  // namespace
}  // namespace kvfs::sync
