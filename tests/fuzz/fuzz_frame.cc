// The length-prefix framer fed hostile bytes in hostile pieces: never crashes and
// never yields a frame over its limit.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t piece = 1 + data[0] % 17;  // the first byte chooses how to split the rest
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  kvfs::crypto::FrameReader reader(4096);
  while (!rest.empty()) {
    std::string_view chunk = rest.substr(0, piece);
    rest.remove_prefix(chunk.size());
    if (!reader.Feed(chunk).ok()) return 0;
    while (auto frame = reader.Next()) {
      if (frame->size() > 4096) std::abort();
    }
  }
  return 0;
}
