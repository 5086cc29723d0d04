#pragma once
// The records of a kvfs store: what an object (file, directory, symlink) is, how
// it is named, and what the change feed says about it. These structs are plain
// values; record_codec.h turns them into bytes and back.

#include <algorithm>
#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include "store/hlc.h"

namespace kvfs::store {

// Local inode number. Assigned by this store, never reused, never sent to peers.
using Ino = uint64_t;
inline constexpr Ino kRootIno = 1;

// File content is stored in fixed-size chunks so a write at an offset rewrites
// only the chunks it touches, and a missing chunk is a hole that reads as zeros.
inline constexpr uint64_t kChunkSize = 64 * 1024;
// A stored chunk is its HLC stamp (EncodeStamp) followed by the bytes.
inline constexpr size_t kChunkStampBytes = 16;
inline constexpr size_t kMaxNameLen = 255;
inline constexpr size_t kMaxPathLen = 4095;
inline constexpr size_t kMaxSymlinkLen = 4095;
inline constexpr size_t kMaxXattrValue = 64 * 1024;
// Largest file offset we accept; keeps chunk indexes and size arithmetic in range.
inline constexpr uint64_t kMaxFileSize = uint64_t{1} << 50;

// Globally unique object identity: minted as (creating node, its inode number), so
// two machines creating files at the same moment never collide. The root is the
// same object on every node.
struct ObjectId {
  uint64_t node = 0;
  uint64_t serial = 0;
  friend auto operator<=>(const ObjectId&, const ObjectId&) = default;
  std::string ToString() const;
};
inline constexpr ObjectId kRootObject{0, 1};

enum class FileType : uint8_t { kRegular = 1, kDirectory = 2, kSymlink = 3 };

// One name of an object: the entry `name` in directory `parent`.
struct Link {
  Ino parent = 0;
  std::string name;
  friend bool operator==(const Link&, const Link&) = default;
};

// Whether `links` holds `link`.
inline bool HasLink(const std::vector<Link>& links, const Link& link) {
  return std::find(links.begin(), links.end(), link) != links.end();
}

// One slot of a per-object version vector: `node` has made `counter` changes.
struct VersionSlot {
  uint64_t node = 0;
  uint64_t counter = 0;
  friend bool operator==(const VersionSlot&, const VersionSlot&) = default;
};

struct Timespec {
  int64_t sec = 0;
  int64_t nsec = 0;
  friend auto operator<=>(const Timespec&, const Timespec&) = default;
};

// An object's record, stored under its inode number in the `inodes` table.
struct Inode {
  Ino ino = 0;  // the key; not part of the encoded record
  ObjectId oid;
  FileType type = FileType::kRegular;
  bool deleted = false;  // a tombstone: kept so deletes propagate and stick
  uint32_t mode = 0;     // permission bits (07777), without the type bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  Timespec atime, mtime, ctime;
  uint32_t nlink = 0;          // links.size() for files; 2 + subdirectories for dirs
  std::vector<Link> links;     // every name of the object (one for directories)
  std::string symlink_target;  // symlinks only
  HlcStamp stamp;              // the last change to this object; its node is the origin
  std::vector<VersionSlot> versions;  // per-object version vector (every change), by node
  uint64_t seq = 0;  // this object's entry in the change feed

  // Replication registers (see docs/ARCHITECTURE.md, "Merge rules"): each part of
  // the object merges on its own, so a rename and a concurrent edit both survive.
  HlcStamp name_stamp;     // links last changed (create, rename, link, unlink)
  HlcStamp attr_stamp;     // mode or owner last changed
  HlcStamp times_stamp;    // atime/mtime last changed (writes and utimens)
  HlcStamp xattr_stamp;    // the extended attributes last changed
  HlcStamp content_stamp;  // content last changed
  std::vector<VersionSlot> content_versions;  // version vector of the content only
  HlcStamp delete_stamp;   // when the last name was removed (zero if never)
  std::vector<VersionSlot> delete_versions;   // content versions the delete had seen

  bool is_dir() const { return type == FileType::kDirectory; }
  bool is_file() const { return type == FileType::kRegular; }
  bool is_symlink() const { return type == FileType::kSymlink; }
  // st_mode as stat(2) reports it: type bits | permission bits.
  uint32_t StMode() const;
};

// An entry of a directory listing.
struct DirEntry {
  std::string name;
  Ino ino = 0;
  FileType type = FileType::kRegular;
};

// Which replication registers a change touches.
enum Part : unsigned {
  kPartName = 1,
  kPartAttr = 2,
  kPartContent = 4,
  kPartDelete = 8,
  kPartTimes = 16,
  kPartXattr = 32,
};

enum class ChangeOp : uint8_t {
  kCreate = 1,
  kWrite = 2,
  kAttr = 3,
  kRename = 4,
  kDelete = 5,
  kXattr = 6,
  kLink = 7,
  kMerge = 8,  // applied from a peer
};
const char* ChangeOpName(ChangeOp op);

// An entry of the change feed: object `ino` last changed at `stamp`. The feed keeps
// one entry per object (its latest change), ordered by a local sequence number, so
// "everything since seq N" is one range scan and never the whole store.
struct Change {
  uint64_t seq = 0;
  Ino ino = 0;
  ChangeOp op = ChangeOp::kWrite;
  HlcStamp stamp;
};

}  // namespace kvfs::store
