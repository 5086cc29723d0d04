// WriteTxn internals shared by every mutation: raw puts, the HLC stamp of the
// transaction, counters, and Save(), which stamps an object and moves it to the
// end of the change feed.
#include <time.h>

#include <algorithm>

#include "store/keys.h"
#include "store/lmdb.h"
#include "store/record_codec.h"
#include "store/txn.h"
#include "store/txn_changes.h"

namespace kvfs::store {

Status WriteTxn::Put(MDB_dbi dbi, std::string_view key, std::string_view value) {
  std::optional<std::string_view> old;
  if (changes_ && value.size() >= TxnChanges::kPatchMinBytes) {
    // The old value lets the log keep only the blocks a put changes.
    MDB_val k = lmdb::Val(key), v;
    if (mdb_get(txn_, dbi, &k, &v) == MDB_SUCCESS) old = lmdb::View(v);
  }
  return PutOver(dbi, key, value, old);
}

Status WriteTxn::PutOver(MDB_dbi dbi, std::string_view key, std::string_view value,
                         std::optional<std::string_view> old) {
  // Recorded before the put: `old` may point at a page the put reuses.
  if (changes_) changes_->Put(dbi, key, value, old);
  MDB_val k = lmdb::Val(key), v = lmdb::Val(value);
  int rc = mdb_put(txn_, dbi, &k, &v, 0);
  if (rc == MDB_MAP_FULL) map_full_ = true;
  return lmdb::FromRc(rc, "write");
}

Status WriteTxn::Del(MDB_dbi dbi, std::string_view key) {
  MDB_val k = lmdb::Val(key);
  if (changes_) changes_->Del(dbi, key);
  int rc = mdb_del(txn_, dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return Status::Ok();
  if (rc == MDB_MAP_FULL) map_full_ = true;
  return lmdb::FromRc(rc, "delete");
}

Result<uint64_t> WriteTxn::NextCounter(const char* name, std::optional<uint64_t>& cache) {
  if (!cache) {
    KVFS_ASSIGN_OR_RETURN(auto raw, GetRaw(t_.meta, name));
    if (!raw || raw->size() != 8) {
      return Status(Code::kCorruption, std::string("store counter '") + name + "' is missing");
    }
    cache = keys::DecodeU64(*raw);
  }
  return (*cache)++;
}

Result<HlcStamp> WriteTxn::Stamp() {
  if (stamp_) return *stamp_;
  // The last stamp is read inside this write transaction, so another process
  // writing the same store can never make us issue a stamp behind its own.
  KVFS_ASSIGN_OR_RETURN(auto raw, GetRaw(t_.meta, keys::kMetaHlc));
  HlcStamp last;
  if (raw && !DecodeStamp(*raw, &last)) {
    return Status(Code::kCorruption, "the store's clock record is damaged");
  }
  stamp_ = observed_remote_ ? HlcReceive(clock_ms_(), last, *observed_remote_, node_id_)
                           : HlcTick(clock_ms_(), last, node_id_);
  return *stamp_;
}

Timespec WriteTxn::Now() const {
  if (fixed_now_) return *fixed_now_;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return Timespec{ts.tv_sec, ts.tv_nsec};
}

unsigned PartsOf(ChangeOp op) {
  switch (op) {
    case ChangeOp::kCreate:
      return kPartName | kPartAttr | kPartContent | kPartTimes | kPartXattr;
    case ChangeOp::kWrite: return kPartContent | kPartTimes;
    case ChangeOp::kAttr: return kPartAttr;
    case ChangeOp::kXattr: return kPartXattr;
    case ChangeOp::kRename:
    case ChangeOp::kLink: return kPartName;
    case ChangeOp::kDelete: return kPartDelete;  // keeps the last live name and its stamp
    case ChangeOp::kMerge: return 0;
  }
  return 0;
}

void BumpVersion(std::vector<VersionSlot>& versions, uint64_t node) {
  auto slot = std::find_if(versions.begin(), versions.end(),
                           [&](const VersionSlot& v) { return v.node == node; });
  if (slot != versions.end()) {
    ++slot->counter;
    return;
  }
  versions.push_back({node, 1});
  std::sort(versions.begin(), versions.end(),
            [](const VersionSlot& a, const VersionSlot& b) { return a.node < b.node; });
}

Status WriteTxn::Save(Inode& inode, ChangeOp op, unsigned parts) {
  KVFS_ASSIGN_OR_RETURN(HlcStamp stamp, Stamp());
  if (op != ChangeOp::kMerge) {
    inode.stamp = std::max(inode.stamp, stamp);
    BumpVersion(inode.versions, node_id_);
  }
  if (parts & kPartName) inode.name_stamp = stamp;
  if (parts & kPartAttr) inode.attr_stamp = stamp;
  if (parts & kPartTimes) inode.times_stamp = stamp;
  if (parts & kPartXattr) inode.xattr_stamp = stamp;
  if (parts & kPartContent) {
    inode.content_stamp = stamp;
    BumpVersion(inode.content_versions, node_id_);
    // Writes through an fd still open on a deleted file came after its delete and no
    // one else sees them: the delete has seen them, or sync would revive the file.
    // With a new stamp: the delete register is last-writer-wins, and the same stamp
    // with other versions on two peers could pick the older versions, which then no
    // longer cover the content, and bring the file back empty.
    if (inode.deleted) {
      inode.delete_versions = inode.content_versions;
      inode.delete_stamp = stamp;
    }
  }
  if (parts & kPartDelete) {
    inode.delete_stamp = stamp;
    inode.delete_versions = inode.content_versions;
  }
  if (inode.seq != 0) KVFS_RETURN_IF_ERROR(Del(t_.feed, keys::FeedKey(inode.seq)));
  KVFS_ASSIGN_OR_RETURN(inode.seq, NextCounter(keys::kMetaNextSeq, next_seq_));
  Change change{inode.seq, inode.ino, op, inode.stamp};
  KVFS_RETURN_IF_ERROR(Put(t_.feed, keys::FeedKey(inode.seq), EncodeChange(change)));
  return Put(t_.inodes, keys::InodeKey(inode.ino), EncodeInode(inode));
}

Status WriteTxn::Finish() {
  // A remote stamp seen without a local change must still move the stored clock,
  // or a later local change could be stamped behind it and lose every LWW merge.
  if (observed_remote_ && !stamp_) KVFS_RETURN_IF_ERROR(Stamp().status());
  if (next_ino_) KVFS_RETURN_IF_ERROR(Put(t_.meta, keys::kMetaNextIno, keys::U64Key(*next_ino_)));
  if (next_seq_) KVFS_RETURN_IF_ERROR(Put(t_.meta, keys::kMetaNextSeq, keys::U64Key(*next_seq_)));
  if (stamp_) KVFS_RETURN_IF_ERROR(Put(t_.meta, keys::kMetaHlc, EncodeStamp(*stamp_)));
  return Status::Ok();
}

Result<Inode> WriteTxn::LiveDir(Ino dir) {
  auto node = Get(dir);
  if (!node.ok()) return node.status();
  if (node->deleted) return Status(Code::kNotFound, "the directory was deleted");
  if (!node->is_dir()) return Status(Code::kNotDir, "not a directory");
  return node;
}

Status WriteTxn::TouchDir(Inode& dir, int nlink_delta) {
  dir.nlink = static_cast<uint32_t>(static_cast<int64_t>(dir.nlink) + nlink_delta);
  dir.mtime = dir.ctime = Now();
  return Save(dir, ChangeOp::kAttr, kPartTimes);
}

Status WriteTxn::AddEntry(Ino parent, std::string_view name, const Inode& child) {
  return Put(t_.dirents, keys::DirentKey(parent, name), EncodeDirent(child.ino, child.type));
}

}  // namespace kvfs::store
