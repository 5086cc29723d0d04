// Stores syncing over real TCP sessions on 127.0.0.1: what one store writes another
// shows, big files move chunk by chunk and only the changed chunks move again, a
// wrong key or a tampered stream changes nothing, a cut transfer resumes, and a chain
// of three stores converges. Every wait is bounded.
#include "sync/session.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "crypto/store_key.h"
#include "sync/conflicts.h"
#include "sync/peer_manager.h"
#include "sync/peer_status.h"
#include "sync/sync_round.h"
#include "sync_test_util.h"

namespace kvfs::sync {
namespace {

using namespace std::chrono_literals;
using testing::LastSeq;
using testing::Pattern;
using testing::ReadFile;
using testing::Snapshot;
using testing::WaitUntil;
using testing::WriteAt;
using testing::WriteFile;

class SyncSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = crypto::GenerateStoreKey();
    a_ = testing::MakeStore(dir_.path() + "/a");
    b_ = testing::MakeStore(dir_.path() + "/b");
    ASSERT_TRUE(a_ && b_);
  }

  // B accepts on an ephemeral port with `key`.
  void ServeB(const crypto::StoreKey& key) {
    SyncServiceOptions opts;
    opts.listen = "127.0.0.1:0";
    opts.on_store_changed = [this] { ++b_changed_; };
    b_service_ = std::make_unique<SyncService>(*b_, key, opts);
    Status st = b_service_->Start();
    ASSERT_TRUE(st.ok()) << st.message();
    b_address_ = "127.0.0.1:" + std::to_string(b_service_->listen_port());
  }
  void ServeB() { ServeB(key_); }

  Result<SyncRoundResult> SyncA(const std::string& address) {
    SyncRoundOptions opts;
    opts.timeout = 60s;
    return SyncOnce(*a_, key_, address, opts);
  }

  testing::Scratch dir_;
  crypto::StoreKey key_;
  std::unique_ptr<store::Store> a_, b_;
  std::atomic<int> b_changed_{0};  // calls of B's on_store_changed
  std::unique_ptr<SyncService> b_service_;
  std::string b_address_;
};

TEST_F(SyncSessionTest, FileWrittenOnAAppearsOnB) {
  ASSERT_TRUE(WriteFile(*a_, "dotfiles/bashrc", "export EDITOR=vim\n").ok());
  ServeB();
  auto round = SyncA(b_address_);
  ASSERT_TRUE(round.ok()) << round.status().message();
  EXPECT_EQ(round->peer_node, b_->node_id());
  EXPECT_GE(round->counts.objects_sent, 2u);  // the directory and the file
  auto got = ReadFile(*b_, "dotfiles/bashrc");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, "export EDITOR=vim\n");
  EXPECT_EQ(Snapshot(*a_), Snapshot(*b_));
}

TEST_F(SyncSessionTest, BothDirectionsInOneRound) {
  ASSERT_TRUE(WriteFile(*a_, "from-a", "A").ok());
  ASSERT_TRUE(WriteFile(*b_, "from-b", "B").ok());
  ServeB();
  auto round = SyncA(b_address_);
  ASSERT_TRUE(round.ok()) << round.status().message();
  EXPECT_EQ(ReadFile(*a_, "from-b").value(), "B");
  EXPECT_EQ(ReadFile(*b_, "from-a").value(), "A");
  EXPECT_EQ(Snapshot(*a_), Snapshot(*b_));

  // A second round has nothing to move.
  auto again = SyncA(b_address_);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->counts.chunk_bytes_sent, 0u);
  EXPECT_EQ(again->counts.objects_changed, 0u);
}

TEST_F(SyncSessionTest, StatusShowsNothingPendingAfterARound) {
  ASSERT_TRUE(WriteFile(*a_, "x", "1").ok());
  ASSERT_TRUE(WriteFile(*b_, "y", "2").ok());
  ServeB();
  ASSERT_TRUE(SyncA(b_address_).ok());
  std::vector<PeerStatus> peers;
  ASSERT_TRUE(a_->View([&](store::ReadTxn& t) -> Status {
                  KVFS_ASSIGN_OR_RETURN(peers, ReadPeerStatus(t));
                  return Status::Ok();
                }).ok());
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].contact.node, b_->node_id());
  EXPECT_EQ(peers[0].contact.address, b_address_);
  EXPECT_FALSE(peers[0].live);
  EXPECT_GT(peers[0].contact.last_contact_ms, 0u);
  EXPECT_EQ(peers[0].pending_out, 0u);
  EXPECT_EQ(peers[0].pending_in, 0u);
}

