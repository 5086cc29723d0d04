#include "store/keys.h"

#include "base/bytes.h"

namespace kvfs::store::keys {

std::string U64Key(uint64_t v) {
  ByteWriter w;
  w.U64(v);
  return w.Take();
}

uint64_t DecodeU64(std::string_view bytes) {
  uint64_t v = 0;
  ByteReader r(bytes);
  if (!r.U64(&v)) return 0;
  return v;
}

std::string InodeKey(Ino ino) { return U64Key(ino); }

std::string DirentKey(Ino parent, std::string_view name) {
  std::string k = U64Key(parent);
  k.append(name);
  return k;
}

std::string DirentPrefix(Ino parent) { return U64Key(parent); }

std::string ChunkKey(Ino ino, uint64_t index) { return U64Key(ino) + U64Key(index); }

std::string XattrKey(Ino ino, std::string_view name) { return DirentKey(ino, name); }

std::string FeedKey(uint64_t seq) { return U64Key(seq); }

std::string ObjectKey(const ObjectId& oid) { return U64Key(oid.node) + U64Key(oid.serial); }

Ino KeyIno(std::string_view key) { return DecodeU64(key.substr(0, 8)); }

std::string_view KeySuffix(std::string_view key) {
  return key.size() <= 8 ? std::string_view() : key.substr(8);
}

}  // namespace kvfs::store::keys
