#include "store/store.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <mutex>

#include "base/bytes.h"
#include "store/keys.h"
#include "store/paced_writeback.h"
#include "store/record_codec.h"
#include "store/txn_changes.h"

namespace kvfs::store {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxAttempts = 64;
constexpr size_t kGrowStepCap = size_t{4} << 30;

uint64_t RandomNodeId() {
  uint64_t id = 0;
  while (id == 0 || id == kRootObject.node) {
    if (getrandom(&id, sizeof id, 0) != sizeof id) id = 0;
  }
  return id;
}

Status OpenTables(MDB_txn* txn, bool create, Tables* t) {
  const unsigned flags = create ? MDB_CREATE : 0;
  struct {
    const char* name;
    MDB_dbi* dbi;
  } all[] = {{keys::kMetaTable, &t->meta},       {keys::kInodesTable, &t->inodes},
             {keys::kDirentsTable, &t->dirents}, {keys::kChunksTable, &t->chunks},
             {keys::kXattrsTable, &t->xattrs},   {keys::kFeedTable, &t->feed},
             {keys::kObjectsTable, &t->objects}, {keys::kSyncTable, &t->sync}};
  for (auto& table : all) {
    int rc = mdb_dbi_open(txn, table.name, flags, table.dbi);
    if (rc == MDB_NOTFOUND) {
      return Status(Code::kCorruption, std::string("the store has no '") + table.name +
                                           "' table; it is damaged or not a kvfs store");
    }
    KVFS_RETURN_IF_ERROR(lmdb::FromRc(rc, std::string("open table ") + table.name));
  }
  return Status::Ok();
}

Status PutMeta(MDB_txn* txn, MDB_dbi meta, std::string_view name, std::string_view value) {
  MDB_val k = lmdb::Val(name), v = lmdb::Val(value);
  return lmdb::FromRc(mdb_put(txn, meta, &k, &v, 0), "write store metadata");
}

}  // namespace

std::string StoreDbDir(const std::string& store_dir) { return store_dir + "/db"; }

