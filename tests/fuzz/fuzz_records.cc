// On-disk records (a damaged store): decoding reports Corruption, never crashes.
#include <cstdint>
#include <string_view>

#include "store/record_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto inode = kvfs::store::DecodeInode(1, bytes);
  if (inode.ok()) (void)kvfs::store::EncodeInode(*inode);
  (void)kvfs::store::DecodeChange(1, bytes);
  kvfs::store::Ino child;
  kvfs::store::FileType type;
  (void)kvfs::store::DecodeDirent(bytes, &child, &type);
  return 0;
}
