#pragma once
// The replicated form of one object: what peers exchange and what the merge rules
// work on. Local inode numbers never appear here; objects and parents are named by
// their global ObjectId. Each part of an object is a register with its own HLC stamp,
// so a rename on one peer and a concurrent edit on another both survive:
//
//   name     the object's names (parent oid + name), last-writer-wins by name_stamp
//   delete   when the last name was removed, and which content versions that delete
//            had seen; an edit the delete had not seen beats it
//   attrs    mode and owner, last-writer-wins by attr_stamp
//   times    atime and mtime, last-writer-wins by times_stamp
//   xattrs   the user extended attributes, last-writer-wins by xattr_stamp
//   content  bytes (as a manifest of chunk stamps), size, symlink target;
//            concurrent versions (by version vector) keep both: the newer stamp keeps
//            the name, the other becomes a conflict copy
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/types.h"

namespace kvfs::sync {

using store::FileType;
using store::HlcStamp;
using store::ObjectId;
using store::Timespec;
using VersionVector = std::vector<store::VersionSlot>;  // sorted by node, no zero slots

struct RemoteLink {
  ObjectId parent;
  std::string name;
  friend auto operator<=>(const RemoteLink&, const RemoteLink&) = default;
};

struct ChunkRef {
  uint64_t index = 0;
  HlcStamp stamp;
  friend auto operator<=>(const ChunkRef&, const ChunkRef&) = default;
};

struct ObjectState {
  ObjectId oid;
  FileType type = FileType::kRegular;

  std::vector<RemoteLink> links;  // last live names (kept when deleted)
  HlcStamp name_stamp;

  HlcStamp delete_stamp;          // zero when never deleted
  VersionVector delete_versions;

  uint32_t mode = 0, uid = 0, gid = 0;
  HlcStamp attr_stamp;

  Timespec atime, mtime;
  HlcStamp times_stamp;

  std::map<std::string, std::string> xattrs;
  HlcStamp xattr_stamp;

  uint64_t size = 0;
  std::string symlink_target;
  std::vector<ChunkRef> chunks;   // stored chunks in index order; the rest are holes
  VersionVector content_versions;
  HlcStamp content_stamp;

  friend bool operator==(const ObjectState&, const ObjectState&) = default;

  // A deleted object is one whose last delete came after its last name change and
  // had seen every content version it now has.
  bool IsDeleted() const;
  HlcStamp LatestStamp() const;
  // A deleted file's bytes may be purged, so its content is represented as empty
  // (size 0, no chunks) everywhere: in exports and merge results alike.
  void Canonicalize();
};

// Version-vector order.
enum class VvOrder { kEqual, kBefore, kAfter, kConcurrent };
VvOrder Compare(const VersionVector& a, const VersionVector& b);
bool Dominates(const VersionVector& a, const VersionVector& b);  // a >= b
VersionVector Join(const VersionVector& a, const VersionVector& b);

}  // namespace kvfs::sync