Store::Store(std::string dir, StoreOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {}

Store::~Store() {
  pin_.Abort();  // before the environment it belongs to
  if (env_) mdb_env_close(env_);
}

Status Store::OpenEnv(bool create) {
  int rc = mdb_env_create(&env_);
  if (rc != MDB_SUCCESS) return lmdb::FromRc(rc, "create LMDB environment");
  mdb_env_set_maxdbs(env_, lmdb::kMaxTables);
  mdb_env_set_mapsize(env_, options_.initial_map_size);
  // MDB_NORDAHEAD: B-tree pages are read at random, and the kernel's read-around made
  // each cold fault read its whole window (8 MiB on some disks): a purge of a deleted
  // 1 GiB file read all of it back. Content reads prefetch by hand (prefetch.h).
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
  if (options_.no_sync) flags |= MDB_NOSYNC;
  if (options_.read_only && !create) flags |= MDB_RDONLY;
  rc = mdb_env_open(env_, StoreDbDir(dir_).c_str(), flags, 0600);
  if (rc != MDB_SUCCESS) {
    return lmdb::FromRc(rc, "open the store database in " + StoreDbDir(dir_));
  }
  int dead = 0;
  mdb_reader_check(env_, &dead);  // clears reader slots of crashed processes
  return Status::Ok();
}

Status Store::Create(const std::string& dir, const StoreOptions& options) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      return Status(Code::kExists, dir + " exists and is not a directory; choose another path");
    }
    if (fs::exists(StoreDbDir(dir) + "/data.mdb", ec)) {
      return Status(Code::kExists, "a kvfs store already exists at " + dir);
    }
    if (!fs::is_empty(dir, ec)) {
      return Status(Code::kExists, dir + " is not empty; give an empty or new directory");
    }
  } else if (!fs::create_directories(dir, ec) || ec) {
    return Status(Code::kIo, "cannot create " + dir + ": " + ec.message());
  }
  if (chmod(dir.c_str(), 0700) != 0 || mkdir(StoreDbDir(dir).c_str(), 0700) != 0) {
    return IoError("cannot prepare " + dir);
  }
  Store store(dir, options);
  store.options_.read_only = false;
  KVFS_RETURN_IF_ERROR(store.OpenEnv(true));

  lmdb::Txn txn;
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(store.BeginTxn(0, &txn), "begin transaction"));
  KVFS_RETURN_IF_ERROR(OpenTables(txn.get(), true, &store.tables_));
  const Tables& t = store.tables_;
  ByteWriter format;
  format.U32(kStoreFormat);
  KVFS_RETURN_IF_ERROR(PutMeta(txn.get(), t.meta, keys::kMetaFormat, format.str()));
  KVFS_RETURN_IF_ERROR(
      PutMeta(txn.get(), t.meta, keys::kMetaNodeId, keys::U64Key(RandomNodeId())));
  KVFS_RETURN_IF_ERROR(PutMeta(txn.get(), t.meta, keys::kMetaNextIno, keys::U64Key(2)));
  KVFS_RETURN_IF_ERROR(PutMeta(txn.get(), t.meta, keys::kMetaNextSeq, keys::U64Key(1)));

  // The root is the same object on every node, with a zero stamp so any change wins.
  Inode root;
  root.ino = kRootIno;
  root.oid = kRootObject;
  root.type = FileType::kDirectory;
  root.mode = 0755;
  root.uid = getuid();
  root.gid = getgid();
  root.nlink = 2;
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  root.atime = root.mtime = root.ctime = Timespec{now.tv_sec, now.tv_nsec};
  std::string root_key = keys::InodeKey(kRootIno), root_rec = EncodeInode(root);
  MDB_val k = lmdb::Val(root_key), v = lmdb::Val(root_rec);
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(mdb_put(txn.get(), t.inodes, &k, &v, 0), "write root"));
  std::string oid_key = keys::ObjectKey(kRootObject);
  k = lmdb::Val(oid_key);
  v = lmdb::Val(root_key);
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(mdb_put(txn.get(), t.objects, &k, &v, 0), "write root"));
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(txn.Commit(), "commit new store"));
  return lmdb::FromRc(mdb_env_sync(store.env_, 1), "sync new store");
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir, const StoreOptions& options) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return Status(Code::kNotFound,
                  "no kvfs store at " + dir + "; create one with: kvfs init " + dir);
  }
  if (!fs::is_directory(dir, ec)) {
    return Status(Code::kNotDir, dir + " is not a directory, so it is not a kvfs store");
  }
  if (!fs::exists(StoreDbDir(dir) + "/data.mdb", ec)) {
    return Status(Code::kNotFound, dir + " is not a kvfs store (it has no db/data.mdb); "
                                         "create one with: kvfs init DIR");
  }
  const std::string boot_id = options.boot_id.empty() ? CurrentBootId() : options.boot_id;
  if (options.read_only &&
      (RedoLogAwaitsReplay(StoreDbDir(dir)) || CheckpointOfAnotherBoot(StoreDbDir(dir), boot_id))) {
    ReplayBeforeReadOnlyOpen(dir, options);
  }
  if (!options.read_only) KVFS_RETURN_IF_ERROR(RestoreIfRebooted(dir, boot_id));
  std::unique_ptr<Store> store(new Store(dir, options));
  store->boot_id_ = boot_id;
  KVFS_ASSIGN_OR_RETURN(store->open_lock_, StoreOpenLock::Shared(dir));
  KVFS_RETURN_IF_ERROR(store->OpenEnv(false));
  KVFS_RETURN_IF_ERROR(store->LoadMeta());
  if (!options.read_only) {
    KVFS_ASSIGN_OR_RETURN(store->checkpoints_,
                          CheckpointFile::Open(StoreDbDir(dir), /*pin_holder=*/options.no_sync));
    KVFS_RETURN_IF_ERROR(store->OpenRedoLog());
    // A no-sync store starts from a flush, which records its first checkpoint; the
    // log counts from it too.
    KVFS_RETURN_IF_ERROR(store->SettleCheckpoint());
  }
  return store;
}

