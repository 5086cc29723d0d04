#include "sync/messages.h"

#include "base/bytes.h"
#include "crypto/channel.h"
#include "sync/object_codec.h"

namespace kvfs::sync {
namespace {

Status Bad(MessageType type, const std::string& what) {
  return Status(Code::kCorruption,
                std::string("malformed ") + MessageTypeName(type) + " message from peer: " + what);
}

void PutOid(ByteWriter& w, const ObjectId& oid) {
  w.U64(oid.node);
  w.U64(oid.serial);
}
bool GetOid(ByteReader& r, ObjectId* oid) { return r.U64(&oid->node) && r.U64(&oid->serial); }

// A count of elements that take at least `min_size` bytes each: within `max`, and no
// more than the remaining bytes could hold (so nothing is allocated for a lie).
bool GetCount(ByteReader& r, size_t max, size_t min_size, uint32_t* n) {
  return r.U32(n) && *n <= max && *n <= r.remaining() / min_size;
}

void EncodeBody(const HelloMsg& m, ByteWriter& w) {
  w.U16(m.version);
  w.U64(m.node);
  w.U64(m.last_seq);
}
void EncodeBody(const ObjectMsg& m, ByteWriter& w) {
  w.U64(m.object.seq);
  w.Bytes(EncodeObject(m.object.state));
  w.U32(static_cast<uint32_t>(m.object.inline_chunks.size()));
  for (const auto& [index, data] : m.object.inline_chunks) {
    w.U64(index);
    w.Bytes(data);
  }
}
void EncodeBody(const WantMsg& m, ByteWriter& w) {
  PutOid(w, m.oid);
  w.U64(m.seq);
  w.U8(m.more ? 1 : 0);
  w.U32(static_cast<uint32_t>(m.indexes.size()));
  for (uint64_t index : m.indexes) w.U64(index);
}
void EncodeBody(const ChunkMsg& m, ByteWriter& w) {
  PutOid(w, m.oid);
  w.U64(m.index);
  w.U64(m.stamp.time);
  w.U64(m.stamp.node);
  w.Bytes(m.data);
}
void EncodeBody(const ChunkGoneMsg& m, ByteWriter& w) {
  PutOid(w, m.oid);
  w.U64(m.index);
}
void EncodeBody(const AckMsg& m, ByteWriter& w) {
  w.U64(m.cursor);
  w.U64(m.last_seq);
}
void EncodeBody(const SkipMsg& m, ByteWriter& w) { w.U64(m.upto); }
void EncodeBody(const PingMsg&, ByteWriter&) {}
void EncodeBody(const ByeMsg&, ByteWriter&) {}

Status DecodeHello(ByteReader& r, HelloMsg* m) {
  if (!r.U16(&m->version) || !r.U64(&m->node) || !r.U64(&m->last_seq)) {
    return Bad(MessageType::kHello, "truncated");
  }
  return Status::Ok();
}

Status DecodeObjectMsg(ByteReader& r, ObjectMsg* m) {
  constexpr MessageType kType = MessageType::kObject;
  std::string object_bytes;
  if (!r.U64(&m->object.seq)) return Bad(kType, "truncated seq");
  if (m->object.seq == 0) return Bad(kType, "seq 0");
  if (!r.Bytes(crypto::kMaxFramePlaintext, &object_bytes)) return Bad(kType, "truncated object");
  auto state = DecodeObject(object_bytes);
  if (!state.ok()) {
    if (state.status().code() == Code::kVersion) return state.status();
    return Bad(kType, state.status().message());
  }
  m->object.state = std::move(state).value();
  uint32_t n;
  // Each inline chunk takes at least 12 bytes: index and length.
  if (!GetCount(r, kMaxInlineChunks, 12, &n)) return Bad(kType, "bad inline chunk count");
  const auto& refs = m->object.state.chunks;
  size_t ref_pos = 0;
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t index;
    std::string data;
    if (!r.U64(&index) || !r.Bytes(store::kChunkSize, &data)) {
      return Bad(kType, "truncated or oversized inline chunk");
    }
    // Inline chunks are a subset of the manifest, in the same (increasing) order.
    while (ref_pos < refs.size() && refs[ref_pos].index < index) ++ref_pos;
    if (ref_pos == refs.size() || refs[ref_pos].index != index) {
      return Bad(kType, "inline chunk " + std::to_string(index) + " is not in the manifest");
    }
    ++ref_pos;
    m->object.inline_chunks.emplace(index, std::move(data));
  }
  return Status::Ok();
}

Status DecodeWant(ByteReader& r, WantMsg* m) {
  constexpr MessageType kType = MessageType::kWant;
  uint8_t more;
  uint32_t n;
  if (!GetOid(r, &m->oid) || !r.U64(&m->seq) || !r.U8(&more)) return Bad(kType, "truncated");
  if (more > 1) return Bad(kType, "bad 'more' flag");
  m->more = more == 1;
  if (!GetCount(r, kMaxWantIndexes, 8, &n)) return Bad(kType, "bad index count");
  m->indexes.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (!r.U64(&m->indexes[i])) return Bad(kType, "truncated index");
    if (i > 0 && m->indexes[i] <= m->indexes[i - 1]) {
      return Bad(kType, "indexes not strictly increasing");
    }
  }
  return Status::Ok();
}