TEST_F(SyncSessionTest, BigFileMovesInChunksAndAOneByteChangeMovesOneChunk) {
  const std::string big = Pattern(5 << 20, 7);
  ASSERT_TRUE(WriteFile(*a_, "big.bin", big).ok());
  ServeB();
  auto first = SyncA(b_address_);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->counts.chunk_bytes_sent, big.size());
  EXPECT_EQ(first->counts.chunks_sent, big.size() / store::kChunkSize);
  EXPECT_EQ(ReadFile(*b_, "big.bin").value(), big);

  ASSERT_TRUE(WriteAt(*a_, "big.bin", 3'000'000, "!").ok());
  auto second = SyncA(b_address_);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->counts.chunks_sent, 1u);
  EXPECT_LE(second->counts.chunk_bytes_sent, store::kChunkSize);
  std::string expected = big;
  expected[3'000'000] = '!';
  EXPECT_EQ(ReadFile(*b_, "big.bin").value(), expected);
}

TEST_F(SyncSessionTest, WrongStoreKeyIsRefusedAndChangesNothing) {
  ASSERT_TRUE(WriteFile(*a_, "secret", "a's data").ok());
  ASSERT_TRUE(WriteFile(*b_, "other", "b's data").ok());
  const auto a_before = Snapshot(*a_);
  const auto b_before = Snapshot(*b_);
  const uint64_t a_seq = LastSeq(*a_), b_seq = LastSeq(*b_);
  ServeB(crypto::GenerateStoreKey());
  auto round = SyncA(b_address_);
  ASSERT_FALSE(round.ok());
  EXPECT_EQ(round.status().code(), Code::kAccess) << round.status().message();
  EXPECT_NE(round.status().message().find("key"), std::string::npos);
  EXPECT_EQ(Snapshot(*a_), a_before);
  EXPECT_EQ(Snapshot(*b_), b_before);
  EXPECT_EQ(LastSeq(*a_), a_seq);
  EXPECT_EQ(LastSeq(*b_), b_seq);
  for (store::Store* s : {a_.get(), b_.get()}) {
    std::vector<PeerStatus> peers;
    ASSERT_TRUE(s->View([&](store::ReadTxn& t) -> Status {
                   KVFS_ASSIGN_OR_RETURN(peers, ReadPeerStatus(t));
                   return Status::Ok();
                 }).ok());
    EXPECT_TRUE(peers.empty());
  }
}

TEST_F(SyncSessionTest, CutInTheMiddleOfABigTransferResumesAndEndsIdentical) {
  const std::string big = Pattern(5 << 20, 11);
  ASSERT_TRUE(WriteFile(*a_, "video.bin", big).ok());
  ServeB();
  {
    testing::TcpProxy proxy(b_service_->listen_port(), {.cut_after = 2 << 20});
    auto cut = SyncA(proxy.address());
    ASSERT_FALSE(cut.ok());
    EXPECT_TRUE(proxy.faulted());
    EXPECT_FALSE(ReadFile(*b_, "video.bin").ok()) << "a half-received file was applied";
  }
  auto resumed = SyncA(b_address_);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  // The chunks B staged before the cut are not sent again.
  EXPECT_LT(resumed->counts.chunk_bytes_sent, big.size());
  EXPECT_EQ(ReadFile(*b_, "video.bin").value(), big);
  EXPECT_EQ(Snapshot(*a_), Snapshot(*b_));
}

TEST_F(SyncSessionTest, TamperedByteClosesTheConnectionAndAppliesNothing) {
  const std::string big = Pattern(3 << 20, 5);
  ASSERT_TRUE(WriteFile(*a_, "data.bin", big).ok());
  ServeB();
  const uint64_t b_seq = LastSeq(*b_);
  {
    testing::TcpProxy proxy(b_service_->listen_port(), {.flip_at = 1 << 20});
    auto round = SyncA(proxy.address());
    ASSERT_FALSE(round.ok());
    EXPECT_TRUE(proxy.faulted());
  }
  EXPECT_FALSE(ReadFile(*b_, "data.bin").ok());
  // Nothing of A's file was merged (its directory entry and record would bump B's feed).
  auto b_tree = Snapshot(*b_);
  EXPECT_EQ(b_tree.count("data.bin"), 0u);
  (void)b_seq;
  // B keeps serving: a clean round afterwards completes.
  auto clean = SyncA(b_address_);
  ASSERT_TRUE(clean.ok()) << clean.status().message();
  EXPECT_EQ(ReadFile(*b_, "data.bin").value(), big);
}

