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
#include "hostile_peer_fixture.h"
#include "sync_test_util.h"

namespace kvfs::sync {
namespace {

using namespace std::chrono_literals;
using testing::kFakeNode;
using testing::LastSeq;
using testing::RawPeer;
using testing::ReadFile;
using testing::Snapshot;
using testing::WriteFile;

class HostileBatchTest : public testing::HostilePeerFixture {
 protected:
  void Greet(RawPeer& peer) { HostilePeerFixture::Greet(peer, 500); }

  // A small real object of another store (its chunks inline).
  OutgoingObject ForeignObject() {
    for (const OutgoingObject& o : ForeignObjects("foreign bytes")) {
      if (o.state.type == FileType::kRegular) {
        OutgoingObject file = o;  // its parent is the root, known everywhere
        file.seq = 1;
        return file;
      }
    }
    ADD_FAILURE() << "no file object";
    return OutgoingObject{};
  }

  static std::string BatchOf(const std::vector<std::string>& encoded) {
    ByteWriter raw;
    for (const std::string& m : encoded) raw.Bytes(m);
    return EncodeBatch(raw.Take()).value();
  }
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
