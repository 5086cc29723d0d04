// ReadTxn: lookups, listings, content reads and the change feed.
#include <algorithm>
#include <array>

#include "store/chunk_walk.h"
#include "store/keys.h"
#include "store/lmdb.h"
#include "store/path.h"
#include "store/prefetch.h"
#include "store/record_codec.h"
#include "store/txn.h"

namespace kvfs::store {
namespace {

// Chunks (64 KiB each) a content read asks the kernel for ahead of its copying.
constexpr size_t kReadAheadChunks = 64;
// What holes read as (ReadViews hands out views of it).
constexpr std::array<char, kChunkSize> kZeros{};

}  // namespace

Result<std::optional<std::string_view>> ReadTxn::GetRaw(MDB_dbi dbi, std::string_view key) {
  MDB_val k = lmdb::Val(key), v;
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(rc, "read"));
  return std::optional<std::string_view>(lmdb::View(v));
}

Result<std::optional<std::string>> ReadTxn::GetMeta(std::string_view name) {
  KVFS_ASSIGN_OR_RETURN(auto raw, GetRaw(t_.meta, name));
  if (!raw) return std::optional<std::string>();
  return std::optional<std::string>(std::string(*raw));
}

uint64_t ReadTxn::SnapshotId() const { return mdb_txn_id(txn_); }

Result<Inode> ReadTxn::Get(Ino ino) {
  KVFS_ASSIGN_OR_RETURN(auto raw, GetRaw(t_.inodes, keys::InodeKey(ino)));
  if (!raw) return Status(Code::kNotFound, "no object with inode " + std::to_string(ino));
  return DecodeInode(ino, *raw);
}

Result<Inode> ReadTxn::Lookup(Ino parent, std::string_view name) {
  KVFS_ASSIGN_OR_RETURN(auto raw, GetRaw(t_.dirents, keys::DirentKey(parent, name)));
  if (!raw) return Status(Code::kNotFound, "no entry named '" + std::string(name) + "'");
  Ino child;
  FileType type;
  if (!DecodeDirent(*raw, &child, &type)) {
    return Status(Code::kCorruption, "corrupt directory entry '" + std::string(name) + "'");
  }
  return Get(child);
}

