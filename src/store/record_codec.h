#pragma once
// Encoding of store records. Every record starts with a format byte, and decoding
// checks every length against what remains, so a damaged record is reported as
// Corruption instead of being misread.

#include <string>
#include <string_view>

#include "base/status.h"
#include "store/types.h"

namespace kvfs::store {

inline constexpr uint8_t kInodeRecordVersion = 1;
inline constexpr uint8_t kChangeRecordVersion = 1;

std::string EncodeInode(const Inode& inode);
Result<Inode> DecodeInode(Ino ino, std::string_view bytes);

std::string EncodeChange(const Change& change);
Result<Change> DecodeChange(uint64_t seq, std::string_view bytes);

std::string EncodeStamp(const HlcStamp& stamp);  // 16 bytes
bool DecodeStamp(std::string_view bytes, HlcStamp* out);

// A dirent value: the child's ino and type.
std::string EncodeDirent(Ino child, FileType type);
bool DecodeDirent(std::string_view bytes, Ino* child, FileType* type);

}  // namespace kvfs::store
