#pragma once
// SyncService: keeps a store in sync with its peers for as long as it runs (inside
// the mount daemon, or `kvfs serve`).
//
// Threads (all std::jthread, stopped and joined by Stop() or the destructor):
//   - the listener, when options.listen is set: accepts connections and runs each as
//     a responder Session on a thread of its own (at most options.max_inbound at once);
//   - the notifier, when options.on_store_changed is set: calls it after applies;
//   - one connector per configured peer: dials it and runs an initiator Session;
//     when the session ends, waits (exponential backoff from backoff_min to
//     backoff_max, plus up to 25% random jitter, reset after a session that got as
//     far as the peer's HELLO) and dials again.
// Stop() asks every thread to stop; their sessions shut their sockets, so nothing
// blocks longer than one poll slice (100 ms).
//
// One connection per pair of services: when two services dial each other, the
// connection dialled by the smaller node id stays. The larger node drops its outgoing
// session once an inbound one from that peer is up (or refuses it at HELLO, kExists,
// logged at info) and does not redial while the inbound one lasts. Inbound sessions
// are never refused: a reconnect, or a one-round `kvfs sync`, always gets through, and
// two sessions with one peer are harmless (applying is idempotent), only redundant.
//
// Status: each session keeps its peer's bookkeeping in the store's sync table
// (peer_status.h), which `kvfs status` reads from another process; Peers() gives the
// live view of this process.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "crypto/store_key.h"
#include "store/store.h"
#include "sync/session.h"
#include "sync/socket.h"

namespace kvfs::sync {

struct SyncServiceOptions {
  std::vector<std::string> peers;  // HOST:PORT to dial
  std::string listen;              // ADDR:PORT to accept on (port 0: any); empty: none
  // Timeouts and batch size of every session (label, on_peer, on_applied and
  // until_synced are set by the service).
  SessionOptions session;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds backoff_min{500};
  std::chrono::milliseconds backoff_max{30000};
  size_t max_inbound = 32;
  // Called on a thread of the service, soon after sessions applied changes to the
  // store (coalesced: one call for a burst). The mount daemon uses it to have its
  // feed watcher invalidate the kernel's caches at once rather than at its next poll.
  std::function<void()> on_store_changed;
};

// One peer as this process sees it now.
struct PeerState {
  std::string address;
  uint64_t node = 0;  // 0 until a session got the peer's HELLO
  bool connected = false;
  bool outgoing = false;
};

class SyncService {
 public:
  SyncService(store::Store& store, const crypto::StoreKey& key, SyncServiceOptions options);
  ~SyncService();
  SyncService(const SyncService&) = delete;
  SyncService& operator=(const SyncService&) = delete;

  // Checks every address, binds the listener (an error when it cannot: a port in
  // use, an address not on this machine), and starts the threads.
  Status Start();
  // Stops and joins every thread. Idempotent.
  void Stop();

  // A local change was committed: connected senders look at the feed now.
  void NotifyLocalChange();

  // The port the listener is bound to (useful with port 0), 0 without a listener.
  uint16_t listen_port() const { return listen_port_; }
  std::vector<PeerState> Peers() const;

 private:
  struct Active {
    Session* session = nullptr;
    uint64_t node = 0;  // 0 until HELLO
    bool outgoing = false;
    std::stop_source stop;  // ends this session only
  };
  struct Inbound {
    std::jthread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  void AcceptLoop(std::stop_token stop);
  void NotifyLoop(std::stop_token stop);
  void StoreChanged();
  void ConnectLoop(std::stop_token stop, HostPort target);
  // Runs one session to its end; true when it got as far as the peer's HELLO.
  // `peer_node`, when given, receives the peer's node id once known.
  bool RunSession(Socket socket, crypto::Handshake::Role role, const std::string& label,
                  std::stop_token stop, uint64_t* peer_node = nullptr);
  Status Claim(Session* session, uint64_t node);
  bool InboundFrom(uint64_t node) const;
  std::chrono::milliseconds Backoff(int failures);

  store::Store& store_;
  const crypto::StoreKey key_;
  const SyncServiceOptions options_;
  Listener listener_;
  uint16_t listen_port_ = 0;

  // Lock order: mu_ before any Session's own mutex (Wake() is called under mu_).
  mutable std::mutex mu_;
  std::map<Session*, Active> active_;  // guarded by mu_
  std::vector<std::string> dialling_;  // configured peers; guarded by mu_
  bool store_changed_ = false;         // guarded by mu_
  std::condition_variable_any changed_cv_;

  // Threads last: destroyed (joined) first.
  std::list<Inbound> inbound_;  // only the accept thread touches it
  std::vector<std::jthread> threads_;
  bool started_ = false;
};

}  // namespace kvfs::sync
