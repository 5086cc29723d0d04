#pragma once
// BATCH: several messages in one sealed frame, compressed together with zstd.
//
//   BATCH 10  raw_length u32 | one zstd frame whose content is raw_length bytes:
//             count x (u32 length | message), at least one message, none a BATCH
//
// Small messages (OBJECTs of small files, ACKs, WANTs) each cost a frame's length
// prefix and tag, and an object's fixed-width stamps repeat from object to object;
// one compressed frame per batch removes most of both. Each batch is compressed on
// its own (no dictionary or window shared across frames), so a frame never depends
// on an earlier one.
//
// Decoding trusts nothing: raw_length must be within kMaxBatchRaw before anything is
// allocated; the zstd data must be exactly one frame that declares raw_length as its
// content size and decompresses to exactly that into a buffer of raw_length (so a
// "zip bomb" cannot make us allocate or write more); each inner length is checked
// against what remains; inner messages go through DecodeMessage, which refuses a
// nested BATCH.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/channel.h"
#include "sync/messages.h"

namespace kvfs::sync {

// The largest decompressed batch: one frame's worth of plaintext.
inline constexpr size_t kMaxBatchRaw = crypto::kMaxFramePlaintext;
// zstd level: fast; the bytes that matter (stamps, ids, names) compress well at 1-3,
// and incompressible file bytes are not worth more CPU.
inline constexpr int kBatchLevel = 3;

// Collects encoded messages for one frame (the sender's side).
class BatchBuilder {
 public:
  // The raw size of the batch once `encoded` is added.
  size_t RawSizeWith(size_t encoded_size) const { return raw_.size() + 4 + encoded_size; }
  void Add(std::string_view encoded);
  bool empty() const { return count_ == 0; }
  size_t count() const { return count_; }
  // The plaintext of one frame: a lone message as it is when compressing does not
  // pay, else a BATCH. Empties the builder.
  Result<std::string> Take();

 private:
  std::string raw_;          // count x (u32 length | message)
  std::string_view single_;  // the message when count_ == 1 (inside raw_)
  size_t count_ = 0;
};

// A BATCH of `raw` (count x (u32 length | message)), compressed. kInvalid when raw
// exceeds kMaxBatchRaw.
Result<std::string> EncodeBatch(std::string_view raw, int level = kBatchLevel);

// The messages of one frame's plaintext: one message, or the messages of a BATCH.
// kCorruption for anything malformed (see above).
Result<std::vector<Message>> DecodeFrameMessages(std::string_view plaintext);

}  // namespace kvfs::sync
