#include "sync/batch.h"

#include <zstd.h>

#include <memory>

#include "base/bytes.h"

namespace kvfs::sync {
namespace {

Status Bad(const std::string& what) {
  return Status(Code::kCorruption, "malformed BATCH message from peer: " + what);
}

// One context per thread, reused: creating one per frame costs more than the work.
struct CctxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};
ZSTD_CCtx* Cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CctxFree> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* Dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DctxFree> ctx(ZSTD_createDCtx());
  return ctx.get();
}

void PutU32(std::string& out, size_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

void BatchBuilder::Add(std::string_view encoded) {
  PutU32(raw_, encoded.size());
  raw_.append(encoded);
  ++count_;
}

Result<std::string> BatchBuilder::Take() {
  std::string raw = std::move(raw_);
  const size_t count = count_;
  raw_.clear();
  count_ = 0;
  if (count == 0) return std::string();
  if (count == 1) {
    std::string single = raw.substr(4);
    // Tiny messages (ACK, PING) and ones too big for a batch go as they are.
    if (single.size() < 64 || raw.size() > kMaxBatchRaw) return single;
    KVFS_ASSIGN_OR_RETURN(std::string batch, EncodeBatch(raw));
    return batch.size() < single.size() ? batch : single;
  }
  return EncodeBatch(raw);
}

Result<std::string> EncodeBatch(std::string_view raw, int level) {
  if (raw.size() > kMaxBatchRaw) return Status(Code::kInvalid, "batch too large for one frame");
  ZSTD_CCtx* cctx = Cctx();
  if (!cctx) return Status(Code::kIo, "cannot create a zstd context");
  std::string out(5 + ZSTD_compressBound(raw.size()), '\0');
  out[0] = static_cast<char>(MessageType::kBatch);
  for (int i = 0; i < 4; ++i) out[1 + i] = static_cast<char>((raw.size() >> (8 * (3 - i))) & 0xff);
  // ZSTD_compressCCtx writes the content size into the frame header, which the
  // decoder requires.
  const size_t n = ZSTD_compressCCtx(cctx, out.data() + 5, out.size() - 5, raw.data(), raw.size(),
                                     level);
  if (ZSTD_isError(n)) {
    return Status(Code::kIo, std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  }
  out.resize(5 + n);
  return out;
}

Result<std::vector<Message>> DecodeFrameMessages(std::string_view plaintext) {
  std::vector<Message> out;
  if (plaintext.empty() || static_cast<uint8_t>(plaintext[0]) !=
                               static_cast<uint8_t>(MessageType::kBatch)) {
    KVFS_ASSIGN_OR_RETURN(Message m, DecodeMessage(plaintext));
    out.push_back(std::move(m));
    return out;
  }
  ByteReader r(plaintext.substr(1));
  uint32_t raw_length;
  if (!r.U32(&raw_length)) return Bad("truncated");
  // Checked before anything is allocated: the smallest batch holds one 1-byte message.
  if (raw_length < 5 || raw_length > kMaxBatchRaw) {
    return Bad("raw length " + std::to_string(raw_length) + " out of range");
  }
  const std::string_view zdata = plaintext.substr(5);
  if (ZSTD_findFrameCompressedSize(zdata.data(), zdata.size()) != zdata.size()) {
    return Bad("not exactly one zstd frame");
  }
  const unsigned long long declared = ZSTD_getFrameContentSize(zdata.data(), zdata.size());
  if (declared != raw_length) return Bad("zstd frame does not declare the raw length");
  std::string raw(raw_length, '\0');
  ZSTD_DCtx* dctx = Dctx();
  if (!dctx) return Status(Code::kIo, "cannot create a zstd context");
  // Bounded: zstd never writes past raw_length bytes.
  const size_t n = ZSTD_decompressDCtx(dctx, raw.data(), raw.size(), zdata.data(), zdata.size());
  if (ZSTD_isError(n)) return Bad(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != raw_length) return Bad("decompressed size differs from the raw length");
  ByteReader in(raw);
  while (!in.done()) {
    uint32_t len;
    std::string_view message;
    if (!in.U32(&len) || !in.Raw(len, &message)) return Bad("truncated inner message");
    // DecodeMessage refuses a nested BATCH.
    KVFS_ASSIGN_OR_RETURN(Message m, DecodeMessage(message));
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace kvfs::sync
