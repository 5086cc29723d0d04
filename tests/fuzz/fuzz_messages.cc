// Wire messages from a peer: decoding must never crash, hang or over-allocate, and
// whatever decodes must encode back to bytes that decode to the same message type.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sync/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = kvfs::sync::DecodeMessage(bytes);
  if (!decoded.ok()) return 0;
  std::string again = kvfs::sync::EncodeMessage(*decoded);
  auto redecoded = kvfs::sync::DecodeMessage(again);
  if (!redecoded.ok() || kvfs::sync::TypeOf(*redecoded) != kvfs::sync::TypeOf(*decoded)) {
    std::abort();
  }
  return 0;
}