Status Store::RestoreIfRebooted(const std::string& dir, const std::string& boot_id) {
  const std::string lock_path = StoreOpenLockPath(dir);
  ScopedFd lock(open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  // Someone has the store open: they opened it after the reboot, and restored then.
  if (lock.get() < 0 || flock(lock.get(), LOCK_EX | LOCK_NB) != 0) return Status::Ok();
  auto restored = RestoreCheckpointAfterReboot(StoreDbDir(dir), boot_id);
  if (!restored.ok()) {
    return Status(restored.status().code(),
                  "cannot set the store back to its last flush after the machine stopped: " +
                      restored.status().message() + "; check the disk, then open the store again");
  }
  return Status::Ok();
}

Status Store::SettleCheckpoint() { return options_.no_sync ? Sync() : FlushAndClearUnlessPinned(); }

Status Store::FlushAndClearUnlessPinned() {
  if (!checkpoints_ || !checkpoints_->Current() || checkpoints_->Pinned()) return Status::Ok();
  // Nobody pins: a commit may reuse the checkpoint's pages, so it must go, and the
  // store be flushed first (a process that pinned may have died with commits unflushed).
  KVFS_RETURN_IF_ERROR(
      lmdb::FromWriteRc(mdb_env_sync(env_, 1), "sync the store to disk", StoreDbDir(dir_)));
  return checkpoints_->Clear();
}

void Store::ReplayBeforeReadOnlyOpen(const std::string& dir, const StoreOptions& options) {
  // Without the replay a read-only open would show the store as it was before
  // transactions that fsync(2) already reported durable. A writable open redoes them
  // (and, not being no_sync, makes no log of its own).
  StoreOptions writable = options;
  writable.read_only = false;
  writable.no_sync = false;
  auto replayed = Open(dir, writable);
  if (!replayed.ok()) {
    spdlog::warn("{}: its redo log holds transactions that were made durable but a read-only"
                 " open cannot redo, and a writable open failed ({}); until the store is opened"
                 " writable once (kvfs mount without -o ro, or any kvfs write command), the last"
                 " fsynced changes do not show",
                 dir, replayed.status().message());
  }
}

Status Store::LoadMeta() {
  lmdb::Txn txn;
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(BeginTxn(MDB_RDONLY, &txn), "begin transaction"));
  KVFS_RETURN_IF_ERROR(OpenTables(txn.get(), false, &tables_));
  ReadTxn r(txn.get(), tables_);
  KVFS_ASSIGN_OR_RETURN(auto format, r.GetMeta(keys::kMetaFormat));
  KVFS_ASSIGN_OR_RETURN(auto node, r.GetMeta(keys::kMetaNodeId));
  uint32_t version = 0;
  // The reader views these bytes, so they must outlive it (not a value_or temporary).
  const std::string format_bytes = format.value_or("");
  ByteReader fr(format_bytes);
  if (!format || !fr.U32(&version) || !node || node->size() != 8) {
    return Status(Code::kCorruption, dir_ + " has no valid store metadata; it is damaged");
  }
  if (version > kStoreFormat) {
    return Status(Code::kVersion, dir_ + " has store format " + std::to_string(version) +
                                      " but this kvfs reads format " +
                                      std::to_string(kStoreFormat) + "; upgrade kvfs");
  }
  node_id_ = keys::DecodeU64(*node);
  return lmdb::FromRc(txn.Commit(), "finish reading metadata");
}

Status Store::OpenRedoLog() {
  const std::string db_dir = StoreDbDir(dir_);
  const bool keeps_log = options_.no_sync && options_.redo_log_half_bytes > 0;
  // A mount after a crash of the last one: its daemon may not have let go of the
  // log yet, and the replay would then take it for live and skip it.
  const bool log_free = !keeps_log || WaitForRedoLogLock(db_dir);
  // Before the log is marked empty, the checkpoint must move past what it redid: a
  // later restore to the old one would lose those transactions.
  auto replay = ReplayRedoLog(env_, tables_, db_dir, [this] { return SettleCheckpoint(); });
  if (!replay.ok()) {
    return Status(replay.status().code(),
                  "cannot redo the transactions logged before the store last stopped: " +
                      replay.status().message() + "; check the disk, then open the store again");
  }
  if (replay->replayed > 0) {
    spdlog::warn("{}: redid {} transaction(s) from the redo log that the last stop lost",
                 dir_, replay->replayed);
  }
  if (!replay->problem.empty()) {
    spdlog::error("{}: the redo log could not be replayed in full ({}); it is kept as {}.unreplayed,"
                  " and the store stays as it was; run: kvfs check {}",
                  dir_, replay->problem, RedoLogPath(db_dir), dir_);
  }
  if (!keeps_log) return Status::Ok();
  // A live holder (another mount of this store): fsync flushes the store instead.
  if (log_free) {
    KVFS_ASSIGN_OR_RETURN(redo_, RedoLog::Open(db_dir, options_.redo_log_half_bytes));
  }
  return Status::Ok();
}

