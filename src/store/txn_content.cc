// WriteTxn content and attribute operations: chunked writes, truncate, setattr,
// extended attributes, and purging the content of tombstones.
#include <sys/xattr.h>

#include <algorithm>

#include "store/chunk_walk.h"
#include "store/keys.h"
#include "store/lmdb.h"
#include "store/record_codec.h"
#include "store/txn.h"
#include "store/txn_changes.h"

namespace kvfs::store {

namespace {

// An empty buffer for building a chunk's value, kept by each thread: a chunk is up to
// 64 KiB, and allocating one per write (and growing it while appending) took ~5 % of
// the daemon's time in a loop of 4 KiB appends. The value is copied into LMDB (and
// the redo log's changes) before the next chunk is built.
std::string& ChunkValueBuffer(size_t bytes) {
  thread_local std::string buffer;
  buffer.clear();
  buffer.reserve(bytes);
  return buffer;
}

}  // namespace

Status WriteTxn::WriteChunk(Ino ino, uint64_t index, std::string_view data) {
  KVFS_ASSIGN_OR_RETURN(HlcStamp stamp, Stamp());
  std::string& value = ChunkValueBuffer(kChunkStampBytes + data.size());
  value.append(EncodeStamp(stamp));  // the chunk's stamp lets sync send only new chunks
  value.append(data);
  return Put(t_.chunks, keys::ChunkKey(ino, index), value);
}

Status WriteTxn::PatchChunk(Ino ino, uint64_t index, uint64_t in_chunk, uint64_t existing,
                            std::string_view data) {
  const std::string key = keys::ChunkKey(ino, index);
  KVFS_ASSIGN_OR_RETURN(auto old, GetRaw(t_.chunks, key));  // none: a hole
  if (old && old->size() < kChunkStampBytes) {
    return Status(Code::kCorruption, "corrupt content chunk of inode " + std::to_string(ino));
  }
  KVFS_ASSIGN_OR_RETURN(HlcStamp stamp, Stamp());
  const size_t size = kChunkStampBytes + std::max<uint64_t>(existing, in_chunk + data.size());
  std::string& value = ChunkValueBuffer(size);
  value.append(EncodeStamp(stamp));  // the chunk's stamp lets sync send only new chunks
  // A chunk may be shorter than the file's bytes in it (a hole at its end): zeros.
  if (old) value.append(old->substr(kChunkStampBytes, existing));
  value.resize(size, '\0');
  value.replace(kChunkStampBytes + in_chunk, data.size(), data);
  return PutOver(t_.chunks, key, value, old);
}

Result<Inode> WriteTxn::Write(Ino ino, uint64_t offset, std::string_view data) {
  KVFS_ASSIGN_OR_RETURN(Inode node, Get(ino));
  if (node.is_dir()) return Status(Code::kIsDir, "cannot write to a directory");
  if (node.is_symlink()) return Status(Code::kInvalid, "cannot write to a symlink");
  if (offset > kMaxFileSize || data.size() > kMaxFileSize - offset) {
    return Status(Code::kFileTooBig, "write past the largest file size kvfs supports");
  }
  // As write(2): zero bytes change nothing, not even the size when past the end.
  if (data.empty()) return node;
  uint64_t pos = offset;
  std::string_view rest = data;
  while (!rest.empty()) {
    const uint64_t index = pos / kChunkSize;
    const uint64_t in_chunk = pos % kChunkSize;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(rest.size(), kChunkSize - in_chunk));
    const uint64_t chunk_start = index * kChunkSize;
    // Bytes of this chunk that exist in the file (below the old size).
    const uint64_t existing = node.size > chunk_start
                                  ? std::min<uint64_t>(kChunkSize, node.size - chunk_start)
                                  : 0;
    if (in_chunk == 0 && n >= existing) {
      KVFS_RETURN_IF_ERROR(WriteChunk(ino, index, rest.substr(0, n)));
    } else {
      KVFS_RETURN_IF_ERROR(PatchChunk(ino, index, in_chunk, existing, rest.substr(0, n)));
    }
    pos += n;
    rest.remove_prefix(n);
  }
  node.size = std::max<uint64_t>(node.size, offset + data.size());
  node.mtime = node.ctime = Now();
  KVFS_RETURN_IF_ERROR(Save(node, ChangeOp::kWrite));
  return node;
}

Result<Inode> WriteTxn::Replace(Ino ino, std::string_view data) {
  KVFS_ASSIGN_OR_RETURN(Inode node, Get(ino));
  if (!node.is_file()) return Status(Code::kIsDir, "only a file's content can be replaced");
  KVFS_RETURN_IF_ERROR(TruncateContent(node, 0));
  node.size = 0;
  KVFS_RETURN_IF_ERROR(Save(node, ChangeOp::kWrite));
  if (data.empty()) {
    node.mtime = node.ctime = Now();
    KVFS_RETURN_IF_ERROR(Save(node, ChangeOp::kWrite));
    return node;
  }
  return Write(ino, 0, data);
}

Status WriteTxn::DeleteChunksFrom(Ino ino, uint64_t first_index) {
  ChunkWalk walk(txn_, t_.chunks, ino);
  if (!walk.ok()) return Status(Code::kIo, "cannot open a cursor on file content");
  // Re-seeking after each delete keeps the loop independent of cursor state rules.
  while (walk.SeekTo(first_index * kChunkSize)) {
    if (changes_) changes_->Del(t_.chunks, walk.key());
    int rc = walk.Delete();
    if (rc == MDB_MAP_FULL) map_full_ = true;
    KVFS_RETURN_IF_ERROR(lmdb::FromRc(rc, "delete content"));
  }
  return Status::Ok();
}

