#include "crypto/handshake.h"

#include <utility>

#include "crypto/init.h"

namespace kvfs::crypto {
namespace {

// What each side seals as its first frame. Distinct per role so that even a bug that
// gave both directions the same key could not let a reflected confirm pass.
constexpr std::string_view kConfirmByInitiator = "kvfs confirm initiator v1";
constexpr std::string_view kConfirmByResponder = "kvfs confirm responder v1";
static_assert(kConfirmByInitiator.size() == kConfirmByResponder.size());
constexpr std::size_t kConfirmSize =
    kChannelHeaderSize + kFrameOverhead + kConfirmByInitiator.size();

// Domain labels of the two session keys. All inputs after the label have fixed sizes,
// so their concatenation is unambiguous.
constexpr std::string_view kLabelInitiatorToResponder = "kvfs session i2r v1";
constexpr std::string_view kLabelResponderToInitiator = "kvfs session r2i v1";

constexpr std::size_t kRoleOffset = kHandshakeMagic.size() + 1;
constexpr std::size_t kPublicKeyOffset = kRoleOffset + 1;
constexpr std::size_t kNonceOffset = kPublicKeyOffset + crypto_kx_PUBLICKEYBYTES;
static_assert(kNonceOffset + kHelloNonceSize == kHelloSize);

using KxKey = SecretBytes<crypto_kx_SESSIONKEYBYTES>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

SessionKey DeriveSessionKey(const StoreKey& store_key, std::string_view label, const KxKey& kx_key,
                            std::string_view initiator_hello, std::string_view responder_hello) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, store_key.data(), store_key.size(), SessionKey::kSize);
  crypto_generichash_update(&state, Bytes(label), label.size());
  crypto_generichash_update(&state, kx_key.data(), kx_key.size());
  crypto_generichash_update(&state, Bytes(initiator_hello), initiator_hello.size());
  crypto_generichash_update(&state, Bytes(responder_hello), responder_hello.size());
  SessionKey key;
  crypto_generichash_final(&state, key.data(), key.size());
  sodium_memzero(&state, sizeof state);
  return key;
}

}  // namespace

Handshake Handshake::Initiator(const StoreKey& store_key) {
  return Handshake(Role::kInitiator, store_key);
}

Handshake Handshake::Responder(const StoreKey& store_key) {
  return Handshake(Role::kResponder, store_key);
}

Handshake::Handshake(Role role, const StoreKey& store_key) : role_(role), store_key_(store_key) {
  EnsureInit();
  crypto_kx_keypair(kx_public_.data(), kx_secret_.data());
  unsigned char nonce[kHelloNonceSize];
  randombytes_buf(nonce, sizeof nonce);
  hello_.reserve(kHelloSize);
  hello_.append(kHandshakeMagic);
  hello_.push_back(static_cast<char>(kHandshakeVersion));
  hello_.push_back(static_cast<char>(role));
  hello_.append(reinterpret_cast<const char*>(kx_public_.data()), kx_public_.size());
  hello_.append(reinterpret_cast<const char*>(nonce), sizeof nonce);
}

Status Handshake::Fail(Code code, std::string message) {
  state_ = State::kFailed;
  channel_.reset();
  kx_secret_.Wipe();
  store_key_.Wipe();
  return Status(code, std::move(message));
}