int Store::BeginTxn(unsigned flags, lmdb::Txn* out) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, flags, &txn);
  if (rc == MDB_SUCCESS) *out = lmdb::Txn(txn);
  return rc;
}

Status Store::View(const std::function<Status(ReadTxn&)>& fn) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    std::shared_lock lock(resize_mu_);
    lmdb::Txn txn;
    int rc = BeginTxn(MDB_RDONLY, &txn);
    if (rc == MDB_MAP_RESIZED) {
      lock.unlock();
      KVFS_RETURN_IF_ERROR(AdoptForeignResize());
      continue;
    }
    KVFS_RETURN_IF_ERROR(lmdb::FromRc(rc, "begin read transaction"));
    ReadTxn r(txn.get(), tables_);
    return fn(r);
  }
  return Status(Code::kBusy, "the store kept being resized; retry");
}

Status Store::Update(const std::function<Status(WriteTxn&)>& fn, LogEarly early) {
  if (options_.read_only) {
    return Status(Code::kAccess, "the store is open read-only; remount without 'ro' to change it");
  }
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    std::shared_lock lock(resize_mu_);
    lmdb::Txn txn;
    int rc = BeginTxn(0, &txn);
    if (rc == MDB_MAP_RESIZED) {
      lock.unlock();
      KVFS_RETURN_IF_ERROR(AdoptForeignResize());
      continue;
    }
    KVFS_RETURN_IF_ERROR(lmdb::FromRc(rc, "begin write transaction"));
    WriteTxn w(txn.get(), tables_, node_id_, options_.clock_ms);
    TxnChanges changes(tables_);
    if (redo_ && redo_->recording()) w.RecordChangesInto(&changes);
    Status st = fn(w);
    if (st.ok()) st = w.Finish();
    if (!w.map_full()) {
      if (!st.ok()) return st;
      if (!options_.no_sync) KVFS_RETURN_IF_ERROR(FlushAndClearUnlessPinned());
      const uint64_t txnid = mdb_txn_id(txn.get());
      const bool started_early = early == LogEarly::kYes && redo_ && !changes.empty() &&
                                 redo_->StartEarly(txnid, changes.bytes());
      {
        std::lock_guard handing_over(commit_mu_);
        rc = options_.commit_fault ? options_.commit_fault() : MDB_SUCCESS;
        rc = rc == MDB_SUCCESS ? txn.Commit() : rc;
        if (rc == MDB_SUCCESS && redo_ && !changes.empty()) {
          redo_->Committed(txnid, changes.Take());
        }
      }
      if (rc != MDB_SUCCESS && started_early) redo_->Abandoned(txnid);
      if (rc == MDB_SUCCESS && !options_.no_sync) {
        lock.unlock();
        AfterFlushedCommit();
      }
      if (rc != MDB_MAP_FULL) return lmdb::FromWriteRc(rc, "commit", StoreDbDir(dir_));
    }
    txn.Abort();
    lock.unlock();
    KVFS_RETURN_IF_ERROR(Grow());
  }
  return Status(Code::kNoSpace, "the store could not grow enough for this change");
}

Status Store::Grow() {
  std::unique_lock lock(resize_mu_);
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  const size_t old_size = info.me_mapsize;
  const size_t step = std::min(old_size, kGrowStepCap);
  int rc = mdb_env_set_mapsize(env_, old_size + step);
  if (rc != MDB_SUCCESS) {
    return Status(Code::kNoSpace, "cannot grow the store map past " + std::to_string(old_size) +
                                      " bytes: " + mdb_strerror(rc));
  }
  return Status::Ok();
}

Status Store::AdoptForeignResize() {
  std::unique_lock lock(resize_mu_);
  return lmdb::FromRc(mdb_env_set_mapsize(env_, 0), "adopt the new map size");
}

