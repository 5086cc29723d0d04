#include "sync/peer_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <random>

namespace kvfs::sync {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kAcceptSlice{200};

// Sleeps for `d` unless `stop` is requested first.
void SleepFor(std::stop_token stop, milliseconds d) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, stop, d, [] { return false; });
}

}  // namespace

SyncService::SyncService(store::Store& store, const crypto::StoreKey& key,
                         SyncServiceOptions options)
    : store_(store), key_(key), options_(std::move(options)) {}

SyncService::~SyncService() { Stop(); }

Status SyncService::Start() {
  if (started_) return Status(Code::kInvalid, "sync service already started");
  std::vector<HostPort> targets;
  for (const std::string& peer : options_.peers) {
    KVFS_ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(peer));
    targets.push_back(hp);
  }
  if (!options_.listen.empty()) {
    KVFS_ASSIGN_OR_RETURN(HostPort addr, ParseHostPort(options_.listen, /*allow_port_zero=*/true));
    auto listener = Listener::Listen(addr);
    if (!listener.ok()) {
      return Status(listener.status().code(),
                    listener.status().message() +
                        "; choose another listen address or port, or stop what uses it");
    }
    listener_ = std::move(listener).value();
    listen_port_ = listener_.port();
    spdlog::info("sync: listening on {} (port {})", options_.listen, listen_port_);
  }
  started_ = true;
  {
    std::lock_guard lock(mu_);
    dialling_ = options_.peers;
  }
  if (options_.on_store_changed) {
    threads_.emplace_back([this](std::stop_token stop) { NotifyLoop(stop); });
  }
  if (!options_.listen.empty()) {
    threads_.emplace_back([this](std::stop_token stop) { AcceptLoop(stop); });
  }
  for (const HostPort& target : targets) {
    threads_.emplace_back([this, target](std::stop_token stop) { ConnectLoop(stop, target); });
  }
  return Status::Ok();
}

void SyncService::Stop() {
  for (auto& t : threads_) t.request_stop();
  threads_.clear();  // joins; the accept thread has already joined its sessions
  listener_.Close();
}

void SyncService::NotifyLocalChange() {
  std::lock_guard lock(mu_);
  for (auto& [session, active] : active_) session->Wake();
}

void SyncService::StoreChanged() {
  NotifyLocalChange();  // relay to the other peers now
  std::lock_guard lock(mu_);
  store_changed_ = true;
  changed_cv_.notify_all();
}

void SyncService::NotifyLoop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (changed_cv_.wait(lock, stop, [this] { return store_changed_; })) {
    store_changed_ = false;
    lock.unlock();
    options_.on_store_changed();
    lock.lock();
  }
}

std::vector<PeerState> SyncService::Peers() const {
  std::lock_guard lock(mu_);
  std::vector<PeerState> out;
  for (const auto& [session, a] : active_) {
    out.push_back(PeerState{session->label(), a.node, a.node != 0, a.outgoing});
  }
  for (const std::string& peer : dialling_) {
    const bool seen =
        std::any_of(out.begin(), out.end(), [&](const PeerState& p) { return p.address == peer; });
    if (!seen) out.push_back(PeerState{peer, 0, false, true});
  }
  return out;
}

// Two services that dial each other end up with two connections; the one dialled by
// the smaller node id stays (see the header). Inbound sessions are never refused, so a
// one-round `kvfs sync` from a peer always gets through.
Status SyncService::Claim(Session* session, uint64_t node) {
  std::lock_guard lock(mu_);
  Active& mine = active_.at(session);
  mine.node = node;
  if (store_.node_id() < node) return Status::Ok();  // the peer gives way, not us
  for (auto& [other, a] : active_) {
    if (other == session || a.node != node || a.outgoing == mine.outgoing) continue;
    if (mine.outgoing) {
      mine.node = 0;
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(node));
      return Status(Code::kExists, std::string("node ") + hex +
                                       " is already connected to us; using that connection");
    }
    a.stop.request_stop();  // our outgoing one gives way to this inbound one
  }
  return Status::Ok();
}

bool SyncService::InboundFrom(uint64_t node) const {
  std::lock_guard lock(mu_);
  for (const auto& [session, a] : active_) {
    if (!a.outgoing && a.node == node) return true;
  }
  return false;
}

