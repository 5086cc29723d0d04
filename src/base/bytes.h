#pragma once
// Byte writers and readers for records on disk and messages on the wire.
// Integers are big-endian so encoded keys sort in numeric order. A ByteReader never
// reads past its input and never allocates more than the input could hold: every
// length is checked against what remains before anything is copied.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace kvfs {

class ByteWriter {
 public:
  ByteWriter() = default;
  // Appends to `start` (moved in; Take() gives it back), so a caller that builds one
  // buffer from several encoders copies nothing twice.
  explicit ByteWriter(std::string start) : out_(std::move(start)) {}

  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { BigEndian(v, 2); }
  void U32(uint32_t v) { BigEndian(v, 4); }
  void U64(uint64_t v) { BigEndian(v, 8); }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void Raw(std::string_view bytes) { out_.append(bytes); }
  // Length-prefixed (u32) byte string.
  void Bytes(std::string_view bytes) {
    U32(static_cast<uint32_t>(bytes.size()));
    Raw(bytes);
  }
  // Overwrites the u32 at `at`, written earlier: a count known only after its items.
  void U32At(size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<char>((v >> (8 * (3 - i))) & 0xff);
  }
  size_t size() const { return out_.size(); }
  std::string& str() { return out_; }
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BigEndian(uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool U8(uint8_t* v) { return Int(v, 1); }
  bool U16(uint16_t* v) { return Int(v, 2); }
  bool U32(uint32_t* v) { return Int(v, 4); }
  bool U64(uint64_t* v) { return Int(v, 8); }
  bool I64(int64_t* v) {
    uint64_t u;
    if (!U64(&u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool Raw(size_t n, std::string_view* out) {
    if (n > in_.size() - pos_) return false;
    *out = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  // Length-prefixed byte string of at most `max_len` bytes.
  bool Bytes(size_t max_len, std::string* out) {
    uint32_t n;
    std::string_view view;
    if (!U32(&n) || n > max_len || !Raw(n, &view)) return false;
    out->assign(view);
    return true;
  }
  size_t remaining() const { return in_.size() - pos_; }
  bool done() const { return pos_ == in_.size(); }

 private:
  template <typename T>
  bool Int(T* v, int width) {
    if (remaining() < static_cast<size_t>(width)) return false;
    uint64_t acc = 0;
    for (int i = 0; i < width; ++i) acc = (acc << 8) | static_cast<uint8_t>(in_[pos_ + i]);
    pos_ += width;
    *v = static_cast<T>(acc);
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace kvfs
