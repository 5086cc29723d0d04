// Session: setup, the sender thread and the end of a connection (see session.h).
// The reader thread lives in session_reader.cc.
#include "sync/session.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

#include "crypto/frame.h"

namespace kvfs::sync {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// After our BYE, how long we wait for the peer to close its end.
constexpr milliseconds kByeLinger{2000};

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

SessionCounts SessionStats::Snapshot() const {
  SessionCounts c;
  c.objects_sent = objects_sent.load();
  c.objects_received = objects_received.load();
  c.objects_changed = objects_changed.load();
  c.conflicts = conflicts.load();
  c.chunks_sent = chunks_sent.load();
  c.chunk_bytes_sent = chunk_bytes_sent.load();
  c.chunks_received = chunks_received.load();
  c.chunk_bytes_received = chunk_bytes_received.load();
  c.inline_bytes_sent = inline_bytes_sent.load();
  c.inline_bytes_received = inline_bytes_received.load();
  c.frames_sent = frames_sent.load();
  c.bytes_sent = bytes_sent.load();
  c.bytes_received = bytes_received.load();
  return c;
}

Session::Session(Socket socket, store::Store& store, const crypto::StoreKey& key,
                 crypto::Handshake::Role role, SessionOptions options)
    : socket_(std::move(socket)),
      store_(store),
      key_(key),
      role_(role),
      options_(std::move(options)),
      label_(options_.label.empty() ? socket_.PeerAddress() : options_.label),
      outbox_(store) {}

Session::~Session() = default;

void Session::Wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

void Session::Fail(Status status) {
  {
    std::lock_guard lock(mu_);
    // Only the first cause counts: what follows a halt (a closed socket, a stopped
    // write) is its consequence. A stop asked by the owner is not an error.
    if (!halt_.stop_requested() && !finished_ && !error_) error_ = std::move(status);
    cv_.notify_all();
  }
  halt_.request_stop();
  socket_.ShutdownRead();  // wakes the reader; the sender notices the halt by itself
}

Status Session::Run(std::stop_token stop) {
  // Destroyed (waiting for a callback that runs) before the socket closes below.
  std::optional<std::stop_callback<std::function<void()>>> on_stop;
  on_stop.emplace(stop, [this] {
    halt_.request_stop();
    socket_.ShutdownRead();
  });
  if (Status st = Handshake(); !st.ok()) {
    Fail(std::move(st));
  } else if (auto last = outbox_.LastSeq(); !last.ok()) {
    Fail(last.status());
  } else if (Status sent = Send(HelloMsg{kProtocolVersion, store_.node_id(), *last}); !sent.ok()) {
    Fail(std::move(sent));
  }
  if (!halted()) {
    std::jthread reader([this] { ReaderLoop(); });
    if (Status st = SenderLoop(); !st.ok()) Fail(std::move(st));
    halt_.request_stop();
    SayBye();
    socket_.Shutdown();
  }
  // The reader has been joined: its state is ours now.
  if (peer_node_.load() != 0) {
    uint64_t head, acked;
    {
      std::lock_guard lock(mu_);
      head = peer_head_;
      acked = peer_acked_;
    }
    if (inbox_) {
      if (Status st = inbox_->NotePeerHead(head, acked); !st.ok()) {
        spdlog::debug("sync with {}: cannot record status: {}", label_, st.message());
      }
    }
    if (Status st = RecordContact(/*connected=*/false, /*force=*/true); !st.ok()) {
      spdlog::debug("sync with {}: cannot record status: {}", label_, st.message());
    }
  }
  on_stop.reset();
  socket_.Close();
  LogTraffic();
  std::lock_guard lock(mu_);
  const std::string who =
      label_ + (peer_node_.load() ? " (node " + Hex(peer_node_.load()) + ")" : std::string());
  if (!error_) {
    spdlog::info("sync with {} ended cleanly", who);
    return Status::Ok();
  }
  if (options_.log_errors) {
    const auto level = error_->code() == Code::kExists ? spdlog::level::info : spdlog::level::warn;
    spdlog::log(level, "sync with {}: {}; connection closed", who, error_->message());
  }
  return *error_;
}

// Where the bytes went, per message type (plaintext before sealing).
void Session::LogTraffic() const {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  std::string line;
  for (size_t t = 1; t < stats_.sent_msgs.size(); ++t) {
    const uint64_t sm = stats_.sent_msgs[t].load(), rm = stats_.recv_msgs[t].load();
    if (sm == 0 && rm == 0) continue;
    line += std::string(" ") + MessageTypeName(static_cast<MessageType>(t)) + " sent " +
            std::to_string(sm) + "/" + std::to_string(stats_.sent_plain[t].load()) + " B, recv " +
            std::to_string(rm) + "/" + std::to_string(stats_.recv_plain[t].load()) + " B;";
  }
  spdlog::debug("sync with {}: wire {} B sent, {} B received;{}", label_, stats_.bytes_sent.load(),
                stats_.bytes_received.load(), line);
}

// Ends a connection we chose to end (a stop, or a duplicate connection) with BYE, so
// the peer sees a clean end rather than a cut. Best effort, bounded: the sender has
// returned, so this thread is the only writer.
void Session::SayBye() {
  {
    std::lock_guard lock(mu_);
    const bool ours = !error_ || error_->code() == Code::kExists;
    if (!channel_ || bye_sent_ || finished_ || !ours) return;
    bye_sent_ = true;
  }
  auto sealed = channel_->Seal(EncodeMessage(ByeMsg{}), /*final=*/true);
  if (!sealed.ok()) return;
  auto frame = crypto::EncodeFrame(*sealed);
  if (frame.ok()) (void)socket_.WriteAll(*frame, kByeLinger);
}

Status Session::ReadHandshakeFrame(std::string* out) {
  std::string prefix;
  KVFS_RETURN_IF_ERROR(
      socket_.ReadExact(crypto::kFrameLengthSize, &prefix, options_.handshake_timeout));
  uint32_t len = 0;
  for (char c : prefix) len = (len << 8) | static_cast<uint8_t>(c);
  if (len > kMaxHandshakeFrame) {
    return Status(Code::kCorruption, "handshake frame of " + std::to_string(len) +
                                         " bytes (limit " + std::to_string(kMaxHandshakeFrame) +
                                         "); is the peer a kvfs sync server?");
  }
  KVFS_RETURN_IF_ERROR(socket_.ReadExact(len, out, options_.handshake_timeout));
  stats_.bytes_received += crypto::kFrameLengthSize + len;
  return Status::Ok();
}

Status Session::Handshake() {
  auto hs = role_ == crypto::Handshake::Role::kInitiator ? crypto::Handshake::Initiator(key_)
                                                         : crypto::Handshake::Responder(key_);
  auto wrap = [](const Status& st) {
    if (st.code() == Code::kBusy) {
      return Status(Code::kBusy, "handshake timed out: " + st.message());
    }
    if (st.code() == Code::kAccess) {
      return Status(Code::kAccess,
                    "handshake refused: the peer does not hold this store's key (or the "
                    "connection was altered); compare the key fingerprints of 'kvfs status' "
                    "on both machines and copy the key with 'kvfs key show' / 'kvfs key set'");
    }
    return Status(st.code(), "handshake failed: " + st.message());
  };
  auto send = [&](const std::string& payload) -> Status {
    KVFS_ASSIGN_OR_RETURN(std::string frame, crypto::EncodeFrame(payload));
    KVFS_RETURN_IF_ERROR(socket_.WriteAll(frame, options_.handshake_timeout, halt_.get_token()));
    stats_.bytes_sent += frame.size();
    return Status::Ok();
  };
  std::string peer_hello, peer_confirm;
  if (Status st = send(hs.Hello()); !st.ok()) return wrap(st);
  if (Status st = ReadHandshakeFrame(&peer_hello); !st.ok()) return wrap(st);
  auto confirm = hs.ReceiveHello(peer_hello);
  if (!confirm.ok()) return wrap(confirm.status());
  if (Status st = send(*confirm); !st.ok()) return wrap(st);
  if (Status st = ReadHandshakeFrame(&peer_confirm); !st.ok()) return wrap(st);
  auto channel = hs.Finish(peer_confirm);
  if (!channel.ok()) return wrap(channel.status());
  channel_ = std::move(channel).value();
  return Status::Ok();
}

Status Session::Send(const Message& message, bool final) {
  KVFS_RETURN_IF_ERROR(FlushBatch());
  const std::string plain = EncodeMessage(message);
  if (plain.size() > crypto::kMaxFramePlaintext) {
    return Status(Code::kInvalid, std::string(MessageTypeName(TypeOf(message))) +
                                      " message too large for one frame");
  }
  const size_t t = static_cast<size_t>(TypeOf(message)) & 15;
  stats_.sent_msgs[t] += 1;
  stats_.sent_plain[t] += plain.size();
  return SendFrame(plain, final);
}

Status Session::Post(const Message& message) {
  std::string plain = EncodeMessage(message);
  if (plain.size() > crypto::kMaxFramePlaintext) {
    return Status(Code::kInvalid, std::string(MessageTypeName(TypeOf(message))) +
                                      " message too large for one frame");
  }
  if (!pending_.empty() && pending_.RawSizeWith(plain.size()) > options_.batch_bytes) {
    KVFS_RETURN_IF_ERROR(FlushBatch());
  }
  const size_t t = static_cast<size_t>(TypeOf(message)) & 15;
  stats_.sent_msgs[t] += 1;
  stats_.sent_plain[t] += plain.size();
  pending_.Add(plain);
  return Status::Ok();
}

Status Session::FlushBatch() {
  if (pending_.empty()) return Status::Ok();
  KVFS_ASSIGN_OR_RETURN(std::string plain, pending_.Take());
  if (static_cast<uint8_t>(plain[0]) == static_cast<uint8_t>(MessageType::kBatch)) {
    const size_t t = static_cast<size_t>(MessageType::kBatch);
    stats_.sent_msgs[t] += 1;
    stats_.sent_plain[t] += plain.size();
  }
  return SendFrame(plain, /*final=*/false);
}

Status Session::SendFrame(const std::string& plain, bool final) {
  KVFS_ASSIGN_OR_RETURN(std::string sealed, channel_->Seal(plain, final));
  KVFS_ASSIGN_OR_RETURN(std::string frame, crypto::EncodeFrame(sealed));
  KVFS_RETURN_IF_ERROR(socket_.WriteAll(frame, options_.idle_timeout, halt_.get_token()));
  stats_.bytes_sent += frame.size();
  stats_.frames_sent += 1;
  return Status::Ok();
}

Status Session::FlushControl() {
  for (;;) {
    Message next;
    {
      std::lock_guard lock(mu_);
      if (control_.empty()) return Status::Ok();
      next = std::move(control_.front());
      control_.pop_front();
    }
    KVFS_RETURN_IF_ERROR(Post(next));
  }
}

Status Session::SendObject(const OutgoingObject& obj, bool* awaits_want) {
  ObjectMsg m{obj};
  if (EncodeMessage(m).size() > crypto::kMaxFramePlaintext) {
    // Let the chunks travel on their own; the metadata alone must fit in a frame.
    m.object.inline_chunks.clear();
    if (EncodeMessage(m).size() > crypto::kMaxFramePlaintext) {
      spdlog::error(
          "sync with {}: object {} has more metadata than one frame carries; "
          "not sent (remove some of its extended attributes or names)",
          label_, obj.state.oid.ToString());
      *awaits_want = false;
      return Status::Ok();
    }
  }
  *awaits_want = NeedsWant(m.object);
  if (*awaits_want) {
    // Before the OBJECT leaves, so the reader can check each WANT against it.
    std::lock_guard lock(mu_);
    awaiting_.emplace(m.object.state.oid, m.object.seq);
  }
  KVFS_RETURN_IF_ERROR(Post(m));
  stats_.objects_sent += 1;
  for (const auto& [index, data] : m.object.inline_chunks) stats_.inline_bytes_sent += data.size();
  return Status::Ok();
}

Status Session::ServeWants(const OutgoingObject& obj) {
  std::map<uint64_t, HlcStamp> manifest;
  for (const ChunkRef& ref : obj.state.chunks) manifest[ref.index] = ref.stamp;
  for (;;) {
    // The OBJECT (and whatever was posted) must be out before we wait for the WANT.
    KVFS_RETURN_IF_ERROR(FlushBatch());
    WantMsg want;
    const auto deadline = Clock::now() + options_.idle_timeout;
    {
      std::unique_lock lock(mu_);
      for (;;) {
        if (halted()) return Status::Ok();
        if (!wants_.empty()) break;
        if (!control_.empty()) {
          lock.unlock();
          KVFS_RETURN_IF_ERROR(FlushControl());
          KVFS_RETURN_IF_ERROR(FlushBatch());
          lock.lock();
          continue;
        }
        if (!cv_.wait_until(lock, halt_.get_token(), deadline,
                            [this] { return !wants_.empty() || !control_.empty(); }) &&
            !halted()) {
          return Status(Code::kBusy, "the peer did not answer OBJECT " + obj.state.oid.ToString() +
                                         " with WANT in time");
        }
      }
      want = std::move(wants_.front());
      wants_.pop_front();
    }
    if (want.oid != obj.state.oid || want.seq != obj.seq) {
      return Status(Code::kCorruption, "peer sent WANT for " + want.oid.ToString() + " seq " +
                                           std::to_string(want.seq) + " while " +
                                           obj.state.oid.ToString() + " seq " +
                                           std::to_string(obj.seq) + " was pending");
    }
    for (uint64_t index : want.indexes) {
      KVFS_RETURN_IF_ERROR(FlushControl());
      if (halted()) return Status::Ok();
      auto it = manifest.find(index);
      if (it == manifest.end()) {
        return Status(Code::kCorruption, "peer wants chunk " + std::to_string(index) + " of " +
                                             obj.state.oid.ToString() +
                                             ", which its OBJECT did not announce");
      }
      auto data = outbox_.ReadChunk(obj.state.oid, index, it->second);
      if (!data.ok()) {
        if (data.status().code() != Code::kNotFound) return data.status();
        // Changed since announced: the newer version follows later in the feed.
        return Send(ChunkGoneMsg{obj.state.oid, index});
      }
      const size_t size = data->size();
      KVFS_RETURN_IF_ERROR(Send(ChunkMsg{obj.state.oid, index, it->second, std::move(*data)}));
      stats_.chunks_sent += 1;
      stats_.chunk_bytes_sent += size;
    }
    if (!want.more) return Status::Ok();
  }
}

Result<bool> Session::CaughtUp(uint64_t sent_upto) {
  KVFS_ASSIGN_OR_RETURN(uint64_t last, outbox_.LastSeq());
  std::lock_guard lock(mu_);
  return last <= sent_upto && peer_acked_ >= last && !reader_busy_ && applied_upto_ >= peer_head_ &&
         control_.empty() && phase_ == Phase::kStreaming;
}

Status Session::FinishRound() {
  uint64_t applied;
  {
    std::lock_guard lock(mu_);
    applied = applied_upto_;
  }
  KVFS_ASSIGN_OR_RETURN(uint64_t last, outbox_.LastSeq());
  if (store_.options().no_sync) KVFS_RETURN_IF_ERROR(store_.Sync());
  KVFS_RETURN_IF_ERROR(Send(AckMsg{applied, last}));
  {
    std::lock_guard lock(mu_);
    bye_sent_ = true;
  }
  KVFS_RETURN_IF_ERROR(Send(ByeMsg{}, /*final=*/true));
  // The peer closes on our BYE; its end of stream then ends our reader cleanly.
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, halt_.get_token(), kByeLinger, [this] { return finished_ || error_; });
  finished_ = true;
  return Status::Ok();
}