bool SyncService::RunSession(Socket socket, crypto::Handshake::Role role, const std::string& label,
                             std::stop_token stop, uint64_t* peer_node) {
  SessionOptions opts = options_.session;
  opts.label = label;
  opts.until_synced = false;
  opts.on_applied = [this] { StoreChanged(); };
  Session* self = nullptr;
  opts.on_peer = [this, &self](uint64_t node) { return Claim(self, node); };
  Session session(std::move(socket), store_, key_, role, std::move(opts));
  self = &session;
  std::stop_source own;
  {
    std::lock_guard lock(mu_);
    Active a;
    a.session = &session;
    a.outgoing = role == crypto::Handshake::Role::kInitiator;
    own = a.stop;
    active_.emplace(&session, std::move(a));
  }
  // The session ends on the thread's stop and on its own (a duplicate to drop).
  std::stop_source both;
  std::stop_callback on_thread_stop(stop, [&both] { both.request_stop(); });
  std::stop_callback on_own_stop(own.get_token(), [&both] { both.request_stop(); });
  Status st = session.Run(both.get_token());
  {
    std::lock_guard lock(mu_);
    active_.erase(&session);
  }
  if (peer_node && session.peer_node() != 0) *peer_node = session.peer_node();
  // A session refused or superseded as a duplicate does not count as reaching the
  // peer, so its connector backs off instead of redialling at once.
  return session.peer_node() != 0 && st.code() != Code::kExists && !own.stop_requested();
}

void SyncService::AcceptLoop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    inbound_.remove_if([](const Inbound& in) { return in.done->load(); });
    auto accepted = listener_.Accept(kAcceptSlice);
    if (!accepted.ok()) {
      spdlog::error("sync: {}; still listening", accepted.status().message());
      SleepFor(stop, kAcceptSlice);
      continue;
    }
    if (!accepted->has_value()) continue;
    Socket socket = std::move(accepted->value());
    const std::string address = socket.PeerAddress();
    if (inbound_.size() >= options_.max_inbound) {
      spdlog::warn("sync: refusing {}: already {} incoming connections", address, inbound_.size());
      continue;  // the socket closes here
    }
    spdlog::info("sync: connection from {}", address);
    auto done = std::make_shared<std::atomic<bool>>(false);
    // The session's thread stops with ours: its token is requested when inbound_ is
    // cleared below, before this function returns.
    auto sock = std::make_shared<Socket>(std::move(socket));
    inbound_.push_back(Inbound{
        std::jthread([this, sock, address, done](std::stop_token session_stop) {
          RunSession(std::move(*sock), crypto::Handshake::Role::kResponder, address, session_stop);
          done->store(true);
        }),
        done});
  }
  inbound_.clear();  // requests stop on each and joins
}

std::chrono::milliseconds SyncService::Backoff(int failures) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t ms = options_.backoff_min.count();
  for (int i = 1; i < failures && ms < options_.backoff_max.count(); ++i) ms *= 2;
  ms = std::min<int64_t>(ms, options_.backoff_max.count());
  std::uniform_int_distribution<int64_t> jitter(0, ms / 4);
  return milliseconds(ms + jitter(rng));
}

void SyncService::ConnectLoop(std::stop_token stop, HostPort target) {
  const std::string label = target.ToString();
  int failures = 0;
  uint64_t target_node = 0;  // learned from the first session that got a HELLO
  while (!stop.stop_requested()) {
    // The peer dialled us and we give way to its connection (see Claim): wait.
    if (target_node != 0 && store_.node_id() > target_node && InboundFrom(target_node)) {
      SleepFor(stop, options_.backoff_min);
      continue;
    }
    auto socket = Socket::Connect(target, options_.connect_timeout, stop);
    if (stop.stop_requested()) break;
    bool reached = false;
    if (!socket.ok()) {
      // Log the first failure loudly, the retries quietly.
      spdlog::log(failures == 0 ? spdlog::level::warn : spdlog::level::debug,
                  "sync: cannot reach {}: {}; retrying with backoff", label,
                  socket.status().message());
    } else {
      reached = RunSession(std::move(socket).value(), crypto::Handshake::Role::kInitiator, label,
                           stop, &target_node);
    }
    failures = reached ? 1 : failures + 1;
    SleepFor(stop, Backoff(failures));
  }
}

}  // namespace kvfs::sync
