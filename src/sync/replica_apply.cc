// Applying a peer's version of an object to the local store (see replica.h).
#include <algorithm>
#include <map>

#include "store/keys.h"
#include "sync/merge.h"
#include "sync/object_codec.h"
#include "sync/replica.h"

namespace kvfs::sync {
namespace {

using store::Ino;
using store::Inode;
using store::WriteTxn;

Result<std::optional<Ino>> FindIno(store::ReadTxn& t, const ObjectId& oid) {
  auto ino = t.FindObject(oid);
  if (ino.ok()) return std::optional<Ino>(*ino);
  if (ino.status().code() == Code::kNotFound) return std::optional<Ino>();
  return ino.status();
}

// Makes the local chunks of `ino` those of `want`, fetching what differs.
Status SyncContent(WriteTxn& t, Ino ino, const ObjectState& want, const ChunkReader& read) {
  KVFS_ASSIGN_OR_RETURN(auto manifest, t.ChunkManifest(ino));
  std::map<uint64_t, HlcStamp> have;
  for (const auto& c : manifest) have[c.index] = c.stamp;
  std::map<uint64_t, HlcStamp> wanted;
  for (const auto& c : want.chunks) wanted[c.index] = c.stamp;
  for (const auto& [index, stamp] : have) {
    auto it = wanted.find(index);
    if (it == wanted.end() || it->second != stamp) KVFS_RETURN_IF_ERROR(t.DeleteChunk(ino, index));
  }
  for (const auto& [index, stamp] : wanted) {
    auto it = have.find(index);
    if (it != have.end() && it->second == stamp) continue;
    KVFS_ASSIGN_OR_RETURN(std::string data, read(index, stamp));
    KVFS_RETURN_IF_ERROR(t.PutChunk(ino, index, stamp, data));
  }
  return Status::Ok();
}

Status SyncXattrs(WriteTxn& t, Ino ino, const std::map<std::string, std::string>& want) {
  KVFS_ASSIGN_OR_RETURN(auto names, t.ListXattrs(ino));
  for (const std::string& name : names) {
    if (!want.count(name)) KVFS_RETURN_IF_ERROR(t.DeleteXattrRaw(ino, name));
  }
  for (const auto& [name, value] : want) KVFS_RETURN_IF_ERROR(t.PutXattrRaw(ino, name, value));
  return Status::Ok();
}

// True when `dir` is `node` or lies below it.
Result<bool> IsWithin(store::ReadTxn& t, Ino dir, Ino node) {
  for (int depth = 0; depth < 100000; ++depth) {
    if (dir == node) return true;
    if (dir == store::kRootIno) return false;
    KVFS_ASSIGN_OR_RETURN(Inode d, t.Get(dir));
    if (d.links.empty()) return false;
    dir = d.links.front().parent;
  }
  return Status(Code::kCorruption, "directory chain too deep; the store may hold a cycle");
}

Status AdjustNlink(WriteTxn& t, Ino dir, int delta) {
  KVFS_ASSIGN_OR_RETURN(Inode d, t.Get(dir));
  d.nlink = static_cast<uint32_t>(std::max<int64_t>(2, int64_t{d.nlink} + delta));
  return t.PutInodeRaw(d);
}

Status Resurrect(WriteTxn& t, Ino dir);

// How many times one placement may move an object on to its next name (a clash at the
// conflict name, then at the next one, ...). Only deliberate squatting gets past 2.
constexpr int kMaxDisplacements = 64;

// Puts the entry (parent, name) -> `node`, settling clashes with other live objects by
// one rule that depends only on replicated state: at every name, the larger
// (name_stamp, oid) keeps it and the other moves on to DisplacedName(name, its oid, its
// name stamp), where the rule applies again. A displaced occupant's name register is
// rewritten to where it ends up (same stamp: the longer, displaced name wins the
// register merge on every peer), so peers agree whatever order objects arrived in.
// Never overwrites another entry. Returns the name `node` ends up with.
Result<std::string> Claim(WriteTxn& t, const Inode& node, Ino parent, std::string name,
                          int depth) {
  for (;; ++depth) {
    if (depth > kMaxDisplacements) {
      return Status(Code::kCorruption, "more than " + std::to_string(kMaxDisplacements) +
                                           " objects claim names derived from '" + name + "'");
    }
    auto other = t.Lookup(parent, name);
    if (!other.ok()) {
      if (other.status().code() != Code::kNotFound) return other.status();
      break;
    }
    if (other->ino == node.ino) break;
    Inode o = *std::move(other);
    if (std::tie(node.name_stamp, node.oid) > std::tie(o.name_stamp, o.oid)) {
      // `node` takes the name; the occupant moves on.
      KVFS_RETURN_IF_ERROR(t.DeleteDirent(parent, name));
      KVFS_ASSIGN_OR_RETURN(std::string moved,
                            Claim(t, o, parent, DisplacedName(name, o.oid, o.name_stamp), depth + 1));
      for (auto& l : o.links) {
        if (l.parent == parent && l.name == name) l.name = moved;
      }
      KVFS_RETURN_IF_ERROR(t.SaveMerged(o));
      break;
    }
    name = DisplacedName(name, node.oid, node.name_stamp);
  }
  KVFS_RETURN_IF_ERROR(t.PutDirent(parent, name, node.ino, node.type));
  return name;
}

// Gives `node` the entry (parent, name), settling a clash with another live object
// (Claim). Returns the name `node` ends up with.
Result<std::string> AddName(WriteTxn& t, Inode& node, Ino parent, const std::string& name) {
  KVFS_RETURN_IF_ERROR(Resurrect(t, parent));
  KVFS_ASSIGN_OR_RETURN(std::string final_name, Claim(t, node, parent, name, 0));
  if (node.is_dir()) KVFS_RETURN_IF_ERROR(AdjustNlink(t, parent, +1));
  return final_name;
}

// Brings back a deleted directory (and its deleted ancestors) because a live object
// is being placed in it. The restamped name tells the peers it came back.
Status Resurrect(WriteTxn& t, Ino dir) {
  if (dir == store::kRootIno) return Status::Ok();
  KVFS_ASSIGN_OR_RETURN(Inode d, t.Get(dir));
  if (!d.deleted) return Status::Ok();
  KVFS_ASSIGN_OR_RETURN(d.name_stamp, t.Stamp());
  d.stamp = std::max(d.stamp, d.name_stamp);
  d.deleted = false;
  d.nlink = 2;
  std::vector<store::Link> links = d.links;
  for (auto& l : links) {
    KVFS_ASSIGN_OR_RETURN(l.name, AddName(t, d, l.parent, l.name));
  }
  d.links = links;
  return t.SaveMerged(d);
}

Status Park(WriteTxn& t, const ObjectState& remote, const ChunkReader& chunks) {
  for (const ChunkRef& c : remote.chunks) {
    auto data = chunks(c.index, c.stamp);
    if (data.ok()) {
      KVFS_RETURN_IF_ERROR(t.PutSyncValue(StagedChunkKey(remote.oid, c.index, c.stamp), *data));
    }
  }
  // Next to any version of it parked already (from another peer): replacing that one
  // would lose it, and joining them would lose the conflict copy of concurrent edits.
  const std::string encoded = EncodeObject(remote);
  return t.PutSyncValue(ParkedKey(remote.oid, encoded), encoded);
}

}  // namespace

Result<ApplyResult> ApplyObject(WriteTxn& t, const ObjectState& remote,
                                const ChunkReader& remote_chunks) {
  ApplyResult result;
  t.ObserveRemote(remote.LatestStamp());
  KVFS_ASSIGN_OR_RETURN(std::optional<Ino> found, FindIno(t, remote.oid));
  std::optional<Inode> before;
  MergeOutcome m;
  if (found) {
    KVFS_ASSIGN_OR_RETURN(before, t.Get(*found));
    KVFS_ASSIGN_OR_RETURN(ObjectState local, ExportObject(t, *found));
    m = MergeObject(local, remote);
    if (!m.changed && !m.conflict) {
      result.ino = *found;
      return result;
    }
  } else {
    m.state = remote;
    m.state.Canonicalize();
    m.content_from = Side::kRemote;
  }
  const ObjectState& ms = m.state;

  // Every parent must be known here; otherwise wait for it. Also for a tombstone:
  // it keeps its last name, which a create inside it (on a peer the delete did not
  // reach) brings back, so a tombstone without its name would come back as a live
  // directory that nothing names, hiding what was created in it. A peer's feed lists
  // the tombstones of `rm -r` children before their directories'.
  std::vector<std::pair<Ino, std::string>> wanted;
  for (const RemoteLink& l : ms.links) {
    KVFS_ASSIGN_OR_RETURN(std::optional<Ino> parent, FindIno(t, l.parent));
    if (!parent) {
      KVFS_RETURN_IF_ERROR(Park(t, remote, remote_chunks));
      result.parked = true;
      return result;
    }
    wanted.emplace_back(*parent, l.name);
  }

  // The remote chunk reader, falling back to equal local chunks of this object.
  ChunkReader read_remote = [&](uint64_t index, const HlcStamp& stamp) -> Result<std::string> {
    if (found) {
      KVFS_ASSIGN_OR_RETURN(auto local, t.ReadChunk(*found, index));
      if (local && local->first == stamp) return std::move(local->second);
    }
    return remote_chunks(index, stamp);
  };

  // The conflict copy first: it may need this object's local chunks before they change.
  if (m.conflict) {
    ChunkReader read_local = [&](uint64_t index, const HlcStamp&) -> Result<std::string> {
      KVFS_ASSIGN_OR_RETURN(auto local, t.ReadChunk(*found, index));
      if (!local) return Status(Code::kCorruption, "local chunk vanished during a merge");
      return std::move(local->second);
    };
    KVFS_RETURN_IF_ERROR(ApplyObject(t, m.conflict->state,
                                     m.conflict->content_from == Side::kLocal ? read_local
                                                                              : read_remote)
                             .status());
    result.conflict = true;
    // Placing the copy may have moved this object on from a clashing name: reload.
    KVFS_ASSIGN_OR_RETURN(before, t.Get(*found));
  }

  Inode node;
  if (before) {
    node = *before;
  } else {
    KVFS_ASSIGN_OR_RETURN(node.ino, t.AllocateIno());
    node.oid = ms.oid;
    node.type = ms.type;
    node.nlink = 0;
    KVFS_RETURN_IF_ERROR(t.PutObjectIndex(node.oid, node.ino));
  }
  // The stored chunks become exactly the merged state's, also when the merge kept "the
  // local content": that is what the local state exported, and a deleted file exports
  // none (Canonicalize) while its chunks stay here for open descriptors. Without this,
  // a file deleted elsewhere, or one a merge revived, kept those chunks behind a size
  // of 0 for good. Equal local chunks are kept, so this reads nothing from the peer.
  if (node.is_file()) {
    KVFS_RETURN_IF_ERROR(SyncContent(t, node.ino, ms, read_remote));
  }
  KVFS_RETURN_IF_ERROR(SyncXattrs(t, node.ino, ms.xattrs));
  node.mode = ms.mode;
  node.uid = ms.uid;
  node.gid = ms.gid;
  node.atime = ms.atime;
  node.mtime = ms.mtime;
  node.ctime = t.Now();
  node.size = ms.size;
  node.symlink_target = ms.symlink_target;
  node.name_stamp = ms.name_stamp;
  node.attr_stamp = ms.attr_stamp;
  node.times_stamp = ms.times_stamp;
  node.xattr_stamp = ms.xattr_stamp;
  node.content_stamp = ms.content_stamp;
  node.content_versions = ms.content_versions;
  node.delete_stamp = ms.delete_stamp;
  node.delete_versions = ms.delete_versions;
  node.stamp = std::max(node.stamp, ms.LatestStamp());

  // Names: what the object has here now, and what the merged state wants.
  std::vector<store::Link> current;
  if (before && !before->deleted) current = before->links;
  bool live = !ms.IsDeleted();
  if (!live && node.is_dir() && before && !before->deleted) {
    KVFS_ASSIGN_OR_RETURN(auto entries, t.ListDir(node.ino, {}, 1));
    if (!entries.empty()) {
      // Deleted elsewhere, but something here still lives in it: it stays.
      live = true;
      wanted.clear();
      for (const auto& l : current) wanted.emplace_back(l.parent, l.name);
      KVFS_ASSIGN_OR_RETURN(node.name_stamp, t.Stamp());
      node.stamp = std::max(node.stamp, node.name_stamp);
    }
  }
  if (live && node.is_dir() && !current.empty() && !wanted.empty()) {
    KVFS_ASSIGN_OR_RETURN(bool cycle, IsWithin(t, wanted.front().first, node.ino));
    if (cycle) {
      // The move would put the directory inside itself: it keeps its place.
      wanted.clear();
      for (const auto& l : current) wanted.emplace_back(l.parent, l.name);
      KVFS_ASSIGN_OR_RETURN(node.name_stamp, t.Stamp());
      node.stamp = std::max(node.stamp, node.name_stamp);
    }
  }
  std::vector<std::pair<Ino, std::string>> target = live ? wanted : decltype(wanted){};
  for (const store::Link& l : current) {
    const bool keep = std::find(target.begin(), target.end(), std::pair{l.parent, l.name}) !=
                      target.end();
    if (!keep) {
      KVFS_RETURN_IF_ERROR(t.DeleteDirent(l.parent, l.name));
      if (node.is_dir()) KVFS_RETURN_IF_ERROR(AdjustNlink(t, l.parent, -1));
    }
  }
  std::vector<store::Link> final_links;
  for (const auto& [parent, name] : target) {
    const bool had = std::find(current.begin(), current.end(), store::Link{parent, name}) !=
                     current.end();
    std::string actual = name;
    if (!had) {
      KVFS_ASSIGN_OR_RETURN(actual, AddName(t, node, parent, name));
    }
    final_links.push_back({parent, actual});
  }
  if (live) {
    node.links = final_links;
  } else if (!wanted.empty()) {
    node.links.clear();
    for (const auto& [parent, name] : wanted) node.links.push_back({parent, name});
  }
  node.deleted = !live;
  if (node.is_dir()) {
    node.nlink = live ? std::max<uint32_t>(node.nlink, 2) : 0;
  } else {
    node.nlink = live ? static_cast<uint32_t>(node.links.size()) : 0;
  }
  KVFS_RETURN_IF_ERROR(t.SaveMerged(node));
  result.changed = true;
  result.ino = node.ino;
  return result;
}

Result<size_t> ApplyParked(WriteTxn& t) {
  size_t applied = 0;
  for (bool progress = true; progress;) {
    progress = false;
    KVFS_ASSIGN_OR_RETURN(auto parked, t.ScanSync("p", 4096));
    for (const auto& [key, value] : parked) {
      KVFS_ASSIGN_OR_RETURN(ObjectState state, DecodeObject(value));
      KVFS_RETURN_IF_ERROR(t.DeleteSyncValue(key));
      KVFS_ASSIGN_OR_RETURN(ApplyResult r, ApplyObject(t, state, StagedChunkReader(t, state.oid)));
      if (!r.parked) {
        KVFS_ASSIGN_OR_RETURN(bool another, IsParked(t, state.oid));
        if (!another) KVFS_RETURN_IF_ERROR(DropStaged(t, state.oid));
        ++applied;
        progress = true;
      }
    }
  }
  return applied;
}

}  // namespace kvfs::sync
