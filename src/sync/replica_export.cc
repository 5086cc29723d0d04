// Reading objects in their replicated form, and the staging area for fetched chunks.
#include <algorithm>
#include <map>

#include "base/bytes.h"
#include "store/keys.h"
#include "sync/merge.h"
#include "sync/object_codec.h"
#include "sync/replica.h"

namespace kvfs::sync {

using store::Ino;

Result<ObjectState> ExportObject(store::ReadTxn& t, Ino ino) {
  KVFS_ASSIGN_OR_RETURN(store::Inode n, t.Get(ino));
  ObjectState s;
  s.oid = n.oid;
  s.type = n.type;
  for (const store::Link& l : n.links) {
    auto parent = t.Get(l.parent);
    if (!parent.ok()) continue;  // a parent purged long ago: the name is moot
    s.links.push_back({parent->oid, l.name});
  }
  s.name_stamp = n.name_stamp;
  s.delete_stamp = n.delete_stamp;
  s.delete_versions = n.delete_versions;
  s.mode = n.mode;
  s.uid = n.uid;
  s.gid = n.gid;
  s.attr_stamp = n.attr_stamp;
  s.atime = n.atime;
  s.mtime = n.mtime;
  s.times_stamp = n.times_stamp;
  KVFS_ASSIGN_OR_RETURN(auto names, t.ListXattrs(ino));
  for (const std::string& name : names) {
    KVFS_ASSIGN_OR_RETURN(s.xattrs[name], t.GetXattr(ino, name));
  }
  s.xattr_stamp = n.xattr_stamp;
  s.size = n.size;
  s.symlink_target = n.symlink_target;
  if (n.is_file()) {
    KVFS_ASSIGN_OR_RETURN(auto manifest, t.ChunkManifest(ino));
    for (const auto& c : manifest) {
      // Chunks past the size can only be left by a crash mid-truncate; never send them.
      if (c.index * store::kChunkSize < n.size) s.chunks.push_back({c.index, c.stamp});
    }
  }
  s.content_versions = n.content_versions;
  s.content_stamp = n.content_stamp;
  s.Canonicalize();
  return s;
}

std::string StagedPrefix(const ObjectId& oid) {
  ByteWriter w;
  w.Raw("c");
  w.U64(oid.node);
  w.U64(oid.serial);
  return w.Take();
}

std::string StagedChunkKey(const ObjectId& oid, uint64_t index, const HlcStamp& stamp) {
  ByteWriter w;
  w.Raw(StagedPrefix(oid));
  w.U64(index);
  w.U64(stamp.time);
  w.U64(stamp.node);
  return w.Take();
}

std::string ParkedPrefix(const ObjectId& oid) {
  ByteWriter w;
  w.Raw("p");
  w.U64(oid.node);
  w.U64(oid.serial);
  return w.Take();
}

std::string ParkedKey(const ObjectId& oid, std::string_view encoded_state) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a: distinct versions get distinct keys
  for (unsigned char c : encoded_state) h = (h ^ c) * 1099511628211ull;
  ByteWriter w;
  w.Raw(ParkedPrefix(oid));
  w.U64(h);
  return w.Take();
}

Result<bool> IsParked(store::ReadTxn& t, const ObjectId& oid) {
  KVFS_ASSIGN_OR_RETURN(auto parked, t.ScanSync(ParkedPrefix(oid), 1));
  return !parked.empty();
}

ChunkReader StagedChunkReader(store::ReadTxn& t, const ObjectId& oid) {
  return [&t, oid](uint64_t index, const HlcStamp& stamp) -> Result<std::string> {
    KVFS_ASSIGN_OR_RETURN(auto v, t.GetSyncValue(StagedChunkKey(oid, index, stamp)));
    if (!v) {
      return Status(Code::kNotFound, "chunk " + std::to_string(index) + " of " + oid.ToString() +
                                         " was not received; it is fetched on the next sync");
    }
    return *v;
  };
}

Status DropStaged(store::WriteTxn& t, const ObjectId& oid) {
  while (true) {
    KVFS_ASSIGN_OR_RETURN(auto staged, t.ScanSync(StagedPrefix(oid), 256));
    if (staged.empty()) return Status::Ok();
    for (const auto& [key, unused] : staged) KVFS_RETURN_IF_ERROR(t.DeleteSyncValue(key));
  }
}

Result<std::vector<uint64_t>> MissingChunks(store::ReadTxn& t, const ObjectState& remote) {
  std::vector<uint64_t> missing;
  std::map<uint64_t, HlcStamp> have;
  bool need_remote_content = true;
  auto ino = t.FindObject(remote.oid);
  if (ino.ok()) {
    KVFS_ASSIGN_OR_RETURN(ObjectState local, ExportObject(t, *ino));
    MergeOutcome m = MergeObject(local, remote);
    need_remote_content = m.content_from == Side::kRemote ||
                          (m.conflict && m.conflict->content_from == Side::kRemote);
    KVFS_ASSIGN_OR_RETURN(auto manifest, t.ChunkManifest(*ino));
    for (const auto& c : manifest) have[c.index] = c.stamp;
  }
  if (!need_remote_content) return missing;
  for (const ChunkRef& c : remote.chunks) {
    auto it = have.find(c.index);
    if (it != have.end() && it->second == c.stamp) continue;
    KVFS_ASSIGN_OR_RETURN(auto staged, t.GetSyncValue(StagedChunkKey(remote.oid, c.index, c.stamp)));
    if (!staged) missing.push_back(c.index);
  }
  return missing;
}

}  // namespace kvfs::sync
