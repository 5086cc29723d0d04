// Session: the reader thread (see session.h). It is the only thread that opens
// frames, applies objects and touches the Inbox; it never writes to the socket, it
// queues WANT and ACK for the sender instead.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "crypto/frame.h"
#include "store/keys.h"
#include "sync/object_codec.h"
#include "sync/session.h"

namespace kvfs::sync {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long one read waits before the reader looks at the clock and the halt flag.
constexpr milliseconds kReadSlice{100};
// ACK at least this often during a long run of applies.
constexpr size_t kAckEvery = 64;
constexpr size_t kReadBuffer = 64 * 1024;
// A peer may have sent at most one WANT part ahead (see RequestNextPart): more is a
// misbehaving peer, not a reason to queue without bound.
constexpr size_t kMaxQueuedWants = 4;

Status Unexpected(const char* what, const std::string& why) {
  return Status(Code::kCorruption, std::string("unexpected ") + what + " from peer: " + why);
}

}  // namespace

void Session::Queue(Message message) {
  std::lock_guard lock(mu_);
  control_.push_back(std::move(message));
  cv_.notify_all();
}

void Session::ReaderLoop() {
  crypto::FrameReader frames;  // at most one sealed frame (kMaxFrameCiphertext) buffered
  std::vector<char> buf(kReadBuffer);
  auto last_rx = Clock::now();
  while (!halted()) {
    while (auto frame = frames.Next()) {
      if (halted()) return;
      if (Status st = HandleFrame(*frame); !st.ok()) return Fail(std::move(st));
      last_rx = Clock::now();
    }
    if (halted()) return;
    // ACK a run of applies once no more input is waiting (or every kAckEvery).
    if (applied_since_ack_ > 0 && (applied_since_ack_ >= kAckEvery || !socket_.Readable())) {
      if (Status st = QueueAck(); !st.ok()) return Fail(std::move(st));
    }
    Phase phase;
    {
      std::lock_guard lock(mu_);
      phase = phase_;
    }
    const milliseconds limit =
        phase == Phase::kStreaming ? options_.idle_timeout : options_.handshake_timeout;
    const auto idle = std::chrono::duration_cast<milliseconds>(Clock::now() - last_rx);
    if (idle >= limit) {
      char secs[32];
      std::snprintf(secs, sizeof secs, "%.1f", static_cast<double>(idle.count()) / 1000);
      return Fail(Status(Code::kBusy, std::string("no message from the peer for ") + secs + " s"));
    }
    auto got = socket_.ReadSome(buf.data(), buf.size(), std::min(kReadSlice, limit - idle));
    if (!got.ok()) {
      if (got.status().code() == Code::kBusy) continue;
      return Fail(got.status());
    }
    if (*got == 0) {
      {
        std::lock_guard lock(mu_);
        if (bye_sent_ || finished_) {
          finished_ = true;  // we said BYE; the peer closing is the clean end
          cv_.notify_all();
          return;
        }
      }
      return Fail(Status(Code::kIo, frames.AtFrameBoundary()
                                        ? "the peer closed the connection"
                                        : "the connection was cut in the middle of a frame"));
    }
    stats_.bytes_received += *got;
    if (Status st = frames.Feed(std::string_view(buf.data(), *got)); !st.ok()) {
      return Fail(std::move(st));
    }
  }
}

Status Session::HandleFrame(const std::string& frame) {
  auto plain = channel_->Open(frame);
  if (!plain.ok()) return plain.status();  // says: tampered, replayed, reordered, ...
  // The whole frame decodes before any of it is handled: a malformed BATCH applies
  // nothing.
  auto decoded = DecodeFrameMessages(*plain);
  if (!decoded.ok()) return decoded.status();
  if (static_cast<uint8_t>((*plain)[0]) == static_cast<uint8_t>(MessageType::kBatch)) {
    stats_.recv_msgs[static_cast<size_t>(MessageType::kBatch)] += 1;
    stats_.recv_plain[static_cast<size_t>(MessageType::kBatch)] += plain->size();
  }
  for (Message& message : *decoded) {
    if (halted()) break;  // a BYE, or an error: the rest of the frame is moot
    KVFS_RETURN_IF_ERROR(HandleMessage(message));
  }
  return Status::Ok();
}

