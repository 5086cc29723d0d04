#pragma once
// SecureChannel: the sealed frames that carry every byte between two peers after the
// handshake (handshake.h), built on crypto_secretstream_xchacha20poly1305.
//
// Each direction has its own key and its own stream state:
// - The sending side's stream starts with a 24-byte header (Header()), which the peer
//   passes to OpenHeader() before opening any frame.
// - Seal() turns one plaintext message into one frame (plaintext + 17 bytes). Frames
//   carry an implicit counter inside the stream state: each one can be opened only by
//   the receiver's next Open(), in order, exactly once.
// - Open() returns the plaintext only if the frame is authentic and is the next one in
//   the stream. A tampered, truncated, replayed, reordered, foreign, or post-final frame
//   gives an error and no plaintext, and breaks the channel: every later Open() and
//   Seal() fails too, so the caller's only move is to close the connection.
// - Seal(..., /*final=*/true) marks the end of the stream. Use PeerFinished() to tell a
//   clean end (the peer's final frame arrived) from a connection cut short: an attacker
//   can always drop the tail of a stream, but cannot make the drop look like an end.
//
// Framing on a byte stream (length prefixes) is separate: see frame.h.
//
// Threads: not thread-safe, except that one thread may Seal while another Opens (the
// two directions share only the atomic "broken" flag).

#include <sodium.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/secret.h"

namespace kvfs::crypto {

using SessionKey = SecretBytes<crypto_secretstream_xchacha20poly1305_KEYBYTES>;

// Largest plaintext one frame may carry. Callers split larger payloads.
inline constexpr std::size_t kMaxFramePlaintext = 8u << 20;  // 8 MiB
// Bytes a frame adds to its plaintext (authentication tag and stream tag).
inline constexpr std::size_t kFrameOverhead = crypto_secretstream_xchacha20poly1305_ABYTES;
// Largest sealed frame; the default limit of FrameReader (frame.h).
inline constexpr std::size_t kMaxFrameCiphertext = kMaxFramePlaintext + kFrameOverhead;
// Size of the stream header that starts each direction.
inline constexpr std::size_t kChannelHeaderSize = crypto_secretstream_xchacha20poly1305_HEADERBYTES;

class SecureChannel {
 public:
  // A channel that seals with tx_key and opens with rx_key; the peer's channel must be
  // created with the same two keys swapped. The handshake is the normal way to get
  // one; this constructor is public so the channel can be tested alone.
  static std::unique_ptr<SecureChannel> Create(const SessionKey& tx_key, const SessionKey& rx_key);

  SecureChannel(const SecureChannel&) = delete;
  SecureChannel& operator=(const SecureChannel&) = delete;
  ~SecureChannel();  // Wipes both stream states.

  // Our stream header (kChannelHeaderSize bytes). Send it before the first frame.
  const std::string& Header() const { return tx_header_; }

  // Starts the receiving stream from the peer's header. Errors: kCorruption for a header
  // of the wrong size; kInvalid if called twice or on a broken channel.
  Status OpenHeader(std::string_view peer_header);

  // Seals one message. Errors (channel unchanged unless noted): kInvalid when the
  // plaintext exceeds kMaxFramePlaintext, after our final frame, or on a broken channel.
  Result<std::string> Seal(std::string_view plaintext, bool final = false);

  // Opens the peer's next frame. Errors: kInvalid before OpenHeader(); kCorruption for
  // a frame that fails authentication or ordering, is too short or too long, or arrives
  // after the peer's final frame. Any error breaks the channel.
  Result<std::string> Open(std::string_view frame);

  // True once the peer's final frame has been opened.
  bool PeerFinished() const { return rx_finished_; }
  // True once Open() has failed; the connection must be closed.
  bool broken() const { return broken_.load(std::memory_order_relaxed); }

 private:
  SecureChannel() = default;
  Status Fail(std::string message);

  crypto_secretstream_xchacha20poly1305_state tx_state_{};
  crypto_secretstream_xchacha20poly1305_state rx_state_{};
  SessionKey rx_key_;  // Held only until OpenHeader(), then wiped.
  std::string tx_header_;
  bool tx_finished_ = false;
  bool rx_started_ = false;
  bool rx_finished_ = false;
  std::atomic<bool> broken_{false};
};

}  // namespace kvfs::crypto