Status WriteTxn::TruncateContent(Inode& node, uint64_t size) {
  if (size >= node.size) return Status::Ok();  // growing leaves a hole: nothing stored
  const uint64_t index = size / kChunkSize;
  const uint64_t keep = size % kChunkSize;
  if (keep == 0) return DeleteChunksFrom(node.ino, index);
  KVFS_ASSIGN_OR_RETURN(std::string head, Read(node.ino, index * kChunkSize, keep));
  KVFS_RETURN_IF_ERROR(DeleteChunksFrom(node.ino, index));
  return WriteChunk(node.ino, index, head);
}

Result<Inode> WriteTxn::SetAttr(Ino ino, const AttrChange& c) {
  // The record codec refuses nanoseconds outside [0, 1e9), so storing one would make
  // the object unreadable (UTIME_NOW/UTIME_OMIT are flags here, never values).
  for (const std::optional<Timespec>& t : {c.atime, c.mtime}) {
    if (t && (t->nsec < 0 || t->nsec >= 1'000'000'000)) {
      return Status(Code::kInvalid, "a time's nanoseconds must be 0 to 999999999");
    }
  }
  KVFS_ASSIGN_OR_RETURN(Inode node, Get(ino));
  const Timespec now = Now();
  ChangeOp op = ChangeOp::kAttr;
  unsigned parts = 0;
  if (c.mode || c.uid || c.gid) parts |= kPartAttr;
  if (c.atime || c.mtime || c.atime_now || c.mtime_now) parts |= kPartTimes;
  if (c.size) {
    parts |= kPartContent | kPartTimes;
    if (node.is_dir()) return Status(Code::kIsDir, "cannot truncate a directory");
    if (!node.is_file()) return Status(Code::kInvalid, "can only truncate a regular file");
    if (*c.size > kMaxFileSize) return Status(Code::kFileTooBig, "size past the largest file");
    KVFS_RETURN_IF_ERROR(TruncateContent(node, *c.size));
    node.size = *c.size;
    node.mtime = now;
    op = ChangeOp::kWrite;
  }
  if (c.mode) node.mode = *c.mode & 07777;
  if (c.uid) node.uid = *c.uid;
  if (c.gid) node.gid = *c.gid;
  if (c.atime_now) node.atime = now;
  else if (c.atime) node.atime = *c.atime;
  if (c.mtime_now) node.mtime = now;
  else if (c.mtime) node.mtime = *c.mtime;
  node.ctime = now;
  KVFS_RETURN_IF_ERROR(Save(node, op, parts == 0 ? kPartAttr : parts));
  return node;
}

Status WriteTxn::SetXattr(Ino ino, std::string_view name, std::string_view value, int flags) {
  if (name.empty() || name.size() > kMaxNameLen) {
    return Status(Code::kRange, "extended attribute names are 1 to 255 bytes");
  }
  if (value.size() > kMaxXattrValue) {
    return Status(Code::kTooBig, "extended attribute values are at most 64 KiB");
  }
  KVFS_ASSIGN_OR_RETURN(Inode node, Get(ino));
  KVFS_ASSIGN_OR_RETURN(auto existing, GetRaw(t_.xattrs, keys::XattrKey(ino, name)));
  if ((flags & XATTR_CREATE) && existing) {
    return Status(Code::kExists, "extended attribute '" + std::string(name) + "' exists");
  }
  if ((flags & XATTR_REPLACE) && !existing) {
    return Status(Code::kNoData, "no extended attribute '" + std::string(name) + "'");
  }
  KVFS_RETURN_IF_ERROR(Put(t_.xattrs, keys::XattrKey(ino, name), value));
  node.ctime = Now();
  return Save(node, ChangeOp::kXattr);
}

Status WriteTxn::RemoveXattr(Ino ino, std::string_view name) {
  KVFS_ASSIGN_OR_RETURN(Inode node, Get(ino));
  KVFS_ASSIGN_OR_RETURN(auto existing, GetRaw(t_.xattrs, keys::XattrKey(ino, name)));
  if (!existing) return Status(Code::kNoData, "no extended attribute '" + std::string(name) + "'");
  KVFS_RETURN_IF_ERROR(Del(t_.xattrs, keys::XattrKey(ino, name)));
  node.ctime = Now();
  return Save(node, ChangeOp::kXattr);
}

Status WriteTxn::Purge(Ino ino) {
  KVFS_ASSIGN_OR_RETURN(Inode node, Get(ino));
  if (!node.deleted) return Status::Ok();
  KVFS_RETURN_IF_ERROR(DeleteChunksFrom(ino, 0));
  KVFS_ASSIGN_OR_RETURN(auto names, ListXattrs(ino));
  for (const std::string& name : names) KVFS_RETURN_IF_ERROR(Del(t_.xattrs, keys::XattrKey(ino, name)));
  if (node.size != 0) {
    node.size = 0;  // a purged tombstone keeps its stamp: it is not a new change
    KVFS_RETURN_IF_ERROR(Put(t_.inodes, keys::InodeKey(ino), EncodeInode(node)));
  }
  return Status::Ok();
}

}  // namespace kvfs::store
