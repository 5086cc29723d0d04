#pragma once
// Helpers for the network sync tests: stores in a scratch directory sharing one key,
// file-level reads and writes, tree snapshots to compare replicas, bounded waits, and
// a TCP proxy on 127.0.0.1 that can cut or corrupt the stream it relays.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crypto/frame.h"
#include "crypto/handshake.h"
#include "crypto/store_key.h"
#include "store/store.h"
#include "sync/batch.h"
#include "sync/exchange.h"
#include "sync/messages.h"
#include "sync/socket.h"

namespace kvfs::sync::testing {

using store::Ino;
using store::Store;

// Every wait in these tests is bounded by this (generous for sanitizer builds).
inline constexpr auto kWaitLimit = std::chrono::seconds(20);

class Scratch {
 public:
  Scratch() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kvfs-sync-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<Store> MakeStore(const std::string& dir) {
  Status created = Store::Create(dir);
  EXPECT_TRUE(created.ok()) << created.message();
  auto opened = Store::Open(dir);
  EXPECT_TRUE(opened.ok()) << opened.status().message();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

// Creates missing parent directories, then the file, and replaces its bytes.
inline Status WriteFile(Store& s, const std::string& path, const std::string& data) {
  return s.Update([&](store::WriteTxn& t) -> Status {
    Ino parent = store::kRootIno;
    size_t start = 0;
    for (size_t slash; (slash = path.find('/', start)) != std::string::npos; start = slash + 1) {
      const std::string name = path.substr(start, slash - start);
      auto dir = t.Lookup(parent, name);
      if (dir.ok()) {
        parent = dir->ino;
        continue;
      }
      store::NewObject spec;
      spec.type = store::FileType::kDirectory;
      spec.mode = 0755;
      KVFS_ASSIGN_OR_RETURN(store::Inode made, t.Create(parent, name, spec));
      parent = made.ino;
    }
    const std::string leaf = path.substr(start);
    auto node = t.Lookup(parent, leaf);
    Ino ino;
    if (node.ok()) {
      ino = node->ino;
    } else {
      KVFS_ASSIGN_OR_RETURN(store::Inode made, t.Create(parent, leaf, store::NewObject{}));
      ino = made.ino;
    }
    return t.Replace(ino, data).status();
  });
}

inline Status WriteAt(Store& s, const std::string& path, uint64_t offset, const std::string& data) {
  return s.Update([&](store::WriteTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Resolve(path));
    return t.Write(node.ino, offset, data).status();
  });
}

inline Result<std::string> ReadFile(Store& s, const std::string& path) {
  std::string out;
  Status st = s.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Resolve(path));
    KVFS_ASSIGN_OR_RETURN(out, t.Read(node.ino, 0, node.size));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

// The record at `path` in `s` (a default Inode, and a test failure, when missing).
inline store::Inode InodeAt(Store& s, const std::string& path) {
  store::Inode node;
  EXPECT_TRUE(s.View([&](store::ReadTxn& t) -> Status {
                 KVFS_ASSIGN_OR_RETURN(node, t.Resolve(path));
                 return Status::Ok();
               }).ok())
      << path;
  return node;
}

// Everything in the feed of `s` (up to 1,000 objects), as a session would send it.
inline std::vector<OutgoingObject> Feed(Store& s) {
  auto all = Outbox(s).Next(0, 1000);
  EXPECT_TRUE(all.ok()) << all.status().message();
  return all.ok() ? std::move(all).value() : std::vector<OutgoingObject>{};
}

inline uint64_t LastSeq(Store& s) {
  uint64_t seq = 0;
  EXPECT_TRUE(s.View([&](store::ReadTxn& t) -> Status {
                 KVFS_ASSIGN_OR_RETURN(seq, t.LastSeq());
                 return Status::Ok();
               }).ok());
  return seq;
}

// path -> "type mode bytes-or-target": what a user sees of a tree.
using Tree = std::map<std::string, std::string>;

inline Tree Snapshot(Store& s) {
  Tree tree;
  Status st = s.View([&](store::ReadTxn& t) -> Status {
    std::vector<std::pair<Ino, std::string>> todo{{store::kRootIno, ""}};
    while (!todo.empty()) {
      auto [dir, prefix] = todo.back();
      todo.pop_back();
      KVFS_ASSIGN_OR_RETURN(auto entries, t.ListDir(dir));
      for (const auto& e : entries) {
        const std::string path = prefix + e.name;
        KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Get(e.ino));
        std::string value =
            std::to_string(static_cast<int>(node.type)) + " " + std::to_string(node.mode) + " ";
        if (node.is_dir()) {
          todo.push_back({e.ino, path + "/"});
        } else if (node.is_symlink()) {
          value += node.symlink_target;
        } else {
          KVFS_ASSIGN_OR_RETURN(std::string data, t.Read(node.ino, 0, node.size));
          value += data;
        }
        tree[path] = value;
      }
    }
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  return tree;
}

// Polls `pred` every 10 ms until it holds or kWaitLimit passes.
inline bool WaitUntil(const std::function<bool()>& pred,
                      std::chrono::milliseconds limit = kWaitLimit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

inline std::string Pattern(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x);
  }
  return out;
}

// Relays one connection at a time from 127.0.0.1:port() to `target`, optionally
// cutting both directions after `cut_after` bytes client->server, or flipping the
// byte at offset `flip_at` of that direction.
class TcpProxy {
 public:
  struct Faults {
    uint64_t cut_after = UINT64_MAX;
    uint64_t flip_at = UINT64_MAX;
  };

