#include "fs/filesystem.h"

#include <spdlog/spdlog.h>

#include "store/redo_log.h"

namespace kvfs::fs {
namespace {

// Tombstones purged in one transaction: a bounded lock hold and dirty set.
constexpr size_t kPurgeBatch = 512;
// Chunks whose first page a purge brings into memory before it takes the write lock:
// 65,536 chunks are a 4 GiB file and 256 MiB of page cache. Past that, the purge's
// own deletes read the rest.
constexpr size_t kPurgePrefetchChunks = 65536;

// Purges `ino` in `t` if it is still a tombstone: gone, or revived by a merge
// meanwhile, it is left alone.
Status PurgeTombstone(store::WriteTxn& t, store::Ino ino) {
  auto node = t.Get(ino);
  if (!node.ok()) return node.status().code() == Code::kNotFound ? Status::Ok() : node.status();
  return node->deleted ? t.Purge(ino) : Status::Ok();
}

}  // namespace

FsConfig FsConfigFor(FsConfig base, const MountOptions& options) {
  base.read_only = options.read_only;
  base.writeback_cache = options.writeback_cache;
  base.readdir_attrs = options.readdir_attrs;
  if (!options.peers.empty() || !options.listen.empty()) base.negative_timeout = 0;
  return base;
}

Filesystem::Filesystem(store::Store& store, FsConfig config)
    : store_(store), config_(std::move(config)) {}

Status Filesystem::View(const std::function<Status(store::ReadTxn&)>& fn) {
  return store_.View(fn);
}

Status Filesystem::Update(const std::function<Status(store::WriteTxn&)>& fn) {
  return UpdateMaybeForeign([&](store::WriteTxn& t, bool*) { return fn(t); });
}

Status Filesystem::UpdateMaybeForeign(
    const std::function<Status(store::WriteTxn&, bool* foreign)>& fn, store::LogEarly early) {
  if (config_.read_only) return Status(Code::kAccess, "the mount is read-only");
  Status st = CommitOnce(fn, early);
  // A full disk may be full of deleted content that only waits for its queued purge.
  if (st.code() == Code::kNoSpace && HasQueuedPurges()) {
    PurgeQueued();
    st = CommitOnce(fn, early);
  }
  return st;
}

Status Filesystem::CommitOnce(const std::function<Status(store::WriteTxn&, bool* foreign)>& fn,
                              store::LogEarly early) {
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
  }, early);
  own_.Finish(token, st.ok());
  if (st.ok()) {
    dirty_.store(true);
    purge_schedule_.Committed(PurgeSchedule::Clock::now());
  }
  return st;
}

Status Filesystem::Sync() { return FlushStore({}); }

Status Filesystem::FlushPaced(const std::function<bool()>& stop) {
  return FlushStore([&] { return !stop() && !FlushDue(); });
}

Status Filesystem::FlushStore(const std::function<bool()>& hold) {
  if (config_.read_only) return Status::Ok();
  Status st = store_.Sync(hold);
  if (st.ok()) flush_schedule_.Flushed(FlushSchedule::Clock::now());
  return st;
}

bool Filesystem::FlushDue() const {
  const store::RedoLog* log = store_.redo_log();
  using Log = FlushSchedule::Log;
  const Log fill = log == nullptr      ? Log::kRoomy
                   : log->MustFlush()  ? Log::kNearlyFull
                   : log->WantsFlush() ? Log::kQuarterFull
                                       : Log::kRoomy;
  return flush_schedule_.Due(fill, FlushSchedule::Clock::now());
}

Status Filesystem::MakeDurable() {
  if (config_.read_only) return Status::Ok();
  return store_.MakeDurable();
}