Result<std::string> Handshake::ReceiveHello(std::string_view peer_hello) {
  if (state_ != State::kAwaitHello) {
    return Fail(Code::kInvalid, "handshake: peer hello received out of order");
  }
  if (peer_hello.size() < kRoleOffset || !peer_hello.starts_with(kHandshakeMagic)) {
    return Fail(Code::kCorruption, "peer is not a kvfs node (bad handshake hello)");
  }
  // The version is checked before the size so a newer peer gets a version error even
  // if its hello has grown.
  auto version = static_cast<std::uint8_t>(peer_hello[kHandshakeMagic.size()]);
  if (version != kHandshakeVersion) {
    return Fail(Code::kVersion, "peer speaks kvfs handshake version " + std::to_string(version) +
                                    "; this build speaks version " +
                                    std::to_string(kHandshakeVersion));
  }
  if (peer_hello.size() != kHelloSize) {
    return Fail(Code::kCorruption, "handshake hello is " + std::to_string(peer_hello.size()) +
                                       " bytes, expected " + std::to_string(kHelloSize));
  }
  auto peer_role = static_cast<std::uint8_t>(peer_hello[kRoleOffset]);
  if (peer_role != static_cast<std::uint8_t>(Role::kInitiator) &&
      peer_role != static_cast<std::uint8_t>(Role::kResponder)) {
    return Fail(Code::kCorruption, "handshake hello has an unknown role byte");
  }
  if (peer_role == static_cast<std::uint8_t>(role_)) {
    return Fail(Code::kInvalid,
                "peer claims our own handshake role (both sides dialled, or a reflected hello)");
  }
  const unsigned char* peer_public = Bytes(peer_hello) + kPublicKeyOffset;
  if (sodium_memcmp(peer_public, kx_public_.data(), kx_public_.size()) == 0) {
    return Fail(Code::kInvalid, "peer echoed our own handshake hello");
  }

  // crypto_kx names the keys by our role: rx is what we receive, tx what we send.
  KxKey kx_rx;
  KxKey kx_tx;
  int rc = role_ == Role::kInitiator
               ? crypto_kx_client_session_keys(kx_rx.data(), kx_tx.data(), kx_public_.data(),
                                               kx_secret_.data(), peer_public)
               : crypto_kx_server_session_keys(kx_rx.data(), kx_tx.data(), kx_public_.data(),
                                               kx_secret_.data(), peer_public);
  kx_secret_.Wipe();  // Forward secrecy: the ephemeral secret is never needed again.
  if (rc != 0) return Fail(Code::kCorruption, "peer sent an invalid handshake public key");

  const bool initiator = role_ == Role::kInitiator;
  std::string_view initiator_hello = initiator ? std::string_view(hello_) : peer_hello;
  std::string_view responder_hello = initiator ? peer_hello : std::string_view(hello_);
  SessionKey i2r = DeriveSessionKey(store_key_, kLabelInitiatorToResponder,
                                    initiator ? kx_tx : kx_rx, initiator_hello, responder_hello);
  SessionKey r2i = DeriveSessionKey(store_key_, kLabelResponderToInitiator,
                                    initiator ? kx_rx : kx_tx, initiator_hello, responder_hello);
  store_key_.Wipe();
  channel_ = initiator ? SecureChannel::Create(i2r, r2i) : SecureChannel::Create(r2i, i2r);

  Result<std::string> sealed =
      channel_->Seal(initiator ? kConfirmByInitiator : kConfirmByResponder);
  if (!sealed.ok()) return Fail(sealed.status().code(), sealed.status().message());
  std::string confirm;
  confirm.reserve(kConfirmSize);
  confirm.append(channel_->Header());
  confirm.append(*sealed);
  state_ = State::kAwaitConfirm;
  return confirm;
}

Result<std::unique_ptr<SecureChannel>> Handshake::Finish(std::string_view peer_confirm) {
  if (state_ != State::kAwaitConfirm) {
    return Fail(Code::kInvalid, "handshake: peer confirmation received out of order");
  }
  if (peer_confirm.size() != kConfirmSize) {
    return Fail(Code::kCorruption, "handshake confirmation is " +
                                       std::to_string(peer_confirm.size()) + " bytes, expected " +
                                       std::to_string(kConfirmSize));
  }
  Status st = channel_->OpenHeader(peer_confirm.substr(0, kChannelHeaderSize));
  if (!st.ok()) return Fail(Code::kCorruption, "handshake confirmation: " + st.message());
  Result<std::string> opened = channel_->Open(peer_confirm.substr(kChannelHeaderSize));
  if (!opened.ok()) {
    return Fail(Code::kAccess,
                "peer does not hold this store's key (or the handshake was altered on the "
                "wire)");
  }
  std::string_view expected = role_ == Role::kInitiator ? kConfirmByResponder : kConfirmByInitiator;
  if (*opened != expected || channel_->PeerFinished()) {
    return Fail(Code::kCorruption, "peer sent a wrong handshake confirmation");
  }
  state_ = State::kDone;
  return std::move(channel_);
}

}  // namespace kvfs::crypto
