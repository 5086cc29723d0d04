#pragma once
// The messages two peers exchange inside a SecureChannel (crypto/channel.h). A sealed
// frame's plaintext is one message, or a BATCH of several (sync/batch.h):
//
//   message = type u8 | body          (integers big-endian, see base/bytes.h)
//
//   HELLO      1  version u16 | node u64 | last_seq u64
//   OBJECT     2  seq u64 | object bytes (u32 length | EncodeObject)
//                 | inline count u32 | count x (index u64 | bytes (u32 length | data))
//   WANT       3  oid (node u64, serial u64) | seq u64 | more u8
//                 | count u32 | count x index u64
//   CHUNK      4  oid | index u64 | stamp (time u64, node u64) | bytes (u32 length | data)
//   CHUNK_GONE 5  oid | index u64
//   ACK        6  cursor u64 | last_seq u64
//   PING       7  (empty)
//   BYE        8  (empty; sealed as the channel's final frame)
//   SKIP       9  upto u64: my feed up to `upto` holds nothing for you (only what you
//                 sent me), move your cursor there
//   BATCH     10  several of the above in one compressed frame (sync/batch.h); never
//                 nested, never HELLO or BYE
//
// The protocol version travels in HELLO; a peer speaking another version is refused.
// Decoding never trusts a count or a length: each is checked against its limit and
// against the bytes that remain before anything is allocated, indexes must be strictly
// increasing, and trailing bytes are an error. Any malformed input gives kCorruption
// with a message naming the message type and what was wrong; never a crash.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "store/types.h"
#include "sync/exchange.h"

namespace kvfs::sync {

// 2: BATCH and SKIP (kvfs before them speaks 1 and is refused at HELLO).
inline constexpr uint16_t kProtocolVersion = 2;

// Inline chunks of one OBJECT (Outbox inlines files up to kInlineLimit, i.e. 4 chunks;
// the limit leaves room for a future larger inline size).
inline constexpr size_t kMaxInlineChunks = 64;
// Indexes of one WANT; a receiver that misses more sends several (more = 1).
inline constexpr size_t kMaxWantIndexes = 65536;

enum class MessageType : uint8_t {
  kHello = 1,
  kObject = 2,
  kWant = 3,
  kChunk = 4,
  kChunkGone = 5,
  kAck = 6,
  kPing = 7,
  kBye = 8,
  kSkip = 9,
  kBatch = 10,  // framing only (sync/batch.h), not a Message alternative
};
const char* MessageTypeName(MessageType type);

// First message each way after the handshake: who I am and how far my feed goes.
struct HelloMsg {
  uint16_t version = kProtocolVersion;
  uint64_t node = 0;
  uint64_t last_seq = 0;
  friend bool operator==(const HelloMsg&, const HelloMsg&) = default;
};

// One changed object of the sender's feed (see exchange.h, OutgoingObject).
struct ObjectMsg {
  OutgoingObject object;
};

// The receiver's answer to an OBJECT whose chunks are not all inline: the chunks it
// still needs (possibly none). `more` says another WANT for the same object follows.
struct WantMsg {
  ObjectId oid;
  uint64_t seq = 0;
  bool more = false;
  std::vector<uint64_t> indexes;  // strictly increasing
  friend bool operator==(const WantMsg&, const WantMsg&) = default;
};

struct ChunkMsg {
  ObjectId oid;
  uint64_t index = 0;
  HlcStamp stamp;
  std::string data;  // at most store::kChunkSize bytes
  friend bool operator==(const ChunkMsg&, const ChunkMsg&) = default;
};

// The sender no longer has that version of the chunk: the object changed since it was
// announced, and its newer version comes later in the feed.
struct ChunkGoneMsg {
  ObjectId oid;
  uint64_t index = 0;
  friend bool operator==(const ChunkGoneMsg&, const ChunkGoneMsg&) = default;
};

// How far the sender of the ACK has applied the receiver's feed, and its own last seq.
struct AckMsg {
  uint64_t cursor = 0;
  uint64_t last_seq = 0;
  friend bool operator==(const AckMsg&, const AckMsg&) = default;
};

struct PingMsg {
  friend bool operator==(const PingMsg&, const PingMsg&) = default;
};
struct ByeMsg {
  friend bool operator==(const ByeMsg&, const ByeMsg&) = default;
};

// The sender skipped feed entries up to `upto` that only echo the receiver's own
// objects back (see Session); the receiver's cursor moves past them.
struct SkipMsg {
  uint64_t upto = 0;
  friend bool operator==(const SkipMsg&, const SkipMsg&) = default;
};

// Alternatives in type order, starting at 1 (TypeOf relies on it).
using Message = std::variant<HelloMsg, ObjectMsg, WantMsg, ChunkMsg, ChunkGoneMsg, AckMsg, PingMsg,
                             ByeMsg, SkipMsg>;

MessageType TypeOf(const Message& message);

// The plaintext of one frame. May exceed crypto::kMaxFramePlaintext for an OBJECT
// with huge metadata; the session checks before sealing.
std::string EncodeMessage(const Message& message);

// Parses one message (a frame's plaintext, or one message of a BATCH; see
// DecodeFrameMessages in sync/batch.h for a frame that may be a BATCH). kCorruption
// for anything malformed, a BATCH included.
Result<Message> DecodeMessage(std::string_view bytes);

// True when an OBJECT announces chunks that do not travel inline, so the receiver
// answers with WANT and the sender waits for it. Both sides decide with this.
bool NeedsWant(const OutgoingObject& object);

}  // namespace kvfs::sync