Status Filesystem::Fsync() {
  flush_schedule_.Fsynced(FlushSchedule::Clock::now());
  return MakeDurable();
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

void Filesystem::CommitUnlinks(const std::vector<PendingUnlink>& batch) {
  std::vector<std::optional<store::Inode>> removed;
  Status st = CommitUnlinkBatch(batch, &removed);
  if (!st.ok()) {
    // One unlink that fails must not take the others with it: one by one.
    removed.assign(batch.size(), std::nullopt);
    for (size_t i = 0; i < batch.size(); ++i) {
      std::vector<std::optional<store::Inode>> one;
      Status s = batch.size() == 1 ? st : CommitUnlinkBatch({batch[i]}, &one);
      if (s.ok()) {
        removed[i] = one.front();
      } else {
        spdlog::error("could not commit the unlink of '{}' in directory {}: {}; it is still there",
                      batch[i].name, batch[i].parent, s.message());
      }
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!removed[i]) continue;
    const store::Inode& node = *removed[i];
    nodes_.DropName(node.ino, batch[i].parent, batch[i].name);
    // Queued, not purged at once: the kernel has mostly forgotten these by now, and one
    // purge transaction per file would undo what the batch saved.
    if (node.deleted && nodes_.MarkDeleted(node.ino)) QueuePurge(node.ino);
  }
}

Status Filesystem::CommitUnlinkBatch(const std::vector<PendingUnlink>& batch,
                                     std::vector<std::optional<store::Inode>>* removed) {
  return UpdateMaybeForeign([&](store::WriteTxn& t, bool*) -> Status {
    removed->assign(batch.size(), std::nullopt);  // the function may run more than once
    for (size_t i = 0; i < batch.size(); ++i) {
      const PendingUnlink& u = batch[i];
      // A merge or the CLI may have removed or replaced the name since it was answered.
      Result<store::Inode> now = t.Lookup(u.parent, u.name);
      if (now.status().code() == Code::kNotFound) continue;
      if (!now.ok()) return now.status();
      if (now->ino != u.ino) continue;
      t.UseTime(u.answered_at);  // getattr may have shown the directory with it
      KVFS_ASSIGN_OR_RETURN((*removed)[i], t.Unlink(u.parent, u.name));
      t.UseTime(std::nullopt);
    }
    return Status::Ok();
  });
}

void Filesystem::PurgeIfDeleted(store::Ino ino) {
  if (config_.read_only) return;
  if (!TryPurge(ino)) {
    std::lock_guard lock(purge_mu_);
    purge_queue_.push_back(ino);  // the syncer tries again
  }
}

void Filesystem::PrefetchForPurge(const std::vector<store::Ino>& inos) {
  // Best effort: a failure here only means the purge reads from disk itself.
  (void)store_.View([&](store::ReadTxn& t) {
    size_t budget = kPurgePrefetchChunks;
    for (store::Ino ino : inos) {
      if (budget == 0) break;
      KVFS_ASSIGN_OR_RETURN(size_t brought, t.PrefetchContent(ino, budget));
      budget -= brought;
    }
    return Status::Ok();
  });
}

bool Filesystem::TryPurge(store::Ino ino) {
  PrefetchForPurge({ino});
  Status st = Update([&](store::WriteTxn& t) { return PurgeTombstone(t, ino); });
  if (!st.ok()) {
    spdlog::warn("purge of deleted inode {} failed: {}; retrying within a few seconds", ino,
                 st.message());
    return false;
  }
  return true;
}

void Filesystem::QueuePurge(store::Ino ino) {
  if (config_.read_only) return;
  bool full;
  {
    std::lock_guard lock(purge_mu_);
    AppendToPurgeQueue({ino});
    full = purge_schedule_.Overflowing(purge_queue_.size());
  }
  if (full) PurgeQueued();
}

void Filesystem::QueueUnpurgedTombstones() {
  if (config_.read_only) return;
  std::vector<store::Ino> inos;
  Status st = View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(inos, t.UnpurgedTombstones());
    return Status::Ok();
  });
  if (!st.ok()) {
    spdlog::warn("cannot look for deleted files whose content is still stored: {}", st.message());
    return;
  }
  if (inos.empty()) return;
  spdlog::info("purging the content of {} deleted file(s) that the last stop left behind",
               inos.size());
  for (store::Ino ino : inos) QueuePurge(ino);
}

bool Filesystem::HasQueuedPurges() {
  std::lock_guard lock(purge_mu_);
  return !purge_queue_.empty();
}

void Filesystem::PurgeQueuedIfDue() {
  size_t queued;
  {
    std::lock_guard lock(purge_mu_);
    queued = purge_queue_.size();
  }
  if (purge_schedule_.Due(queued, PurgeSchedule::Clock::now())) PurgeQueued();
}

void Filesystem::PurgeQueued() {
  std::vector<store::Ino> all;
  {
    std::lock_guard lock(purge_mu_);
    all.swap(purge_queue_);
  }
  std::vector<store::Ino> retry;  // what waits for the next round
  for (size_t at = 0; at < all.size(); at += kPurgeBatch) {
    const std::vector<store::Ino> inos(all.begin() + at,
                                       all.begin() + std::min(all.size(), at + kPurgeBatch));
    PurgeBatch(inos, &retry);
  }
  if (retry.empty()) return;
  std::lock_guard lock(purge_mu_);
  AppendToPurgeQueue(retry);
}

void Filesystem::AppendToPurgeQueue(const std::vector<store::Ino>& inos) {
  if (purge_queue_.empty()) purge_schedule_.Filled(PurgeSchedule::Clock::now());
  purge_queue_.insert(purge_queue_.end(), inos.begin(), inos.end());
}

void Filesystem::PurgeBatch(const std::vector<store::Ino>& inos, std::vector<store::Ino>* retry) {
  PrefetchForPurge(inos);
  Status st = Update([&](store::WriteTxn& t) -> Status {
    for (store::Ino ino : inos) KVFS_RETURN_IF_ERROR(PurgeTombstone(t, ino));
    return Status::Ok();
  });
  if (st.ok()) {
    spdlog::debug("purged the content of {} forgotten tombstones", inos.size());
    return;
  }
  if (st.code() == Code::kNoSpace) {
    // One at a time would fail the same way: all wait for the next round.
    spdlog::warn("purge of {} deleted inodes waits: {}", inos.size(), st.message());
    retry->insert(retry->end(), inos.begin(), inos.end());
    return;
  }
  // One at a time, so one bad inode does not keep the others' content forever.
  spdlog::warn("batch purge of {} deleted inodes failed: {}; purging one by one", inos.size(),
               st.message());
  for (store::Ino ino : inos) {
    if (!TryPurge(ino)) retry->push_back(ino);
  }
}

}  // namespace kvfs::fs