Status Session::SenderLoop() {
  // Streaming starts once the peer's first ACK said where its cursor of us is.
  uint64_t sent_upto = 0;
  {
    std::unique_lock lock(mu_);
    while (phase_ != Phase::kStreaming) {
      if (halted()) return Status::Ok();
      if (!control_.empty()) {
        lock.unlock();
        KVFS_RETURN_IF_ERROR(FlushControl());
        KVFS_RETURN_IF_ERROR(FlushBatch());
        lock.lock();
        continue;
      }
      cv_.wait(lock, halt_.get_token(),
               [this] { return phase_ == Phase::kStreaming || !control_.empty(); });
    }
    sent_upto = peer_cursor_start_;
  }
  std::deque<OutgoingObject> batch;
  // The feed is read up to scanned_upto; the peer's cursor reaches told_upto once it
  // has what we posted (an OBJECT's seq, or a SKIP over trailing echoes).
  uint64_t scanned_upto = sent_upto, told_upto = sent_upto;
  const auto skip = [this](uint64_t seq) { return IsEcho(seq); };
  auto last_send = Clock::now();
  uint64_t frames_before = stats_.frames_sent.load();
  while (!halted()) {
    KVFS_RETURN_IF_ERROR(FlushControl());
    if (batch.empty()) {
      const uint64_t before = scanned_upto;
      KVFS_ASSIGN_OR_RETURN(auto next, outbox_.Next(scanned_upto, options_.batch_size, skip,
                                                    &scanned_upto, options_.hold_back));
      for (auto& obj : next) batch.push_back(std::move(obj));
      {
        std::lock_guard lock(mu_);
        echoes_.erase(echoes_.begin(), echoes_.upper_bound(scanned_upto));
      }
      if (batch.empty() && scanned_upto != before) continue;  // only echoes: read on
    }
    if (!batch.empty()) {
      OutgoingObject obj = std::move(batch.front());
      batch.pop_front();
      bool awaits_want = false;
      KVFS_RETURN_IF_ERROR(SendObject(obj, &awaits_want));
      told_upto = obj.seq;
      if (awaits_want) {
        KVFS_RETURN_IF_ERROR(ServeWants(obj));
        std::lock_guard lock(mu_);
        awaiting_.reset();
      }
      continue;
    }
    // Caught up with the feed: let the peer's cursor pass the echoes we left out, and
    // send what is pending before waiting.
    if (scanned_upto > told_upto) {
      KVFS_RETURN_IF_ERROR(Post(SkipMsg{scanned_upto}));
      told_upto = scanned_upto;
    }
    KVFS_RETURN_IF_ERROR(FlushBatch());
    if (options_.until_synced) {
      KVFS_ASSIGN_OR_RETURN(bool done, CaughtUp(scanned_upto));
      if (done) return FinishRound();
    }
    const auto now = Clock::now();
    if (stats_.frames_sent.load() != frames_before) {
      frames_before = stats_.frames_sent.load();
      last_send = now;
    } else if (now - last_send >= options_.ping_interval) {
      KVFS_RETURN_IF_ERROR(Send(PingMsg{}));
      frames_before = stats_.frames_sent.load();
      last_send = now;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, halt_.get_token(), options_.poll_interval,
                 [this] { return woken_ || !control_.empty(); });
    woken_ = false;
  }
  return Status::Ok();
}

bool Session::IsEcho(uint64_t seq) {
  std::lock_guard lock(mu_);
  return echoes_.count(seq) > 0;
}

Status Session::RecordContact(bool connected, bool force) {
  const uint64_t node = peer_node_.load();
  if (node == 0) return Status::Ok();
  const auto now = Clock::now();
  if (!force && now - last_contact_write_ < std::chrono::seconds(5)) return Status::Ok();
  last_contact_write_ = now;
  PeerContact contact;
  contact.node = node;
  contact.address = label_;
  contact.last_contact_ms = last_contact_ms_;
  contact.connected = connected;
  contact.pid = static_cast<uint32_t>(getpid());
  contact.outgoing = role_ == crypto::Handshake::Role::kInitiator;
  return store_.Update([&](store::WriteTxn& t) { return WriteContact(t, contact); });
}

}  // namespace kvfs::sync
