#pragma once
// SecretBytes<N>: a fixed-size buffer for key material.
//
// Contract:
// - The bytes are zero on default construction and wiped with sodium_memzero when the
//   object is destroyed, assigned over, or moved from (a moved-from object is all zero).
// - Comparison is constant-time (sodium_memcmp), so it leaks nothing through timing.
// - There is deliberately no conversion to a string and no stream operator: a secret
//   cannot end up in a log line by accident. Use KeyFingerprint() (store_key.h) to show
//   which key is in use.
// - Copies are allowed (each copy wipes itself); prefer passing by const reference.
//   Not thread-safe: like any value type, guard concurrent writes externally.
// - The bytes live inside the object (no heap), so they may be copied by the compiler
//   into registers or stack temporaries; this type limits, not eliminates, exposure.

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace kvfs::crypto {

template <std::size_t N>
class SecretBytes {
 public:
  static constexpr std::size_t kSize = N;

  SecretBytes() = default;
  explicit SecretBytes(std::span<const std::uint8_t, N> bytes) {
    for (std::size_t i = 0; i < N; ++i) bytes_[i] = bytes[i];
  }
  SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}
  SecretBytes(SecretBytes&& other) noexcept : bytes_(other.bytes_) { other.Wipe(); }
  SecretBytes& operator=(const SecretBytes& other) {
    if (this != &other) bytes_ = other.bytes_;
    return *this;
  }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      bytes_ = other.bytes_;
      other.Wipe();
    }
    return *this;
  }
  ~SecretBytes() { Wipe(); }

  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  static constexpr std::size_t size() { return N; }
  std::span<const std::uint8_t, N> span() const { return std::span<const std::uint8_t, N>(bytes_); }

  // True when every byte is zero (a default-constructed or moved-from secret).
  bool IsZero() const { return sodium_is_zero(bytes_.data(), N) == 1; }

  // Overwrites the bytes with zeros.
  void Wipe() { sodium_memzero(bytes_.data(), N); }

  // Constant-time equality.
  friend bool operator==(const SecretBytes& a, const SecretBytes& b) {
    return sodium_memcmp(a.bytes_.data(), b.bytes_.data(), N) == 0;
  }

 private:
  std::array<std::uint8_t, N> bytes_{};
};

}  // namespace kvfs::crypto