Result<std::vector<DirEntry>> ReadTxn::ListDir(Ino dir, std::string_view after, size_t limit) {
  std::vector<DirEntry> out;
  const std::string prefix = keys::DirentPrefix(dir);
  lmdb::Cursor cur(txn_, t_.dirents);
  if (!cur.ok()) return Status(Code::kIo, "cannot open a cursor on directory entries");
  bool more = cur.Seek(keys::DirentKey(dir, after));
  if (more && !after.empty() && keys::KeySuffix(cur.key()) == after) more = cur.Next();
  for (; more && out.size() < limit; more = cur.Next()) {
    if (!cur.key().starts_with(prefix)) break;
    DirEntry e;
    e.name = std::string(keys::KeySuffix(cur.key()));
    if (!DecodeDirent(cur.value(), &e.ino, &e.type)) {
      return Status(Code::kCorruption, "corrupt directory entry '" + e.name + "'");
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::string> ReadTxn::Read(Ino ino, uint64_t offset, size_t size) {
  std::vector<std::string_view> views;
  KVFS_ASSIGN_OR_RETURN(size_t bytes, ReadViews(ino, offset, size, &views));
  std::string out;
  out.reserve(bytes);
  for (std::string_view v : views) out.append(v);
  return out;
}

Result<size_t> ReadTxn::ReadViews(Ino ino, uint64_t offset, size_t size,
                                  std::vector<std::string_view>* out) {
  KVFS_ASSIGN_OR_RETURN(Inode node, Get(ino));
  if (node.is_dir()) return Status(Code::kIsDir, "cannot read a directory as a file");
  if (offset >= node.size) return size_t{0};
  // offset + size may wrap (a caller asking for "everything": SIZE_MAX).
  const uint64_t end = offset + std::min<uint64_t>(size, node.size - offset);
  // First find the chunks (their bytes stay in the map), then hand them out while the
  // kernel reads the next ones: the map itself does no read-ahead (prefetch.h).
  // What comes after this read is the caller's to ask for (PrefetchRange).
  struct Piece {
    uint64_t start;
    std::string_view data;
  };
  std::vector<Piece> pieces;
  ChunkWalk walk(txn_, t_.chunks, ino);
  if (!walk.ok()) return Status(Code::kIo, "cannot open a cursor on file content");
  for (bool more = walk.SeekTo(offset); more && walk.start() < end; more = walk.Next()) {
    if (walk.value().size() < kChunkStampBytes) {
      return Status(Code::kCorruption, "corrupt content chunk");
    }
    pieces.push_back({walk.start(), walk.value().substr(kChunkStampBytes)});
  }
  size_t prefetched = 0;
  uint64_t at = offset;  // the views cover [offset, at)
  auto zeros_to = [&](uint64_t to) {
    for (; at < to; at += std::min<uint64_t>(to - at, kZeros.size())) {
      out->emplace_back(kZeros.data(), std::min<uint64_t>(to - at, kZeros.size()));
    }
  };
  for (size_t i = 0; i < pieces.size(); ++i) {
    for (; prefetched < std::min(i + kReadAheadChunks, pieces.size()); ++prefetched) {
      PrefetchPages(pieces[prefetched].data);
    }
    const auto& [chunk_start, data] = pieces[i];
    const uint64_t from = std::max(offset, chunk_start);
    const uint64_t to = std::min(end, chunk_start + data.size());
    if (from >= to) continue;
    zeros_to(from);  // a hole before this chunk, or the short end of the last one
    out->push_back(data.substr(from - chunk_start, to - from));
    at = to;
  }
  zeros_to(end);
  return static_cast<size_t>(end - offset);
}

Result<size_t> ReadTxn::PrefetchContent(Ino ino, size_t max_chunks) {
  std::vector<std::string_view> values;
  ChunkWalk walk(txn_, t_.chunks, ino);
  if (!walk.ok()) return Status(Code::kIo, "cannot open a cursor on file content");
  for (bool more = walk.SeekTo(0); more && values.size() < max_chunks; more = walk.Next()) {
    values.push_back(walk.value());
    // Only the first page: deleting a value reads nothing else of it.
    PrefetchPages(walk.value().substr(0, 1));
  }
  for (std::string_view v : values) TouchFirstPage(v);
  return values.size();
}

Result<size_t> ReadTxn::PrefetchRange(Ino ino, uint64_t from, uint64_t to) {
  if (from >= to) return size_t{0};
  ChunkWalk walk(txn_, t_.chunks, ino);
  if (!walk.ok()) return Status(Code::kIo, "cannot open a cursor on file content");
  size_t asked = 0;
  for (bool more = walk.SeekTo(from); more && walk.start() < to; more = walk.Next()) {
    PrefetchPages(walk.value());
    ++asked;
  }
  return asked;
}

Result<std::string> ReadTxn::GetXattr(Ino ino, std::string_view name) {
  KVFS_ASSIGN_OR_RETURN(auto raw, GetRaw(t_.xattrs, keys::XattrKey(ino, name)));
  if (!raw) return Status(Code::kNoData, "no extended attribute '" + std::string(name) + "'");
  return std::string(*raw);
}

Result<std::vector<std::string>> ReadTxn::ListXattrs(Ino ino) {
  std::vector<std::string> out;
  const std::string prefix = keys::InodeKey(ino);
  lmdb::Cursor cur(txn_, t_.xattrs);
  if (!cur.ok()) return Status(Code::kIo, "cannot open a cursor on extended attributes");
  for (bool more = cur.Seek(prefix); more && cur.key().starts_with(prefix); more = cur.Next()) {
    out.emplace_back(keys::KeySuffix(cur.key()));
  }
  return out;
}

Result<std::vector<Ino>> ReadTxn::UnpurgedTombstones() {
  std::vector<Ino> out;
  lmdb::Cursor inodes(txn_, t_.inodes), chunks(txn_, t_.chunks), xattrs(txn_, t_.xattrs);
  if (!inodes.ok() || !chunks.ok() || !xattrs.ok()) {
    return Status(Code::kIo, "cannot open a cursor to look for unpurged tombstones");
  }
  for (bool more = inodes.First(); more; more = inodes.Next()) {
    if (inodes.key().size() != 8) continue;  // kvfs check reports such keys
    const Ino ino = keys::DecodeU64(inodes.key());
    auto node = DecodeInode(ino, inodes.value());
    if (!node.ok() || !node->deleted) continue;
    const std::string prefix = keys::InodeKey(ino);
    if ((chunks.Seek(prefix) && chunks.key().starts_with(prefix)) ||
        (xattrs.Seek(prefix) && xattrs.key().starts_with(prefix))) {
      out.push_back(ino);
    }
  }
  return out;
}

Result<Inode> ReadTxn::Resolve(std::string_view path) {
  KVFS_ASSIGN_OR_RETURN(auto names, SplitKey(path));
  KVFS_ASSIGN_OR_RETURN(Inode node, Get(kRootIno));
  std::string walked;
  for (std::string_view name : names) {
    if (!node.is_dir()) {
      return Status(Code::kNotDir, "'" + walked + "' is not a directory");
    }
    if (!walked.empty()) walked += '/';
    walked.append(name);
    auto next = Lookup(node.ino, name);
    if (!next.ok() && next.status().code() == Code::kNotFound) {
      return Status(Code::kNotFound, "no such key: " + walked);
    }
    KVFS_ASSIGN_OR_RETURN(node, std::move(next));
  }
  return node;
}

Result<std::string> ReadTxn::PathOf(Ino ino) {
  std::vector<std::string> names;
  for (int depth = 0; ino != kRootIno; ++depth) {
    KVFS_ASSIGN_OR_RETURN(Inode node, Get(ino));
    if (node.links.empty() || depth > 4096) {
      return Status(Code::kNotFound, "object " + std::to_string(ino) + " has no name");
    }
    names.push_back(node.links.front().name);
    ino = node.links.front().parent;
  }
  std::string path;
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    if (!path.empty()) path += '/';
    path += *it;
  }
  return path;
}

Result<std::vector<Change>> ReadTxn::ChangesSince(uint64_t after_seq, size_t limit) {
  std::vector<Change> out;
  lmdb::Cursor cur(txn_, t_.feed);
  if (!cur.ok()) return Status(Code::kIo, "cannot open a cursor on the change feed");
  for (bool more = cur.Seek(keys::FeedKey(after_seq + 1)); more && out.size() < limit;
       more = cur.Next()) {
    KVFS_ASSIGN_OR_RETURN(Change c, DecodeChange(keys::DecodeU64(cur.key()), cur.value()));
    out.push_back(c);
  }
  return out;
}

Result<uint64_t> ReadTxn::LastSeq() {
  lmdb::Cursor cur(txn_, t_.feed);
  if (!cur.ok()) return Status(Code::kIo, "cannot open a cursor on the change feed");
  if (!cur.Last()) return uint64_t{0};
  return keys::DecodeU64(cur.key());
}

Result<Ino> ReadTxn::FindObject(const ObjectId& oid) {
  KVFS_ASSIGN_OR_RETURN(auto raw, GetRaw(t_.objects, keys::ObjectKey(oid)));
  if (!raw || raw->size() != 8) return Status(Code::kNotFound, "unknown object " + oid.ToString());
  return keys::DecodeU64(*raw);
}

Result<ReadTxn::Counts> ReadTxn::CountUnder(Ino dir) {
  Counts counts;
  std::vector<Ino> pending{dir};
  while (!pending.empty()) {
    Ino d = pending.back();
    pending.pop_back();
    KVFS_ASSIGN_OR_RETURN(auto entries, ListDir(d));
    for (const DirEntry& e : entries) {
      switch (e.type) {
        case FileType::kDirectory:
          ++counts.dirs;
          pending.push_back(e.ino);
          break;
        case FileType::kSymlink:
          ++counts.symlinks;
          break;
        case FileType::kRegular: {
          ++counts.files;
          KVFS_ASSIGN_OR_RETURN(Inode n, Get(e.ino));
          counts.bytes += n.size;
          break;
        }
      }
    }
  }
  return counts;
}

}  // namespace kvfs::store