Status Session::HandleMessage(Message& message) {
  {
    const size_t t = static_cast<size_t>(TypeOf(message)) & 15;
    stats_.recv_msgs[t] += 1;
    // Re-encoding costs: only for the debug log.
    if (spdlog::should_log(spdlog::level::debug)) {
      stats_.recv_plain[t] += EncodeMessage(message).size();
    }
  }
  last_contact_ms_ = store::WallClockMs();
  Phase phase;
  {
    std::lock_guard lock(mu_);
    phase = phase_;
  }
  const MessageType type = TypeOf(message);
  if (type == MessageType::kBye) {
    // Allowed in every phase: a peer refusing a duplicate connection says BYE at once.
    if (!channel_->PeerFinished()) return Unexpected("BYE", "not sealed as the final frame");
    {
      std::lock_guard lock(mu_);
      finished_ = true;
      cv_.notify_all();
    }
    halt_.request_stop();
    return Status::Ok();
  }
  if (phase == Phase::kAwaitHello) {
    if (type != MessageType::kHello)
      return Unexpected(MessageTypeName(type), "HELLO must come first");
    return OnHello(std::get<HelloMsg>(message));
  }
  if (phase == Phase::kAwaitAck) {
    if (type != MessageType::kAck)
      return Unexpected(MessageTypeName(type), "ACK must follow HELLO");
    return OnFirstAck(std::get<AckMsg>(message));
  }
  switch (type) {
    case MessageType::kHello:
      return Unexpected("HELLO", "sent twice");
    case MessageType::kObject:
      return OnObject(std::get<ObjectMsg>(message));
    case MessageType::kWant: {
      WantMsg& want = std::get<WantMsg>(message);
      std::lock_guard lock(mu_);
      if (!awaiting_ || awaiting_->first != want.oid || awaiting_->second != want.seq) {
        return Unexpected("WANT", "for " + want.oid.ToString() + ", which was not offered");
      }
      if (wants_.size() >= kMaxQueuedWants) return Unexpected("WANT", "too many outstanding");
      wants_.push_back(std::move(want));
      cv_.notify_all();
      return Status::Ok();
    }
    case MessageType::kChunk:
      return OnChunk(std::get<ChunkMsg>(message));
    case MessageType::kChunkGone:
      return OnChunkGone(std::get<ChunkGoneMsg>(message));
    case MessageType::kAck:
      return OnAck(std::get<AckMsg>(message));
    case MessageType::kPing:
      return RecordContact(/*connected=*/true, /*force=*/false);
    case MessageType::kSkip:
      return OnSkip(std::get<SkipMsg>(message));
    case MessageType::kBye:
    case MessageType::kBatch:
      break;  // handled above / unwrapped by DecodeFrameMessages
  }
  return Unexpected("message", "unknown type");
}

Status Session::OnHello(const HelloMsg& m) {
  if (m.version != kProtocolVersion) {
    return Status(Code::kVersion, "the peer speaks sync protocol " + std::to_string(m.version) +
                                      ", this kvfs speaks " + std::to_string(kProtocolVersion) +
                                      "; upgrade kvfs on both machines to the same version");
  }
  if (m.node == 0) return Status(Code::kCorruption, "malformed HELLO message from peer: node 0");
  if (m.node == store_.node_id()) {
    return Status(Code::kInvalid,
                  "the peer has this store's own node id: a store cannot sync with itself "
                  "or with a copy of its directory; on the other machine run 'kvfs init' "
                  "and then 'kvfs key set' with this store's key");
  }
  peer_node_ = m.node;
  if (options_.on_peer) KVFS_RETURN_IF_ERROR(options_.on_peer(m.node));
  inbox_ = std::make_unique<Inbox>(store_, m.node);
  KVFS_ASSIGN_OR_RETURN(uint64_t cursor, inbox_->Cursor());
  KVFS_ASSIGN_OR_RETURN(uint64_t last, outbox_.LastSeq());
  {
    std::lock_guard lock(mu_);
    peer_head_ = m.last_seq;
    applied_upto_ = cursor;
    phase_ = Phase::kAwaitAck;
  }
  Queue(AckMsg{cursor, last});
  spdlog::info("sync with {}: connected to node {:016x}", label_, m.node);
  return RecordContact(/*connected=*/true, /*force=*/true);
}

