// HOST:PORT parsing, the RAII TCP socket on 127.0.0.1, and the kvfs.conf parser.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "sync/config.h"
#include "sync/socket.h"
#include "sync_test_util.h"

namespace kvfs::sync {
namespace {

using namespace std::chrono_literals;

TEST(HostPortTest, ParsesNamesIpv4AndBracketedIpv6) {
  auto a = ParseHostPort("laptop.lan:7420");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "laptop.lan");
  EXPECT_EQ(a->port, 7420);
  auto b = ParseHostPort("127.0.0.1:1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->ToString(), "127.0.0.1:1");
  auto c = ParseHostPort("[::1]:65535");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->ToString(), "[::1]:65535");
}

TEST(HostPortTest, RejectsBadInputWithAHint) {
  for (const char* bad : {"", "host", "host:", ":7420", "host:0", "host:65536", "host:7x",
                          "::1:7420", "[::1]7420", "[::1", "a b:1", "host:-1", "host:123456"}) {
    auto r = ParseHostPort(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalid);
    EXPECT_NE(r.status().message().find("HOST:PORT"), std::string::npos) << r.status().message();
  }
  EXPECT_TRUE(ParseHostPort("127.0.0.1:0", /*allow_port_zero=*/true).ok());
}

TEST(SocketTest, ConnectsWritesAndReadsOnLoopback) {
  auto listener = Listener::Listen(HostPort{"127.0.0.1", 0});
  ASSERT_TRUE(listener.ok()) << listener.status().message();
  ASSERT_NE(listener->port(), 0);
  auto client = Socket::Connect(HostPort{"127.0.0.1", listener->port()}, 2s);
  ASSERT_TRUE(client.ok()) << client.status().message();
  auto accepted = listener->Accept(2s);
  ASSERT_TRUE(accepted.ok() && accepted->has_value());
  Socket server = std::move(accepted->value());
  EXPECT_NE(server.PeerAddress().find("127.0.0.1:"), std::string::npos);

  const std::string big = testing::Pattern(4 << 20, 1);  // more than socket buffers
  std::jthread writer([&] { EXPECT_TRUE(client->WriteAll(big, 5s).ok()); });
  std::string got;
  ASSERT_TRUE(server.ReadExact(big.size(), &got, 10s).ok());
  EXPECT_EQ(got, big);
}

TEST(SocketTest, ReadTimesOutAndSeesEndOfStream) {
  auto listener = Listener::Listen(HostPort{"127.0.0.1", 0});
  ASSERT_TRUE(listener.ok());
  auto client = Socket::Connect(HostPort{"127.0.0.1", listener->port()}, 2s);
  ASSERT_TRUE(client.ok());
  auto accepted = listener->Accept(2s);
  ASSERT_TRUE(accepted.ok() && accepted->has_value());
  Socket server = std::move(accepted->value());
  char buf[16];
  auto r = server.ReadSome(buf, sizeof buf, 50ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kBusy);
  client->Close();
  auto eof = server.ReadSome(buf, sizeof buf, 2s);
  ASSERT_TRUE(eof.ok());
  EXPECT_EQ(*eof, 0u);
}

TEST(SocketTest, ShutdownWakesABlockedReader) {
  auto listener = Listener::Listen(HostPort{"127.0.0.1", 0});
  ASSERT_TRUE(listener.ok());
  auto client = Socket::Connect(HostPort{"127.0.0.1", listener->port()}, 2s);
  ASSERT_TRUE(client.ok());
  auto accepted = listener->Accept(2s);
  ASSERT_TRUE(accepted.ok() && accepted->has_value());
  const auto start = std::chrono::steady_clock::now();
  std::jthread stopper([&] {
    std::this_thread::sleep_for(100ms);
    client->Shutdown();
  });
  char buf[16];
  auto r = client->ReadSome(buf, sizeof buf, 10s);
  EXPECT_TRUE(r.ok() && *r == 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(SocketTest, ConnectToAClosedPortFailsClearly) {
  auto listener = Listener::Listen(HostPort{"127.0.0.1", 0});
  ASSERT_TRUE(listener.ok());
  const uint16_t port = listener->port();
  listener->Close();
  auto client = Socket::Connect(HostPort{"127.0.0.1", port}, 2s);
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << client.status().message();
}

TEST(SocketTest, ListeningOnABusyPortFails) {
  auto first = Listener::Listen(HostPort{"127.0.0.1", 0});
  ASSERT_TRUE(first.ok());
  auto second = Listener::Listen(HostPort{"127.0.0.1", first->port()});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().message();
}

TEST(ConfigTest, ParsesPeersListenCommentsAndUnknownKeys) {
  auto cfg = ConfigFile::Parse(
      "# kvfs\n"
      "listen = 0.0.0.0:7420\n"
      "peer = a.lan:7420\n"
      "  peer=[fd00::5]:7420  \n"
      "; another comment\n"
      "\n"
      "cache_ttl = 5\n"
      "peer = \"a.lan:7420\"\n",
      "kvfs.conf");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  auto sync = cfg->Sync();
  ASSERT_TRUE(sync.ok()) << sync.status().message();
  EXPECT_EQ(sync->listen, "0.0.0.0:7420");
  EXPECT_EQ(sync->peers, (std::vector<std::string>{"a.lan:7420", "[fd00::5]:7420"}));
  EXPECT_EQ(cfg->Get("cache_ttl"), "5");
}

TEST(ConfigTest, BadLinesNameTheFileAndLine) {
  auto cfg = ConfigFile::Parse("peer = a:1\nthis is not a setting\n", "/s/kvfs.conf");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), Code::kInvalid);
  EXPECT_NE(cfg.status().message().find("/s/kvfs.conf:2"), std::string::npos)
      << cfg.status().message();
  auto bad_peer = ConfigFile::Parse("peer = nohost\n", "kvfs.conf");
  ASSERT_TRUE(bad_peer.ok());
  EXPECT_FALSE(bad_peer->Sync().ok());
}

TEST(ConfigTest, EditsKeepOtherLinesAndSaveIsPrivate) {
  testing::Scratch dir;
  const std::string path = ConfigPath(dir.path());
  {
    std::ofstream out(path);
    out << "# my peers\npeer = a:1\ncache_ttl = 5\n";
  }
  auto cfg = ConfigFile::Load(path);
  ASSERT_TRUE(cfg.ok());
  cfg->Add("peer", "b:2");
  EXPECT_TRUE(cfg->Remove("peer", "a:1"));
  EXPECT_FALSE(cfg->Remove("peer", "a:1"));
  ASSERT_TRUE(cfg->Save(path).ok());
  auto again = ConfigFile::Load(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Text(), "# my peers\ncache_ttl = 5\npeer = b:2\n");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(ConfigTest, MissingFileIsEmpty) {
  testing::Scratch dir;
  auto cfg = ConfigFile::Load(dir.path() + "/nope.conf");
  ASSERT_TRUE(cfg.ok());
  auto sync = cfg->Sync();
  ASSERT_TRUE(sync.ok());
  EXPECT_TRUE(sync->peers.empty());
  EXPECT_TRUE(sync->listen.empty());
}

}  // namespace
}  // namespace kvfs::sync
