#include "fs/filesystem.h"

#include <spdlog/spdlog.h>

namespace kvfs::fs {

Filesystem::Filesystem(store::Store& store, FsConfig config)
    : store_(store), config_(std::move(config)) {}

Status Filesystem::View(const std::function<Status(store::ReadTxn&)>& fn) {
  return store_.View(fn);
}

Status Filesystem::Update(const std::function<Status(store::WriteTxn&)>& fn) {
  return UpdateMaybeForeign([&](store::WriteTxn& t, bool*) { return fn(t); });
}

Status Filesystem::UpdateMaybeForeign(
    const std::function<Status(store::WriteTxn&, bool* foreign)>& fn) {
  if (config_.read_only) return Status(Code::kAccess, "the mount is read-only");
  const uint64_t token = own_.Begin();
  Status st = store_.Update([&](store::WriteTxn& t) -> Status {
    bool foreign = false;
    KVFS_ASSIGN_OR_RETURN(uint64_t before, t.LastSeq());
    KVFS_RETURN_IF_ERROR(fn(t, &foreign));
    KVFS_ASSIGN_OR_RETURN(uint64_t after, t.LastSeq());
    // Registered before the commit: the watcher may read the feed the moment the
    // commit lands, and must then know these seqs are ours (or wait to learn it).
    if (after > before && !foreign) own_.Tentative(token, before, after);
    return Status::Ok();
  });
  own_.Finish(token, st.ok());
  if (st.ok()) dirty_.store(true);
  return st;
}

Status Filesystem::Sync() {
  if (config_.read_only) return Status::Ok();
  return store_.Sync();
}

void Filesystem::FillAttr(const store::Inode& node, struct stat* st) const {
  *st = {};
  st->st_ino = node.ino;
  st->st_mode = node.StMode();
  st->st_nlink = node.nlink;
  st->st_uid = node.uid;
  st->st_gid = node.gid;
  st->st_size = static_cast<off_t>(node.size);
  st->st_blksize = static_cast<blksize_t>(store::kChunkSize);
  st->st_blocks = static_cast<blkcnt_t>((node.size + 511) / 512);
  st->st_atim = timespec{node.atime.sec, node.atime.nsec};
  st->st_mtim = timespec{node.mtime.sec, node.mtime.nsec};
  st->st_ctim = timespec{node.ctime.sec, node.ctime.nsec};
}

void Filesystem::FillEntry(const store::Inode& node, fuse_entry_param* e) const {
  *e = {};
  e->ino = node.ino;
  e->generation = 1;  // store inode numbers are never reused
  FillAttr(node, &e->attr);
  e->attr_timeout = config_.attr_timeout;
  e->entry_timeout = config_.entry_timeout;
}

void Filesystem::FillNegativeEntry(fuse_entry_param* e) const {
  *e = {};
  e->ino = 0;
  e->entry_timeout = config_.negative_timeout;
}

int Filesystem::ErrnoOf(const Status& status) const {
  if (config_.read_only && status.code() == Code::kAccess) return EROFS;
  const int err = status.ToErrno();
  return err == 0 ? EIO : err;
}

void Filesystem::PurgeIfDeleted(store::Ino ino) {
  if (config_.read_only) return;
  bool deleted = false;
  Status st = View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Get(ino));
    deleted = node.deleted;
    return Status::Ok();
  });
  if (!st.ok() || !deleted) return;
  st = Update([&](store::WriteTxn& t) { return t.Purge(ino); });
  if (!st.ok()) {
    spdlog::warn("purge of deleted inode {} failed: {}", ino, st.message());
  } else {
    spdlog::debug("purged the content of deleted inode {}", ino);
  }
}

}  // namespace kvfs::fs
