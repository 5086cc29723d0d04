// Object states from a peer: decode, then the canonical re-encoding must round trip.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sync/object_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = kvfs::sync::DecodeObject(bytes);
  if (!decoded.ok()) return 0;
  auto again = kvfs::sync::DecodeObject(kvfs::sync::EncodeObject(*decoded));
  if (!again.ok() || !(*again == *decoded)) std::abort();
  return 0;
}