Status Session::OnFirstAck(const AckMsg& m) {
  KVFS_ASSIGN_OR_RETURN(uint64_t last, outbox_.LastSeq());
  uint64_t start = m.cursor;
  if (m.cursor > last) {
    // The peer has applied more of our feed than exists: this store was restored
    // from an older copy. Resending everything is safe (applying is idempotent).
    spdlog::info(
        "sync with {}: the peer is ahead of this store's feed ({} > {}); "
        "sending everything again",
        label_, m.cursor, last);
    start = 0;
  }
  uint64_t head, acked;
  {
    std::lock_guard lock(mu_);
    peer_cursor_start_ = start;
    peer_acked_ = start;
    peer_head_ = std::max(peer_head_, m.last_seq);
    phase_ = Phase::kStreaming;
    head = peer_head_;
    acked = peer_acked_;
    cv_.notify_all();
  }
  return inbox_->NotePeerHead(head, acked);
}

Status Session::OnAck(const AckMsg& m) {
  uint64_t head, acked;
  {
    std::lock_guard lock(mu_);
    peer_acked_ = m.cursor;
    peer_head_ = std::max(peer_head_, m.last_seq);
    head = peer_head_;
    acked = peer_acked_;
    cv_.notify_all();
  }
  KVFS_RETURN_IF_ERROR(inbox_->NotePeerHead(head, acked));
  return RecordContact(/*connected=*/true, /*force=*/false);
}

Status Session::OnObject(ObjectMsg& m) {
  if (incoming_) {
    return Unexpected(
        "OBJECT", "chunks of " + incoming_->object.state.oid.ToString() + " are still outstanding");
  }
  if (m.object.seq <= last_seq_received_) {
    return Unexpected("OBJECT", "seq " + std::to_string(m.object.seq) + " after " +
                                    std::to_string(last_seq_received_));
  }
  last_seq_received_ = m.object.seq;
  {
    std::lock_guard lock(mu_);
    peer_head_ = std::max(peer_head_, m.object.seq);
  }
  if (!NeedsWant(m.object)) {
    for (const auto& [index, data] : m.object.inline_chunks) {
      stats_.inline_bytes_received += data.size();
    }
    return ApplyObject(m.object);
  }
  Incoming in;
  in.object = std::move(m.object);
  for (const ChunkRef& ref : in.object.state.chunks) in.manifest[ref.index] = ref.stamp;
  KVFS_ASSIGN_OR_RETURN(in.missing, inbox_->Missing(in.object));
  {
    std::lock_guard lock(mu_);
    reader_busy_ = true;
  }
  incoming_ = std::move(in);
  return RequestNextPart();
}

// Asks for the next part of the missing chunks (an empty WANT when none are missing,
// because the sender waits for an answer), or applies once everything arrived.
Status Session::RequestNextPart() {
  Incoming& in = *incoming_;
  const bool first = in.next_part == 0;
  if (!first && in.next_part >= in.missing.size()) {
    OutgoingObject obj = std::move(in.object);
    incoming_.reset();
    return ApplyObject(obj);
  }
  const size_t end = std::min(in.next_part + kMaxWantIndexes, in.missing.size());
  WantMsg want;
  want.oid = in.object.state.oid;
  want.seq = in.object.seq;
  want.more = end < in.missing.size();
  want.indexes.assign(in.missing.begin() + static_cast<ptrdiff_t>(in.next_part),
                      in.missing.begin() + static_cast<ptrdiff_t>(end));
  in.outstanding.insert(want.indexes.begin(), want.indexes.end());
  in.next_part = end;
  const bool nothing_missing = want.indexes.empty();
  Queue(std::move(want));
  if (nothing_missing) {
    OutgoingObject obj = std::move(in.object);
    incoming_.reset();
    return ApplyObject(obj);
  }
  return Status::Ok();
}

Status Session::OnChunk(const ChunkMsg& m) {
  if (!incoming_ || m.oid != incoming_->object.state.oid) {
    return Unexpected("CHUNK", "no chunks of " + m.oid.ToString() + " were asked for");
  }
  Incoming& in = *incoming_;
  if (!in.outstanding.count(m.index)) {
    return Unexpected("CHUNK", "chunk " + std::to_string(m.index) + " was not asked for");
  }
  if (in.manifest[m.index] != m.stamp) {
    return Unexpected("CHUNK", "chunk " + std::to_string(m.index) +
                                   " has another stamp than its OBJECT announced");
  }
  KVFS_RETURN_IF_ERROR(inbox_->Stage(m.oid, m.index, m.stamp, m.data));
  stats_.chunks_received += 1;
  stats_.chunk_bytes_received += m.data.size();
  in.outstanding.erase(m.index);
  if (!in.outstanding.empty()) return Status::Ok();
  return RequestNextPart();
}