  TcpProxy(uint16_t target_port, Faults faults) : target_port_(target_port), faults_(faults) {
    auto l = Listener::Listen(HostPort{"127.0.0.1", 0});
    EXPECT_TRUE(l.ok()) << l.status().message();
    listener_ = std::move(l).value();
    thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
  }
  ~TcpProxy() {
    thread_.request_stop();
    thread_.join();
  }
  uint16_t port() const { return listener_.port(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port()); }
  uint64_t forwarded() const { return forwarded_.load(); }
  bool faulted() const { return faulted_.load(); }

 private:
  void Run(std::stop_token stop) {
    while (!stop.stop_requested()) {
      auto accepted = listener_.Accept(std::chrono::milliseconds(50));
      if (!accepted.ok() || !accepted->has_value()) continue;
      Socket client = std::move(accepted->value());
      auto server = Socket::Connect(HostPort{"127.0.0.1", target_port_}, std::chrono::seconds(5));
      if (!server.ok()) continue;
      Socket upstream = std::move(server).value();
      std::atomic<bool> done{false};
      std::jthread back([&](std::stop_token) { Pump(upstream, client, false, done, stop); });
      Pump(client, upstream, true, done, stop);
      done = true;
      client.Shutdown();
      upstream.Shutdown();
    }
  }

  void Pump(Socket& from, Socket& to, bool forward, std::atomic<bool>& done, std::stop_token stop) {
    char buf[16384];
    while (!done && !stop.stop_requested()) {
      auto got = from.ReadSome(buf, sizeof buf, std::chrono::milliseconds(50));
      if (!got.ok() && got.status().code() == Code::kBusy) continue;
      if (!got.ok() || *got == 0) break;
      size_t n = *got;
      if (forward) {
        const uint64_t at = forwarded_.load();
        if (at + n > faults_.cut_after) {
          n = static_cast<size_t>(faults_.cut_after - at);
          faulted_ = true;
        }
        if (faults_.flip_at >= at && faults_.flip_at < at + n) {
          buf[faults_.flip_at - at] ^= 0x5a;
          faulted_ = true;
        }
        forwarded_ += n;
      }
      if (n > 0 && !to.WriteAll(std::string_view(buf, n), std::chrono::seconds(10)).ok()) break;
      if (forward && forwarded_.load() >= faults_.cut_after) break;
    }
    done = true;
    from.Shutdown();
    to.Shutdown();
  }

  uint16_t target_port_;
  Faults faults_;
  Listener listener_;
  std::atomic<uint64_t> forwarded_{0};
  std::atomic<bool> faulted_{false};
  std::jthread thread_;
};

// A hand-driven peer: does the real handshake with the real key, then sends whatever
// a test wants, well-formed or not, sealed in the real channel. For tests of how a
// session treats a member that misbehaves.
class RawPeer {
 public:
  Status Connect(uint16_t port, const crypto::StoreKey& key) {
    KVFS_ASSIGN_OR_RETURN(socket_,
                          Socket::Connect(HostPort{"127.0.0.1", port}, std::chrono::seconds(5)));
    auto hs = crypto::Handshake::Initiator(key);
    KVFS_RETURN_IF_ERROR(SendFrame(hs.Hello()));
    KVFS_ASSIGN_OR_RETURN(std::string hello, ReadFrame());
    KVFS_ASSIGN_OR_RETURN(std::string confirm, hs.ReceiveHello(hello));
    KVFS_RETURN_IF_ERROR(SendFrame(confirm));
    KVFS_ASSIGN_OR_RETURN(std::string peer_confirm, ReadFrame());
    KVFS_ASSIGN_OR_RETURN(channel_, hs.Finish(peer_confirm));
    return Status::Ok();
  }
  Status SendPlain(std::string_view plaintext) {
    KVFS_ASSIGN_OR_RETURN(std::string sealed, channel_->Seal(plaintext));
    return SendFrame(sealed);
  }
  Status Send(const Message& m) { return SendPlain(EncodeMessage(m)); }
  // The next message from the session (unpacking BATCH frames), or an error when it
  // closed the connection.
  Result<Message> Receive() {
    if (queued_.empty()) {
      KVFS_ASSIGN_OR_RETURN(std::string frame, ReadFrame());
      KVFS_ASSIGN_OR_RETURN(std::string plain, channel_->Open(frame));
      KVFS_ASSIGN_OR_RETURN(auto messages, DecodeFrameMessages(plain));
      for (Message& m : messages) queued_.push_back(std::move(m));
    }
    Message m = std::move(queued_.front());
    queued_.pop_front();
    return m;
  }
  // Reads until the session closes the connection; false if it did not within 15 s.
  bool WaitClosed() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      auto frame = ReadFrame();
      if (!frame.ok() && frame.status().code() != Code::kBusy) return true;
    }
    return false;
  }

 private:
  Status SendFrame(std::string_view payload) {
    KVFS_ASSIGN_OR_RETURN(std::string frame, crypto::EncodeFrame(payload));
    return socket_.WriteAll(frame, std::chrono::seconds(5));
  }
  Result<std::string> ReadFrame() {
    std::string prefix, payload;
    KVFS_RETURN_IF_ERROR(socket_.ReadExact(4, &prefix, std::chrono::seconds(5)));
    uint32_t len = 0;
    for (char c : prefix) len = (len << 8) | static_cast<uint8_t>(c);
    if (len > crypto::kMaxFrameCiphertext) return Status(Code::kCorruption, "frame too big");
    KVFS_RETURN_IF_ERROR(socket_.ReadExact(len, &payload, std::chrono::seconds(5)));
    return payload;
  }

  Socket socket_;
  std::unique_ptr<crypto::SecureChannel> channel_;
  std::deque<Message> queued_;  // the rest of a BATCH
};

}  // namespace kvfs::sync::testing
