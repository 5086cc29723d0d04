#pragma once
// Length-prefixed framing of a byte stream (a TCP connection).
//
// Wire format of one frame:  length (u32, big-endian) | payload (length bytes).
// Payloads are opaque here: handshake messages (handshake.h) and sealed frames
// (channel.h). A zero-length payload is valid framing; it is the channel, not the
// framing, that rejects an empty sealed frame.
//
// FrameReader is fed whatever chunks the socket returns (split anywhere, several frames
// per chunk) and yields whole payloads in order. A length prefix over the reader's limit
// is rejected as soon as its 4 bytes arrive, before any payload byte is buffered, so a
// hostile peer cannot make us allocate more than the limit (plus one fed chunk).
// After an error the reader is dead: every later Feed() fails. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/channel.h"

namespace kvfs::crypto {

inline constexpr std::size_t kFrameLengthSize = 4;
// Default payload limit: the largest sealed frame.
inline constexpr std::size_t kDefaultMaxFramePayload = kMaxFrameCiphertext;

// Returns the length prefix followed by the payload. Errors: kInvalid when the payload
// does not fit in a u32 length (sealed frames never come close).
Result<std::string> EncodeFrame(std::string_view payload);

class FrameReader {
 public:
  explicit FrameReader(std::size_t max_payload = kDefaultMaxFramePayload)
      : max_payload_(max_payload) {}

  // Consumes a chunk of the stream. Complete frames become available from Next().
  // Errors: kCorruption when a frame announces more than max_payload bytes (the
  // message gives both numbers); kInvalid when the reader is already dead.
  Status Feed(std::string_view chunk);

  // The next complete payload, oldest first, or nullopt when none is complete.
  std::optional<std::string> Next();

  // True when no partial frame is buffered: a stream that ends here ended cleanly,
  // otherwise it was cut in the middle of a frame.
  bool AtFrameBoundary() const { return header_len_ == 0; }
  // Bytes held for the frame in progress (header and payload).
  std::size_t PartialBytes() const { return header_len_ + payload_.size(); }
  bool dead() const { return dead_; }

 private:
  std::size_t max_payload_;
  std::uint8_t header_[kFrameLengthSize] = {};
  std::size_t header_len_ = 0;   // Header bytes received for the frame in progress.
  std::size_t payload_len_ = 0;  // Valid once header_len_ == kFrameLengthSize.
  std::string payload_;
  std::deque<std::string> ready_;
  bool dead_ = false;
};

}  // namespace kvfs::crypto
