// Raw reads and writes for the sync layer. Unlike the filesystem operations these do
// not stamp anything: the sync layer writes registers it has already merged.
#include "store/keys.h"
#include "store/lmdb.h"
#include "store/prefetch.h"
#include "store/record_codec.h"
#include "store/txn.h"

namespace kvfs::store {

Result<std::vector<ChunkInfo>> ReadTxn::ChunkManifest(Ino ino) {
  std::vector<ChunkInfo> out;
  const std::string prefix = keys::InodeKey(ino);
  lmdb::Cursor cur(txn_, t_.chunks);
  if (!cur.ok()) return Status(Code::kIo, "cannot open a cursor on file content");
  for (bool more = cur.Seek(prefix); more && cur.key().starts_with(prefix); more = cur.Next()) {
    ChunkInfo info;
    info.index = keys::DecodeU64(cur.key().substr(8));
    if (cur.key().size() != 16 || !DecodeStamp(cur.value(), &info.stamp)) {
      return Status(Code::kCorruption, "corrupt content chunk of inode " + std::to_string(ino));
    }
    out.push_back(info);
  }
  return out;
}

Result<std::optional<std::pair<HlcStamp, std::string>>> ReadTxn::ReadChunk(Ino ino,
                                                                           uint64_t index) {
  using Chunk = std::optional<std::pair<HlcStamp, std::string>>;
  KVFS_ASSIGN_OR_RETURN(auto raw, GetRaw(t_.chunks, keys::ChunkKey(ino, index)));
  if (!raw) return Chunk();
  HlcStamp stamp;
  if (raw->size() < 16 || !DecodeStamp(*raw, &stamp)) {
    return Status(Code::kCorruption, "corrupt content chunk of inode " + std::to_string(ino));
  }
  const std::string_view data = raw->substr(16);
  PrefetchPages(data);  // one read of the whole chunk, not a fault per page (prefetch.h)
  return Chunk(std::pair{stamp, std::string(data)});
}

Result<std::optional<std::string>> ReadTxn::GetSyncValue(std::string_view key) {
  KVFS_ASSIGN_OR_RETURN(auto raw, GetRaw(t_.sync, key));
  if (!raw) return std::optional<std::string>();
  return std::optional<std::string>(std::string(*raw));
}

Result<std::vector<std::pair<std::string, std::string>>> ReadTxn::ScanSync(
    std::string_view prefix, size_t limit) {
  std::vector<std::pair<std::string, std::string>> out;
  lmdb::Cursor cur(txn_, t_.sync);
  if (!cur.ok()) return Status(Code::kIo, "cannot open a cursor on sync state");
  for (bool more = cur.Seek(prefix); more && cur.key().starts_with(prefix) && out.size() < limit;
       more = cur.Next()) {
    out.emplace_back(std::string(cur.key()), std::string(cur.value()));
  }
  return out;
}

void WriteTxn::ObserveRemote(const HlcStamp& remote) {
  // A peer whose clock runs far ahead must not drag ours there for good (the HLC
  // paper bounds drift the same way): such a stamp still orders its own change, but
  // our clock only follows it up to kMaxClockAheadMs past our wall clock.
  if (remote.physical_ms() > clock_ms_() + kMaxClockAheadMs) return;
  if (!observed_remote_ || remote > *observed_remote_) observed_remote_ = remote;
  if (stamp_ && remote >= *stamp_) stamp_ = HlcReceive(clock_ms_(), *stamp_, remote, node_id_);
}

Result<Ino> WriteTxn::AllocateIno() { return NextCounter(keys::kMetaNextIno, next_ino_); }

Status WriteTxn::SaveMerged(Inode& inode) { return Save(inode, ChangeOp::kMerge, 0); }

Status WriteTxn::PutInodeRaw(const Inode& inode) {
  return Put(t_.inodes, keys::InodeKey(inode.ino), EncodeInode(inode));
}

Status WriteTxn::PutObjectIndex(const ObjectId& oid, Ino ino) {
  return Put(t_.objects, keys::ObjectKey(oid), keys::InodeKey(ino));
}

Status WriteTxn::PutDirent(Ino parent, std::string_view name, Ino child, FileType type) {
  return Put(t_.dirents, keys::DirentKey(parent, name), EncodeDirent(child, type));
}

Status WriteTxn::DeleteDirent(Ino parent, std::string_view name) {
  return Del(t_.dirents, keys::DirentKey(parent, name));
}

Status WriteTxn::PutChunk(Ino ino, uint64_t index, const HlcStamp& stamp, std::string_view data) {
  if (data.size() > kChunkSize) return Status(Code::kInvalid, "chunk larger than 64 KiB");
  std::string value = EncodeStamp(stamp);
  value.append(data);
  return Put(t_.chunks, keys::ChunkKey(ino, index), value);
}

Status WriteTxn::DeleteChunk(Ino ino, uint64_t index) {
  return Del(t_.chunks, keys::ChunkKey(ino, index));
}

Status WriteTxn::PutXattrRaw(Ino ino, std::string_view name, std::string_view value) {
  return Put(t_.xattrs, keys::XattrKey(ino, name), value);
}

Status WriteTxn::DeleteXattrRaw(Ino ino, std::string_view name) {
  return Del(t_.xattrs, keys::XattrKey(ino, name));
}

Status WriteTxn::PutSyncValue(std::string_view key, std::string_view value) {
  return Put(t_.sync, key, value);
}

Status WriteTxn::DeleteSyncValue(std::string_view key) { return Del(t_.sync, key); }

}  // namespace kvfs::store