Status Session::OnChunkGone(const ChunkGoneMsg& m) {
  if (!incoming_ || m.oid != incoming_->object.state.oid ||
      !incoming_->outstanding.count(m.index)) {
    return Unexpected("CHUNK_GONE", "no such chunk was asked for");
  }
  const uint64_t seq = incoming_->object.seq;
  incoming_.reset();
  spdlog::debug("sync with {}: {} changed while it was sent; its newer version follows", label_,
                m.oid.ToString());
  return SkipObject(seq);
}

Status Session::ApplyObject(const OutgoingObject& obj) {
  std::vector<uint64_t> echoes;
  auto result = inbox_->Apply(obj, &echoes, &parked_from_peer_);
  if (!result.ok()) {
    return Status(result.status().code(), "cannot apply " + obj.state.oid.ToString() +
                                              " from the peer: " + result.status().message());
  }
  stats_.objects_received += 1;
  // Bounded: an echo sent anyway is only bytes.
  if (result->parked && parked_from_peer_.size() < 100000) {
    parked_from_peer_[obj.state.oid] = EncodeObject(obj.state);
  } else if (!result->parked) {
    parked_from_peer_.erase(obj.state.oid);
  }
  if (!echoes.empty()) {
    // After the commit (a seq of an aborted transaction could be reused).
    std::lock_guard lock(mu_);
    echoes_.insert(echoes.begin(), echoes.end());
  }
  if (result->conflict) stats_.conflicts += 1;
  if (result->changed) {
    stats_.objects_changed += 1;
    if (options_.on_applied) options_.on_applied();
  }
  {
    std::lock_guard lock(mu_);
    applied_upto_ = obj.seq;
    reader_busy_ = false;
  }
  ++applied_since_ack_;
  return Status::Ok();
}

// The peer's feed up to m.upto holds only what we sent it: move the cursor there.
Status Session::OnSkip(const SkipMsg& m) {
  if (incoming_) {
    return Unexpected("SKIP", "chunks of " + incoming_->object.state.oid.ToString() +
                                  " are still outstanding");
  }
  if (m.upto <= last_seq_received_) {
    return Unexpected("SKIP", "to " + std::to_string(m.upto) + " after " +
                                  std::to_string(last_seq_received_));
  }
  last_seq_received_ = m.upto;
  const uint64_t node = peer_node_.load();
  KVFS_RETURN_IF_ERROR(store_.Update([&](store::WriteTxn& t) {
    return t.PutSyncValue(CursorKey(node), store::keys::U64Key(m.upto));
  }));
  {
    std::lock_guard lock(mu_);
    peer_head_ = std::max(peer_head_, m.upto);
    applied_upto_ = m.upto;
  }
  ++applied_since_ack_;
  return Status::Ok();
}

// The object's version is gone at the sender: move the cursor past it, applying
// nothing. Its staged chunks stay; the newer version may reuse them.
Status Session::SkipObject(uint64_t seq) {
  const uint64_t node = peer_node_.load();
  KVFS_RETURN_IF_ERROR(store_.Update([&](store::WriteTxn& t) {
    return t.PutSyncValue(CursorKey(node), store::keys::U64Key(seq));
  }));
  stats_.objects_received += 1;
  {
    std::lock_guard lock(mu_);
    applied_upto_ = seq;
    reader_busy_ = false;
  }
  ++applied_since_ack_;
  return Status::Ok();
}

Status Session::QueueAck() {
  // An ACK promises the data is applied; make it durable first when commits are not.
  if (store_.options().no_sync) KVFS_RETURN_IF_ERROR(store_.Sync());
  KVFS_ASSIGN_OR_RETURN(uint64_t last, outbox_.LastSeq());
  uint64_t applied;
  {
    std::lock_guard lock(mu_);
    applied = applied_upto_;
  }
  Queue(AckMsg{applied, last});
  applied_since_ack_ = 0;
  return RecordContact(/*connected=*/true, /*force=*/false);
}

}  // namespace kvfs::sync
