// A peer that holds the store key but misbehaves: silent, malformed, out of order,
// answering what was never asked. The session closes the connection, applies nothing
// of the bad message, and the service keeps serving.
#include <gtest/gtest.h>

#include "crypto/store_key.h"
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

class HostilePeerTest : public testing::HostilePeerFixture {
 protected:
  // The next WANT from B (B also streams its own objects to us meanwhile).
  static WantMsg NextWant(RawPeer& peer) {
    for (int i = 0; i < 20; ++i) {
      auto m = peer.Receive();
      EXPECT_TRUE(m.ok()) << m.status().message();
      if (!m.ok()) break;
      if (const auto* w = std::get_if<WantMsg>(&*m)) return *w;
    }
    ADD_FAILURE() << "no WANT";
    return WantMsg{};
  }
};

TEST_F(HostilePeerTest, SilentAfterHandshakeIsDroppedAtTheTimeout) {
  RawPeer peer;
  ASSERT_TRUE(peer.Connect(service_->listen_port(), key_).ok());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(peer.WaitClosed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  ExpectUnchanged();
}

TEST_F(HostilePeerTest, SilentWhileStreamingIsDroppedAtTheIdleTimeout) {
  RawPeer peer;
  Greet(peer);
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
  ExpectStillServing();
}

TEST_F(HostilePeerTest, MalformedMessageClosesAndAppliesNothing) {
  RawPeer peer;
  Greet(peer);
  ASSERT_TRUE(peer.SendPlain(std::string("\x02") + std::string(40, '\x7f')).ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
  ExpectStillServing();
}

TEST_F(HostilePeerTest, UnknownMessageTypeCloses) {
  RawPeer peer;
  Greet(peer);
  ASSERT_TRUE(peer.SendPlain("\x63hello").ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
}

TEST_F(HostilePeerTest, WrongProtocolVersionIsRefused) {
  RawPeer peer;
  ASSERT_TRUE(peer.Connect(service_->listen_port(), key_).ok());
  ASSERT_TRUE(peer.Send(HelloMsg{99, kFakeNode, 0}).ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
}

TEST_F(HostilePeerTest, ObjectBeforeHelloCloses) {
  RawPeer peer;
  ASSERT_TRUE(peer.Connect(service_->listen_port(), key_).ok());
  auto objects = ForeignObjects("x");
  ASSERT_FALSE(objects.empty());
  ASSERT_TRUE(peer.Send(ObjectMsg{objects.back()}).ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
}

TEST_F(HostilePeerTest, SecondHelloCloses) {
  RawPeer peer;
  Greet(peer);
  ASSERT_TRUE(peer.Send(HelloMsg{kProtocolVersion, kFakeNode, 5}).ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
}

TEST_F(HostilePeerTest, ChunkNobodyAskedForCloses) {
  RawPeer peer;
  Greet(peer);
  ASSERT_TRUE(peer.Send(ChunkMsg{ObjectId{kFakeNode, 9}, 0, HlcStamp{1, kFakeNode}, "zz"}).ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
}

TEST_F(HostilePeerTest, WantForSomethingNeverOfferedCloses) {
  RawPeer peer;
  Greet(peer);
  ASSERT_TRUE(peer.Send(WantMsg{ObjectId{1, 2}, 3, false, {0}}).ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
}

TEST_F(HostilePeerTest, RepeatedObjectSeqCloses) {
  RawPeer peer;
  Greet(peer);
  auto objects = ForeignObjects("inline bytes");
  ASSERT_FALSE(objects.empty());
  const OutgoingObject& file = objects.back();  // the file, after the root
  ASSERT_FALSE(NeedsWant(file));
  ASSERT_TRUE(peer.Send(ObjectMsg{file}).ok());
  ASSERT_TRUE(peer.Send(ObjectMsg{file}).ok());  // same seq again: not allowed
  EXPECT_TRUE(peer.WaitClosed());
  // The first one was a complete, valid object: it was applied, atomically.
  EXPECT_EQ(ReadFile(*b_, "foreign").value(), "inline bytes");
}

TEST_F(HostilePeerTest, ChunkWithAnotherStampThanAnnouncedCloses) {
  RawPeer peer;
  Greet(peer);
  auto objects = ForeignObjects(testing::Pattern(300000, 4));  // over the inline limit
  ASSERT_FALSE(objects.empty());
  const OutgoingObject& file = objects.back();
  ASSERT_TRUE(NeedsWant(file));
  ASSERT_TRUE(peer.Send(ObjectMsg{file}).ok());
  const WantMsg w = NextWant(peer);
  ASSERT_FALSE(w.indexes.empty());
  ChunkMsg forged{file.state.oid, w.indexes[0], HlcStamp{1, 1}, std::string(1000, 'f')};
  ASSERT_TRUE(peer.Send(forged).ok());
  EXPECT_TRUE(peer.WaitClosed());
  ExpectUnchanged();
}

TEST_F(HostilePeerTest, ChunkGoneSkipsTheObjectAndMovesTheCursor) {
  RawPeer peer;
  Greet(peer);
  auto objects = ForeignObjects(testing::Pattern(300000, 6));
  const OutgoingObject& file = objects.back();
  ASSERT_TRUE(peer.Send(ObjectMsg{file}).ok());
  const WantMsg w = NextWant(peer);
  ASSERT_FALSE(w.indexes.empty());
  ASSERT_TRUE(peer.Send(ChunkGoneMsg{file.state.oid, w.indexes[0]}).ok());
  // B answers with an ACK whose cursor is past the skipped object.
  bool acked = false;
  for (int i = 0; i < 20 && !acked; ++i) {
    auto m = peer.Receive();
    ASSERT_TRUE(m.ok()) << m.status().message();
    if (const auto* ack = std::get_if<AckMsg>(&*m)) acked = ack->cursor == file.seq;
  }
  EXPECT_TRUE(acked);
  EXPECT_FALSE(ReadFile(*b_, "foreign").ok());
  Inbox inbox(*b_, kFakeNode);
  EXPECT_EQ(inbox.Cursor().value(), file.seq);
}

// The CHUNK_GONE path as a sender uses it: the file changed after its OBJECT went
// out, so the sender answers the WANT with CHUNK_GONE and sends the newer version
// later in its feed. The receiver must end with the newer bytes (nothing of the
// skipped version, nothing lost), and its cursor past both.
TEST_F(HostilePeerTest, ChunkGoneThenTheNewerVersionIsApplied) {
  RawPeer peer;
  Greet(peer);
  auto other = testing::MakeStore(dir_.path() + "/changing");
  ASSERT_TRUE(other);
  ASSERT_TRUE(WriteFile(*other, "foreign", testing::Pattern(300000, 6)).ok());
  Outbox outbox(*other);
  auto first = outbox.Next(0, 100);
  ASSERT_TRUE(first.ok() && !first->empty());
  const OutgoingObject old_version = first->back();
  ASSERT_TRUE(NeedsWant(old_version));
  ASSERT_TRUE(peer.Send(ObjectMsg{old_version}).ok());
  const WantMsg w1 = NextWant(peer);
  ASSERT_FALSE(w1.indexes.empty());
  // The file changes at the sender: the announced chunk is gone.
  const std::string newer = testing::Pattern(300000, 7) + "appended while it was sent";
  ASSERT_TRUE(WriteFile(*other, "foreign", newer).ok());
  ASSERT_FALSE(outbox.ReadChunk(old_version.state.oid, w1.indexes[0],
                                old_version.state.chunks[0].stamp)
                   .ok());
  ASSERT_TRUE(peer.Send(ChunkGoneMsg{old_version.state.oid, w1.indexes[0]}).ok());
  auto second = outbox.Next(old_version.seq, 100);
  ASSERT_TRUE(second.ok() && !second->empty());
  const OutgoingObject new_version = second->back();
  ASSERT_EQ(new_version.state.oid, old_version.state.oid);
  ASSERT_GT(new_version.seq, old_version.seq);
  ASSERT_TRUE(peer.Send(ObjectMsg{new_version}).ok());
  for (bool more = true; more;) {
    const WantMsg w = NextWant(peer);
    ASSERT_EQ(w.seq, new_version.seq);
    for (uint64_t index : w.indexes) {
      HlcStamp stamp;
      for (const auto& c : new_version.state.chunks) {
        if (c.index == index) stamp = c.stamp;
      }
      auto data = outbox.ReadChunk(new_version.state.oid, index, stamp);
      ASSERT_TRUE(data.ok()) << data.status().message();
      ASSERT_TRUE(peer.Send(ChunkMsg{new_version.state.oid, index, stamp, *data}).ok());
    }
    more = w.more;
  }
  bool acked = false;
  for (int i = 0; i < 20 && !acked; ++i) {
    auto m = peer.Receive();
    ASSERT_TRUE(m.ok()) << m.status().message();
    if (const auto* ack = std::get_if<AckMsg>(&*m)) acked = ack->cursor == new_version.seq;
  }
  EXPECT_TRUE(acked);
  auto got = ReadFile(*b_, "foreign");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_TRUE(*got == newer) << "B holds " << got->size() << " bytes, want " << newer.size();
  Inbox inbox(*b_, kFakeNode);
  EXPECT_EQ(inbox.Cursor().value(), new_version.seq);
}

}  // namespace
}  // namespace kvfs::sync
