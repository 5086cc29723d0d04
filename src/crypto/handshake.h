#pragma once
// Handshake: mutual authentication of two peers that hold the same store key, and the
// session keys of one connection. A pure state machine over byte strings: it does no
// I/O, so the transport (and the tests) move the messages. Each message is sent as one
// length-prefixed frame (frame.h).
//
// Protocol (both sides send without waiting for each other, then read):
//
//   1. hello   = "KVFS" | version u8 (=1) | role u8 (1 initiator, 2 responder)
//                | ephemeral X25519 public key (32) | random nonce (32)   -> 70 bytes
//   2. confirm = secretstream header (24) | first sealed frame of the sender's stream,
//                whose plaintext is a fixed per-role confirmation string
//
// After the hellos each side runs crypto_kx (initiator = client role) with its fresh
// ephemeral key pair, giving one shared key per direction. Each direction's session key
// is then
//   BLAKE2b-256(key = store key,
//               "kvfs session i2r v1" or "... r2i v1" | kx key of that direction
//               | initiator hello | responder hello)
// so it depends on the store key (only members can derive it), on both ephemeral keys
// (forward secrecy: the ephemeral secrets are wiped, so a later theft of the store key
// does not decrypt recorded sessions), and on both hellos byte for byte (a tampered
// hello gives the two sides different keys). The confirm frame proves to the peer that
// the sender derived the same keys; a peer without the store key, or a man in the middle
// who altered a hello, fails there, in both roles.
//
// Usage:
//   Handshake hs = Handshake::Initiator(key);          // or Responder(key)
//   send(hs.Hello());
//   KVFS_ASSIGN_OR_RETURN(std::string confirm, hs.ReceiveHello(read_frame()));
//   send(confirm);
//   KVFS_ASSIGN_OR_RETURN(auto channel, hs.Finish(read_frame()));
//   // channel: SecureChannel with both stream headers already exchanged.
//
// Any error leaves the handshake failed (later calls return kInvalid) and the
// connection must be closed. Timeouts are the transport's job. Not thread-safe.

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/channel.h"
#include "crypto/secret.h"
#include "crypto/store_key.h"

namespace kvfs::crypto {

inline constexpr std::string_view kHandshakeMagic = "KVFS";
inline constexpr std::uint8_t kHandshakeVersion = 1;
inline constexpr std::size_t kHelloNonceSize = 32;
inline constexpr std::size_t kHelloSize =
    kHandshakeMagic.size() + 2 + crypto_kx_PUBLICKEYBYTES + kHelloNonceSize;

class Handshake {
 public:
  enum class Role : std::uint8_t { kInitiator = 1, kResponder = 2 };

  // The side that opened the connection is the initiator. Each call draws a fresh
  // ephemeral key pair and nonce, so no two handshakes share session keys.
  static Handshake Initiator(const StoreKey& store_key);
  static Handshake Responder(const StoreKey& store_key);

  Handshake(Handshake&&) = default;
  Handshake& operator=(Handshake&&) = default;
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;
  ~Handshake() = default;  // Secret members wipe themselves.

  Role role() const { return role_; }

  // Our hello (kHelloSize bytes); the same value on every call.
  const std::string& Hello() const { return hello_; }

  // Takes the peer's hello and returns our confirm message to send. Errors:
  //   kCorruption  wrong size, not a kvfs hello, or an invalid public key;
  //   kVersion     a handshake version this build does not speak;
  //   kInvalid     the peer claims our role, echoes our own hello, or called out of order.
  Result<std::string> ReceiveHello(std::string_view peer_hello);

  // Takes the peer's confirm message and returns the ready channel. Errors:
  //   kAccess      the confirm does not open: the peer does not hold this store's key,
  //                or someone altered the handshake on the wire;
  //   kCorruption  the confirm is malformed;
  //   kInvalid     called out of order.
  Result<std::unique_ptr<SecureChannel>> Finish(std::string_view peer_confirm);

 private:
  enum class State { kAwaitHello, kAwaitConfirm, kDone, kFailed };

  Handshake(Role role, const StoreKey& store_key);
  Status Fail(Code code, std::string message);

  Role role_;
  State state_ = State::kAwaitHello;
  StoreKey store_key_;  // Wiped once the session keys are derived.
  std::array<std::uint8_t, crypto_kx_PUBLICKEYBYTES> kx_public_{};
  SecretBytes<crypto_kx_SECRETKEYBYTES> kx_secret_;  // Wiped once used.
  std::string hello_;
  std::unique_ptr<SecureChannel> channel_;
};

}  // namespace kvfs::crypto