Status DecodeChunk(ByteReader& r, ChunkMsg* m) {
  constexpr MessageType kType = MessageType::kChunk;
  if (!GetOid(r, &m->oid) || !r.U64(&m->index) || !r.U64(&m->stamp.time) ||
      !r.U64(&m->stamp.node)) {
    return Bad(kType, "truncated");
  }
  if (!r.Bytes(store::kChunkSize, &m->data)) return Bad(kType, "truncated or oversized data");
  return Status::Ok();
}

Status DecodeChunkGone(ByteReader& r, ChunkGoneMsg* m) {
  if (!GetOid(r, &m->oid) || !r.U64(&m->index)) return Bad(MessageType::kChunkGone, "truncated");
  return Status::Ok();
}

Status DecodeAck(ByteReader& r, AckMsg* m) {
  if (!r.U64(&m->cursor) || !r.U64(&m->last_seq)) return Bad(MessageType::kAck, "truncated");
  return Status::Ok();
}

Status DecodeSkip(ByteReader& r, SkipMsg* m) {
  if (!r.U64(&m->upto)) return Bad(MessageType::kSkip, "truncated");
  if (m->upto == 0) return Bad(MessageType::kSkip, "seq 0");
  return Status::Ok();
}

template <typename T>
Status DecodeEmpty(ByteReader&, T*) {
  return Status::Ok();
}

template <typename T>
Result<Message> DecodeAs(ByteReader& r, MessageType type, Status (*decode)(ByteReader&, T*)) {
  T m;
  KVFS_RETURN_IF_ERROR(decode(r, &m));
  if (!r.done()) {
    return Bad(type, std::to_string(r.remaining()) + " unexpected trailing bytes");
  }
  return Message(std::move(m));
}

}  // namespace

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kHello:
      return "HELLO";
    case MessageType::kObject:
      return "OBJECT";
    case MessageType::kWant:
      return "WANT";
    case MessageType::kChunk:
      return "CHUNK";
    case MessageType::kChunkGone:
      return "CHUNK_GONE";
    case MessageType::kAck:
      return "ACK";
    case MessageType::kPing:
      return "PING";
    case MessageType::kBye:
      return "BYE";
    case MessageType::kSkip:
      return "SKIP";
    case MessageType::kBatch:
      return "BATCH";
  }
  return "unknown";
}

MessageType TypeOf(const Message& message) {
  // The variant's alternatives are in type order, starting at 1.
  return static_cast<MessageType>(message.index() + 1);
}

std::string EncodeMessage(const Message& message) {
  ByteWriter w;
  w.U8(static_cast<uint8_t>(TypeOf(message)));
  std::visit([&w](const auto& m) { EncodeBody(m, w); }, message);
  return w.Take();
}

Result<Message> DecodeMessage(std::string_view bytes) {
  ByteReader r(bytes);
  uint8_t type;
  if (!r.U8(&type)) return Status(Code::kCorruption, "empty message from peer");
  switch (static_cast<MessageType>(type)) {
    case MessageType::kHello:
      return DecodeAs<HelloMsg>(r, MessageType::kHello, DecodeHello);
    case MessageType::kObject:
      return DecodeAs<ObjectMsg>(r, MessageType::kObject, DecodeObjectMsg);
    case MessageType::kWant:
      return DecodeAs<WantMsg>(r, MessageType::kWant, DecodeWant);
    case MessageType::kChunk:
      return DecodeAs<ChunkMsg>(r, MessageType::kChunk, DecodeChunk);
    case MessageType::kChunkGone:
      return DecodeAs<ChunkGoneMsg>(r, MessageType::kChunkGone, DecodeChunkGone);
    case MessageType::kAck:
      return DecodeAs<AckMsg>(r, MessageType::kAck, DecodeAck);
    case MessageType::kPing:
      return DecodeAs<PingMsg>(r, MessageType::kPing, DecodeEmpty<PingMsg>);
    case MessageType::kBye:
      return DecodeAs<ByeMsg>(r, MessageType::kBye, DecodeEmpty<ByeMsg>);
    case MessageType::kSkip:
      return DecodeAs<SkipMsg>(r, MessageType::kSkip, DecodeSkip);
    case MessageType::kBatch:
      return Bad(MessageType::kBatch, "nested BATCH (or a BATCH where one message belongs)");
  }
  return Status(Code::kCorruption,
                "malformed message from peer: unknown type " + std::to_string(type));
}

bool NeedsWant(const OutgoingObject& object) {
  for (const ChunkRef& ref : object.state.chunks) {
    if (!object.inline_chunks.count(ref.index)) return true;
  }
  return false;
}

}  // namespace kvfs::sync
