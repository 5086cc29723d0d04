// Wire messages from a peer: decoding must never crash, hang or over-allocate, and
// whatever decodes must encode back to bytes that decode to the same message types.
// Frames may be BATCHes (sync/batch.h). Random bytes rarely form a valid zstd frame,
// so an input starting with 0xff is taken as a batch's raw content and compressed
// here first: that reaches the inner-message parsing (lengths, nesting, bad inner
// messages) as well as the zstd checks reached by the other inputs.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/bytes.h"
#include "sync/batch.h"
#include "sync/messages.h"

namespace {

void CheckRoundTrip(std::string_view plaintext) {
  using namespace kvfs::sync;
  auto decoded = DecodeFrameMessages(plaintext);
  if (!decoded.ok()) return;
  if (decoded->empty()) std::abort();
  kvfs::ByteWriter raw;
  for (const Message& m : *decoded) {
    if (TypeOf(m) == MessageType::kBatch) std::abort();  // never nested
    raw.Bytes(EncodeMessage(m));
  }
  auto batch = EncodeBatch(raw.Take());
  if (!batch.ok()) return;  // re-encoded objects may exceed a frame
  auto again = DecodeFrameMessages(*batch);
  if (!again.ok() || again->size() != decoded->size()) std::abort();
  for (size_t i = 0; i < again->size(); ++i) {
    if (TypeOf((*again)[i]) != TypeOf((*decoded)[i])) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = kvfs::sync::DecodeMessage(bytes);
  if (decoded.ok()) {
    std::string again = kvfs::sync::EncodeMessage(*decoded);
    auto redecoded = kvfs::sync::DecodeMessage(again);
    if (!redecoded.ok() || kvfs::sync::TypeOf(*redecoded) != kvfs::sync::TypeOf(*decoded)) {
      std::abort();
    }
  }
  CheckRoundTrip(bytes);
  if (size > 0 && data[0] == 0xff) {
    auto batch = kvfs::sync::EncodeBatch(bytes.substr(1));
    if (batch.ok()) CheckRoundTrip(*batch);
  }
  return 0;
}
