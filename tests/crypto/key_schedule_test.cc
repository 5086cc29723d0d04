// Conformance of the handshake to the key schedule documented in handshake.h, and the
// forward-secrecy claim made there. These tests re-derive keys by hand on purpose: they
// fail if the code and its documented contract drift apart.
#include <gtest/gtest.h>

#include <string>

#include "crypto/channel.h"
#include "crypto/handshake.h"
#include "crypto/store_key.h"

namespace kvfs::crypto {
namespace {

// The test plays the initiator by hand, following only the format and key schedule
// documented in handshake.h, with or without the ephemeral secret.
class HandWrittenInitiator {
 public:
  explicit HandWrittenInitiator(const StoreKey& key) : key_(key) {
    crypto_kx_keypair(pk_, sk_);
    unsigned char nonce[kHelloNonceSize];
    randombytes_buf(nonce, sizeof nonce);
    hello_ = std::string("KVFS\x01\x01", 6) + std::string(reinterpret_cast<char*>(pk_), 32) +
             std::string(reinterpret_cast<char*>(nonce), sizeof nonce);
  }
  const std::string& hello() const { return hello_; }

  // The responder-to-initiator session key, from the real kx key or from `kx_override`.
  SessionKey R2IKey(const std::string& responder_hello, const unsigned char* kx_override) {
    unsigned char rx[crypto_kx_SESSIONKEYBYTES];
    unsigned char tx[crypto_kx_SESSIONKEYBYTES];
    const auto* peer_pk = reinterpret_cast<const unsigned char*>(responder_hello.data() + 6);
    EXPECT_EQ(crypto_kx_client_session_keys(rx, tx, pk_, sk_, peer_pk), 0);
    const unsigned char* kx = kx_override != nullptr ? kx_override : rx;
    const std::string label = "kvfs session r2i v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, key_.data(), key_.size(), 32);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(label.data()),
                              label.size());
    crypto_generichash_update(&st, kx, crypto_kx_SESSIONKEYBYTES);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(hello_.data()),
                              hello_.size());
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(responder_hello.data()),
                              responder_hello.size());
    SessionKey out;
    crypto_generichash_final(&st, out.data(), out.size());
    return out;
  }

 private:
  StoreKey key_;
  unsigned char pk_[crypto_kx_PUBLICKEYBYTES];
  unsigned char sk_[crypto_kx_SECRETKEYBYTES];
  std::string hello_;
};

Result<std::string> OpenConfirm(const SessionKey& rx, std::string_view confirm) {
  auto ch = SecureChannel::Create(SessionKey(), rx);
  Status st = ch->OpenHeader(confirm.substr(0, kChannelHeaderSize));
  if (!st.ok()) return st;
  return ch->Open(confirm.substr(kChannelHeaderSize));
}

TEST(HandshakeTest, ConformsToDocumentedKeySchedule) {
  StoreKey key = GenerateStoreKey();
  HandWrittenInitiator mine(key);
  Handshake r = Handshake::Responder(key);
  Result<std::string> confirm = r.ReceiveHello(mine.hello());
  ASSERT_TRUE(confirm.ok()) << confirm.status().message();
  Result<std::string> opened = OpenConfirm(mine.R2IKey(r.Hello(), nullptr), *confirm);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(*opened, "kvfs confirm responder v1");
}

TEST(HandshakeTest, StoreKeyAloneDoesNotOpenARecordedSession) {
  // Forward secrecy: someone who recorded the hellos and the confirm and later stole
  // the store key still lacks the ephemeral kx key, so guesses built from public
  // values fail.
  StoreKey key = GenerateStoreKey();
  HandWrittenInitiator victim(key);
  Handshake r = Handshake::Responder(key);
  Result<std::string> confirm = r.ReceiveHello(victim.hello());
  ASSERT_TRUE(confirm.ok());
  unsigned char zeros[crypto_kx_SESSIONKEYBYTES] = {};
  EXPECT_FALSE(OpenConfirm(victim.R2IKey(r.Hello(), zeros), *confirm).ok());
  const auto* responder_pk = reinterpret_cast<const unsigned char*>(r.Hello().data() + 6);
  EXPECT_FALSE(OpenConfirm(victim.R2IKey(r.Hello(), responder_pk), *confirm).ok());
  const auto* initiator_pk = reinterpret_cast<const unsigned char*>(victim.hello().data() + 6);
  EXPECT_FALSE(OpenConfirm(victim.R2IKey(r.Hello(), initiator_pk), *confirm).ok());
}

}  // namespace
}  // namespace kvfs::crypto
