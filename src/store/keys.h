#pragma once
// Every LMDB key and table of the store, in one place. Integers are big-endian and
// fixed-width so byte order is scan order: a directory's entries are contiguous and
// sorted by name, a file's chunks are in offset order, the feed is in seq order.
//
//   table    key                              value
//   meta     ascii name                       see store.cc (format, node id, hlc, counters)
//   inodes   ino u64                          Inode record (record_codec.h)
//   dirents  parent ino u64 | name bytes      child ino u64 | type u8
//   chunks   ino u64 | chunk index u64        HlcStamp (16 bytes) | data (<= kChunkSize)
//   xattrs   ino u64 | name bytes             value bytes
//   feed     seq u64                          Change record
//   objects  oid node u64 | oid serial u64    ino u64
//   sync     bytes chosen by src/sync          peer cursors, staged chunks, parked objects

#include <string>
#include <string_view>

#include "store/types.h"

namespace kvfs::store::keys {

inline constexpr const char* kMetaTable = "meta";
inline constexpr const char* kInodesTable = "inodes";
inline constexpr const char* kDirentsTable = "dirents";
inline constexpr const char* kChunksTable = "chunks";
inline constexpr const char* kXattrsTable = "xattrs";
inline constexpr const char* kFeedTable = "feed";
inline constexpr const char* kObjectsTable = "objects";
inline constexpr const char* kSyncTable = "sync";

inline constexpr const char* kMetaFormat = "format";
inline constexpr const char* kMetaNodeId = "node_id";
inline constexpr const char* kMetaHlc = "hlc";
inline constexpr const char* kMetaNextIno = "next_ino";
inline constexpr const char* kMetaNextSeq = "next_seq";

std::string U64Key(uint64_t v);
uint64_t DecodeU64(std::string_view bytes);  // caller checks size() == 8

std::string InodeKey(Ino ino);
std::string DirentKey(Ino parent, std::string_view name);
std::string DirentPrefix(Ino parent);
std::string ChunkKey(Ino ino, uint64_t index);
std::string XattrKey(Ino ino, std::string_view name);
std::string FeedKey(uint64_t seq);
std::string ObjectKey(const ObjectId& oid);

// For keys that begin with an ino: the ino, and the rest of the key.
Ino KeyIno(std::string_view key);
std::string_view KeySuffix(std::string_view key);

}  // namespace kvfs::store::keys
