#include "crypto/frame.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace kvfs::crypto {

Result<std::string> EncodeFrame(std::string_view payload) {
  if (payload.size() > std::numeric_limits<std::uint32_t>::max()) {
    return Status(Code::kInvalid, "frame payload of " + std::to_string(payload.size()) +
                                      " bytes does not fit a 32-bit length");
  }
  auto len = static_cast<std::uint32_t>(payload.size());
  std::string out;
  out.reserve(kFrameLengthSize + payload.size());
  out.push_back(static_cast<char>(len >> 24));
  out.push_back(static_cast<char>(len >> 16));
  out.push_back(static_cast<char>(len >> 8));
  out.push_back(static_cast<char>(len));
  out.append(payload);
  return out;
}

Status FrameReader::Feed(std::string_view chunk) {
  if (dead_) return Status(Code::kInvalid, "frame reader is dead after an earlier error");
  while (!chunk.empty()) {
    if (header_len_ < kFrameLengthSize) {
      std::size_t take = std::min(kFrameLengthSize - header_len_, chunk.size());
      for (std::size_t i = 0; i < take; ++i) {
        header_[header_len_ + i] = static_cast<std::uint8_t>(chunk[i]);
      }
      header_len_ += take;
      chunk.remove_prefix(take);
      if (header_len_ < kFrameLengthSize) break;
      payload_len_ = (std::size_t{header_[0]} << 24) | (std::size_t{header_[1]} << 16) |
                     (std::size_t{header_[2]} << 8) | std::size_t{header_[3]};
      if (payload_len_ > max_payload_) {
        dead_ = true;
        payload_.clear();
        return Status(Code::kCorruption,
                      "peer announced a frame of " + std::to_string(payload_len_) +
                          " bytes, over the limit of " + std::to_string(max_payload_));
      }
    }
    // Grows only with bytes actually received, never by the announced length.
    std::size_t take = std::min(payload_len_ - payload_.size(), chunk.size());
    payload_.append(chunk.data(), take);
    chunk.remove_prefix(take);
    if (payload_.size() == payload_len_) {
      ready_.push_back(std::move(payload_));
      payload_.clear();
      header_len_ = 0;
      payload_len_ = 0;
    }
  }
  return Status::Ok();
}

std::optional<std::string> FrameReader::Next() {
  if (ready_.empty()) return std::nullopt;
  std::string frame = std::move(ready_.front());
  ready_.pop_front();
  return frame;
}

}  // namespace kvfs::crypto
