#include "crypto/channel.h"

#include "crypto/init.h"

namespace kvfs::crypto {
namespace {

unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::unique_ptr<SecureChannel> SecureChannel::Create(const SessionKey& tx_key,
                                                     const SessionKey& rx_key) {
  EnsureInit();
  std::unique_ptr<SecureChannel> channel(new SecureChannel());
  channel->tx_header_.resize(kChannelHeaderSize);
  // init_push only fails for impossible argument sizes; the header is random.
  crypto_secretstream_xchacha20poly1305_init_push(&channel->tx_state_, Bytes(channel->tx_header_),
                                                  tx_key.data());
  channel->rx_key_ = rx_key;
  return channel;
}

SecureChannel::~SecureChannel() {
  sodium_memzero(&tx_state_, sizeof tx_state_);
  sodium_memzero(&rx_state_, sizeof rx_state_);
}

Status SecureChannel::Fail(std::string message) {
  broken_.store(true, std::memory_order_relaxed);
  // The receive state is useless now; wipe it so nothing more can be opened.
  sodium_memzero(&rx_state_, sizeof rx_state_);
  rx_key_.Wipe();
  return Status(Code::kCorruption, std::move(message));
}

Status SecureChannel::OpenHeader(std::string_view peer_header) {
  if (broken()) return Status(Code::kInvalid, "secure channel is broken");
  if (rx_started_) return Status(Code::kInvalid, "peer stream header already received");
  if (peer_header.size() != kChannelHeaderSize) {
    return Fail("peer stream header is " + std::to_string(peer_header.size()) +
                " bytes, expected " + std::to_string(kChannelHeaderSize));
  }
  if (crypto_secretstream_xchacha20poly1305_init_pull(&rx_state_, Bytes(peer_header),
                                                      rx_key_.data()) != 0) {
    return Fail("peer stream header is invalid");
  }
  rx_key_.Wipe();
  rx_started_ = true;
  return Status::Ok();
}

Result<std::string> SecureChannel::Seal(std::string_view plaintext, bool final) {
  if (broken()) return Status(Code::kInvalid, "secure channel is broken");
  if (tx_finished_) return Status(Code::kInvalid, "cannot seal after the final frame");
  if (plaintext.size() > kMaxFramePlaintext) {
    return Status(Code::kInvalid, "frame plaintext of " + std::to_string(plaintext.size()) +
                                      " bytes exceeds the limit of " +
                                      std::to_string(kMaxFramePlaintext));
  }
  std::string frame(plaintext.size() + kFrameOverhead, '\0');
  unsigned char tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                            : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  crypto_secretstream_xchacha20poly1305_push(&tx_state_, Bytes(frame), nullptr, Bytes(plaintext),
                                             plaintext.size(), nullptr, 0, tag);
  if (final) {
    tx_finished_ = true;
    sodium_memzero(&tx_state_, sizeof tx_state_);
  }
  return frame;
}

Result<std::string> SecureChannel::Open(std::string_view frame) {
  if (broken()) return Status(Code::kInvalid, "secure channel is broken");
  if (!rx_started_) {
    // A caller bug rather than a hostile peer, but the stream position is lost either way.
    Status st = Fail("frame received before the peer's stream header");
    return Status(Code::kInvalid, st.message());
  }
  if (rx_finished_) return Fail("peer sent a frame after its final frame");
  if (frame.size() < kFrameOverhead) {
    return Fail("truncated frame: " + std::to_string(frame.size()) + " bytes, at least " +
                std::to_string(kFrameOverhead) + " needed");
  }
  if (frame.size() > kMaxFrameCiphertext) {
    return Fail("frame of " + std::to_string(frame.size()) + " bytes exceeds the limit of " +
                std::to_string(kMaxFrameCiphertext));
  }
  std::string plaintext(frame.size() - kFrameOverhead, '\0');
  unsigned long long plaintext_len = 0;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(&rx_state_, Bytes(plaintext), &plaintext_len, &tag,
                                                 Bytes(frame), frame.size(), nullptr, 0) != 0) {
    sodium_memzero(plaintext.data(), plaintext.size());
    return Fail(
        "frame failed authentication (tampered, replayed, reordered, truncated, or not "
        "from this peer)");
  }
  plaintext.resize(plaintext_len);
  if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
    rx_finished_ = true;
  } else if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
    // We never send PUSH or REKEY; a peer that does is not speaking this protocol.
    sodium_memzero(plaintext.data(), plaintext.size());
    return Fail("frame carries an unexpected stream tag");
  }
  return plaintext;
}

}  // namespace kvfs::crypto