Status Store::Sync(const std::function<bool()>& hold) {
  // Before any lock: a paused writeback must not hold up a resize or another flush.
  int fd = -1;
  if (hold && mdb_env_get_fd(env_, &fd) == MDB_SUCCESS &&
      !WriteBackPaced(fd, PacedWriteback{}, hold)) {
    spdlog::debug("{}: paced writeback refused ({}); the flush writes everything at once",
                  StoreDbDir(dir_), std::strerror(errno));
  }
  std::lock_guard one_at_a_time(sync_mu_);
  std::shared_lock lock(resize_mu_);
  uint64_t last = LastTxnId();
  Checkpoint checkpoint;
  lmdb::Txn pin;
  bool pinned = false;
  if (options_.no_sync && checkpoints_) {
    KVFS_ASSIGN_OR_RETURN(pinned, TakeCheckpoint(&checkpoint, &pin));
    // The log must keep what came after the checkpoint: a restore starts from it.
    if (pinned) last = checkpoint.txnid;
  }
  KVFS_RETURN_IF_ERROR(
      lmdb::FromWriteRc(mdb_env_sync(env_, 1), "sync the store to disk", StoreDbDir(dir_)));
  if (pinned) {
    KVFS_ASSIGN_OR_RETURN(pinned, RecordCheckpoint(checkpoint));
  }
  if (pinned) {
    pin_ = std::move(pin);  // only now: until the record is durable the old one counts
  } else if (options_.no_sync && checkpoints_) {
    return Status::Ok();  // no new checkpoint: the log keeps everything after the old one
  }
  if (redo_) redo_->Flushed(last);
  return Status::Ok();
}

Result<Checkpoint> Store::LastCommitCheckpoint(const lmdb::Txn& write_lock) const {
  Checkpoint cp;
  cp.txnid = mdb_txn_id(write_lock.get()) - 1;  // a write txn's id is the last one's + 1
  cp.boot_id = boot_id_;
  KVFS_ASSIGN_OR_RETURN(cp.meta_pages, ReadMetaPages(env_));
  return cp;
}

Result<bool> Store::TakeCheckpoint(Checkpoint* cp, lmdb::Txn* pin) {
  lmdb::Txn write_lock;
  int rc = BeginTxn(0, &write_lock);
  if (rc == MDB_MAP_RESIZED) return false;
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(rc, "lock the store for a checkpoint"));
  KVFS_ASSIGN_OR_RETURN(*cp, LastCommitCheckpoint(write_lock));
  rc = BeginTxn(MDB_RDONLY, pin);  // no commit can come between: it sees cp->txnid
  if (rc == MDB_MAP_RESIZED) return false;
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(rc, "pin the checkpoint"));
  return true;
}

Result<bool> Store::RecordCheckpoint(const Checkpoint& cp) {
  // Inside a write transaction, so that a later checkpoint that a flushing process
  // recorded meanwhile (AfterFlushedCommit) is seen by Record and kept.
  lmdb::Txn write_lock;
  const int rc = BeginTxn(0, &write_lock);
  if (rc == MDB_MAP_RESIZED) return false;  // the resize_mu_ we hold keeps us from adopting it
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(rc, "lock the store for a checkpoint"));
  KVFS_RETURN_IF_ERROR(checkpoints_->Record(cp));
  return true;
}

void Store::AfterFlushedCommit() {
  if (!checkpoints_ || !checkpoints_->Current() || !checkpoints_->Pinned()) return;
  Status st = [&]() -> Status {
    std::shared_lock lock(resize_mu_);
    lmdb::Txn write_lock;
    KVFS_RETURN_IF_ERROR(lmdb::FromRc(BeginTxn(0, &write_lock), "lock the store"));
    KVFS_ASSIGN_OR_RETURN(Checkpoint cp, LastCommitCheckpoint(write_lock));
    // Our commit is durable; a no-sync commit after it may not be.
    KVFS_RETURN_IF_ERROR(
        lmdb::FromWriteRc(mdb_env_sync(env_, 1), "sync the store to disk", StoreDbDir(dir_)));
    return checkpoints_->Record(cp);
  }();
  if (!st.ok()) {
    spdlog::warn(
        "{}: the change is committed and flushed, but recording the checkpoint "
        "failed ({}); a power cut before the mount daemon's next flush would set it "
        "back",
        dir_, st.message());
  }
}

Status Store::MakeDurable() {
  if (redo_) {
    uint64_t last = 0;
    {
      std::shared_lock lock(resize_mu_);  // the meta pages move when the map is resized
      std::lock_guard no_commit_half_done(commit_mu_);
      last = LastTxnId();
    }
    if (redo_->Persist(last)) return Status::Ok();
  }
  return Sync();
}

uint64_t Store::LastTxnId() const {
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_last_txnid;
}

size_t Store::map_size() const {
  std::shared_lock lock(resize_mu_);  // mdb_env_info reads the meta pages in the map
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

}  // namespace kvfs::store