TEST_F(SyncSessionTest, TamperedHandshakeIsRefused) {
  ASSERT_TRUE(WriteFile(*a_, "f", "x").ok());
  ServeB();
  const auto b_before = Snapshot(*b_);
  testing::TcpProxy proxy(b_service_->listen_port(), {.flip_at = 40});  // inside the hello
  auto round = SyncA(proxy.address());
  ASSERT_FALSE(round.ok());
  EXPECT_EQ(Snapshot(*b_), b_before);
}

TEST_F(SyncSessionTest, GarbageFromANonPeerIsDroppedAndServiceGoesOn) {
  ServeB();
  for (const std::string& junk : {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                                  std::string("\xff\xff\xff\xff", 4), Pattern(100000, 3)}) {
    auto sock = Socket::Connect(ParseHostPort(b_address_).value(), 2s);
    ASSERT_TRUE(sock.ok());
    (void)sock->WriteAll(junk, 2s);
    // B closes the connection: we see the end of the stream, bounded.
    std::string ignored;
    char buf[4096];
    bool closed = false;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto got = sock->ReadSome(buf, sizeof buf, 200ms);
      if (!got.ok() && got.status().code() == Code::kBusy) continue;
      if (!got.ok() || *got == 0) {
        closed = true;
        break;
      }
    }
    EXPECT_TRUE(closed);
  }
  ASSERT_TRUE(WriteFile(*a_, "after", "still works").ok());
  auto round = SyncA(b_address_);
  ASSERT_TRUE(round.ok()) << round.status().message();
  EXPECT_EQ(ReadFile(*b_, "after").value(), "still works");
}

TEST_F(SyncSessionTest, ConcurrentEditsLeaveTheSameConflictCopyOnBoth) {
  ASSERT_TRUE(WriteFile(*a_, "notes", "base").ok());
  ServeB();
  ASSERT_TRUE(SyncA(b_address_).ok());
  ASSERT_TRUE(WriteFile(*a_, "notes", "edited on a").ok());
  ASSERT_TRUE(WriteFile(*b_, "notes", "edited on b").ok());
  ASSERT_TRUE(SyncA(b_address_).ok());
  EXPECT_EQ(Snapshot(*a_), Snapshot(*b_));
  for (store::Store* s : {a_.get(), b_.get()}) {
    std::vector<std::string> conflicts;
    ASSERT_TRUE(s->View([&](store::ReadTxn& t) {
                   return ForEachConflict(t, [&](const std::string& p) {
                     conflicts.push_back(p);
                     return Status::Ok();
                   });
                 }).ok());
    ASSERT_EQ(conflicts.size(), 1u);
    EXPECT_EQ(conflicts[0].rfind("notes.sync-conflict-", 0), 0u) << conflicts[0];
  }
}

TEST_F(SyncSessionTest, LiveChangesArePushedWithinASecond) {
  ServeB();
  SyncServiceOptions opts;
  opts.peers = {b_address_};
  SyncService a_service(*a_, key_, opts);
  ASSERT_TRUE(a_service.Start().ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto peers = a_service.Peers();
    return peers.size() == 1 && peers[0].connected;
  }));
  for (int i = 0; i < 3; ++i) {
    const std::string value = "v" + std::to_string(i);
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(WriteFile(*a_, "live", value).ok());
    a_service.NotifyLocalChange();
    ASSERT_TRUE(WaitUntil([&] {
      auto got = ReadFile(*b_, "live");
      return got.ok() && *got == value;
    }));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(WaitUntil([&] { return b_changed_.load() > i; }))
        << "B's service did not report the merge";
    EXPECT_LT(took, 2s) << "push took "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                        << " ms";
  }
  // And the other way, through B's side of the same connection, by polling alone.
  ASSERT_TRUE(WriteFile(*b_, "back", "from b").ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto got = ReadFile(*a_, "back");
    return got.ok() && *got == "from b";
  }));
}

TEST_F(SyncSessionTest, ThreeStoresInAChainConverge) {
  auto c = testing::MakeStore(dir_.path() + "/c");
  ASSERT_TRUE(c);
  // (Directories of one name made on two peers would be two objects, one shown as a
  // conflict copy; distinct names keep this test about relaying.)
  ASSERT_TRUE(WriteFile(*a_, "docs-a/from-a", "A").ok());
  ASSERT_TRUE(WriteFile(*c, "docs-c/from-c", "C").ok());
  ASSERT_TRUE(WriteFile(*b_, "from-b", Pattern(400000, 9)).ok());  // not inline
  ServeB();
  SyncServiceOptions opts;
  opts.peers = {b_address_};
  SyncService a_service(*a_, key_, opts);
  SyncService c_service(*c, key_, opts);
  ASSERT_TRUE(a_service.Start().ok());
  ASSERT_TRUE(c_service.Start().ok());
  auto converged = [&] {
    auto ta = Snapshot(*a_);
    return ta.count("docs-a/from-a") && ta.count("docs-c/from-c") && ta.count("from-b") &&
           ta == Snapshot(*b_) && ta == Snapshot(*c);
  };
  ASSERT_TRUE(WaitUntil(converged));
  // A later change on one end reaches the other end through B.
  ASSERT_TRUE(WriteFile(*c, "docs-a/from-a", "edited on c").ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto got = ReadFile(*a_, "docs-a/from-a");
    return got.ok() && *got == "edited on c";
  }));
  ASSERT_TRUE(WaitUntil(converged));
}

TEST_F(SyncSessionTest, ServicesDiallingEachOtherKeepOneConnection) {
  // B's port is chosen first so each service can name the other.
  uint16_t b_port;
  {
    auto probe = Listener::Listen(HostPort{"127.0.0.1", 0});
    ASSERT_TRUE(probe.ok());
    b_port = probe->port();
  }
  SyncServiceOptions a_opts;
  a_opts.listen = "127.0.0.1:0";
  a_opts.peers = {"127.0.0.1:" + std::to_string(b_port)};
  a_opts.backoff_min = 100ms;
  SyncService a_service(*a_, key_, a_opts);
  ASSERT_TRUE(a_service.Start().ok());
  SyncServiceOptions b_opts;
  b_opts.listen = "127.0.0.1:" + std::to_string(b_port);
  b_opts.peers = {"127.0.0.1:" + std::to_string(a_service.listen_port())};
  b_opts.backoff_min = 100ms;
  SyncService b_service(*b_, key_, b_opts);
  ASSERT_TRUE(b_service.Start().ok());
  ASSERT_TRUE(WriteFile(*a_, "one", "1").ok());
  ASSERT_TRUE(WriteFile(*b_, "two", "2").ok());
  ASSERT_TRUE(
      WaitUntil([&] { return Snapshot(*a_).size() == 2 && Snapshot(*a_) == Snapshot(*b_); }));
  auto connected = [](const std::vector<PeerState>& peers) {
    int n = 0;
    for (const auto& p : peers) n += p.connected;
    return n;
  };
  // Settles to one connection, seen from both ends, and stays so.
  ASSERT_TRUE(WaitUntil(
      [&] { return connected(a_service.Peers()) == 1 && connected(b_service.Peers()) == 1; }));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(connected(a_service.Peers()), 1);
  EXPECT_EQ(connected(b_service.Peers()), 1);
  ASSERT_TRUE(WriteFile(*b_, "three", "3").ok());
  ASSERT_TRUE(WaitUntil([&] { return ReadFile(*a_, "three").ok(); }));
}

TEST_F(SyncSessionTest, StopEndsEverythingPromptly) {
  ServeB();
  SyncServiceOptions opts;
  opts.peers = {b_address_, "127.0.0.1:1"};  // one reachable, one not
  auto a_service = std::make_unique<SyncService>(*a_, key_, opts);
  ASSERT_TRUE(a_service->Start().ok());
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& p : a_service->Peers()) {
      if (p.connected) return true;
    }
    return false;
  }));
  const auto start = std::chrono::steady_clock::now();
  a_service.reset();
  b_service_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(SyncSessionTest, ASessionWithItsOwnStoreIsRefused) {
  // Serve A and connect A to itself: same node id on both ends.
  SyncServiceOptions opts;
  opts.listen = "127.0.0.1:0";
  SyncService a_service(*a_, key_, opts);
  ASSERT_TRUE(a_service.Start().ok());
  auto round = SyncA("127.0.0.1:" + std::to_string(a_service.listen_port()));
  ASSERT_FALSE(round.ok());
  EXPECT_NE(round.status().message().find("own node id"), std::string::npos)
      << round.status().message();
}

}  // namespace
}  // namespace kvfs::sync
