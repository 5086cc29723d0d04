#include "store/compact.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/scoped_fd.h"
#include "store/checkpoint.h"
#include "store/lmdb.h"
#include "store/redo_log.h"
#include "store/store.h"

namespace kvfs::store {
namespace {

// A read-only LMDB environment on db/, closed on every path out.
class ReadOnlyEnv {
 public:
  ReadOnlyEnv() = default;
  ~ReadOnlyEnv() { Close(); }
  ReadOnlyEnv(const ReadOnlyEnv&) = delete;
  ReadOnlyEnv& operator=(const ReadOnlyEnv&) = delete;
  Status Open(const std::string& db_dir) {
    int rc = mdb_env_create(&env_);
    if (rc == MDB_SUCCESS) rc = mdb_env_set_maxdbs(env_, lmdb::kMaxTables);
    if (rc == MDB_SUCCESS) rc = mdb_env_open(env_, db_dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0600);
    return lmdb::FromRc(rc, "open " + db_dir + " to compact it");
  }
  void Close() {
    if (env_) mdb_env_close(env_);
    env_ = nullptr;
  }
  MDB_env* get() const { return env_; }

 private:
  MDB_env* env_ = nullptr;
};

// Pages on LMDB's free list: the sum of the page counts heading each record of the
// free-list table (dbi 0), as mdb_stat -f reports them.
Result<uint64_t> FreeListPages(MDB_env* env) {
  MDB_txn* raw = nullptr;
  KVFS_RETURN_IF_ERROR(
      lmdb::FromRc(mdb_txn_begin(env, nullptr, MDB_RDONLY, &raw), "read the free list"));
  lmdb::Txn txn(raw);
  lmdb::Cursor cursor(txn.get(), 0);
  if (!cursor.ok()) return Status(Code::kIo, "cannot open a cursor on the free list");
  uint64_t pages = 0;
  for (bool more = cursor.Last(); more; more = cursor.Prev()) {
    size_t count = 0;  // an MDB_ID
    if (cursor.value().size() < sizeof count) {
      return Status(Code::kCorruption, "a free-list record is truncated; the store is damaged");
    }
    std::memcpy(&count, cursor.value().data(), sizeof count);
    pages += count;
  }
  return pages;
}

Status SyncDir(const std::string& dir) {
  ScopedFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || fsync(fd.get()) != 0) return IoError("sync " + dir);
  return Status::Ok();
}

// Writes the compacted copy next to data.mdb, makes it durable, then renames it over
// data.mdb: a crash leaves either the old file or the whole new one.
Status CopyAndSwap(ReadOnlyEnv& env, const std::string& db_dir) {
  const std::string data = db_dir + "/data.mdb";
  const std::string tmp = db_dir + "/data.mdb.compact";
  unlink(tmp.c_str());  // left by a crash during an earlier compaction
  ScopedFd out(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return IoError("create " + tmp);
  Status st = lmdb::FromRc(mdb_env_copyfd2(env.get(), out.get(), MDB_CP_COMPACT),
                           "write the compacted copy " + tmp);
  if (st.ok() && fsync(out.get()) != 0) st = IoError("sync " + tmp);
  if (st.ok() && out.Close() != 0) st = IoError("close " + tmp);
  if (!st.ok()) {
    unlink(tmp.c_str());
    return st;
  }
  env.Close();
  if (rename(tmp.c_str(), data.c_str()) != 0) {
    Status failed = IoError("replace " + data + " with its compacted copy");
    unlink(tmp.c_str());
    return failed;
  }
  // Nobody has the environment open (we hold the lock exclusively); LMDB rebuilds
  // its lock file from the new data file at the next open.
  unlink((db_dir + "/lock.mdb").c_str());
  return SyncDir(db_dir);
}

Result<uint64_t> FileSize(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return IoError("stat " + path);
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace

std::string StoreOpenLockPath(const std::string& store_dir) {
  return StoreDbDir(store_dir) + "/open.lock";
}

bool StoreOpenByNoOne(const std::string& store_dir) {
  ScopedFd lock(open(StoreOpenLockPath(store_dir).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  // Closing the fd drops the probe's lock.
  return lock.get() >= 0 && flock(lock.get(), LOCK_EX | LOCK_NB) == 0;
}

Result<CompactReport> CompactIfWasteful(const std::string& store_dir,
                                        const CompactPolicy& policy) {
  const std::string db_dir = StoreDbDir(store_dir);
  const std::string lock_path = StoreOpenLockPath(store_dir);
  ScopedFd lock(open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0) return IoError("open " + lock_path);
  CompactReport report;
  if (flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return IoError("lock " + lock_path);
    report.skipped = "another kvfs process has the store open";
    return report;
  }
  report.store_was_free = true;

  if (RedoLogHasRecords(db_dir)) {
    // A compacted copy numbers its transactions from 1; the log names them by number.
    report.skipped = "the redo log holds transactions that the next open of the store redoes";
    return report;
  }
  if (CheckpointOfAnotherBoot(db_dir, CurrentBootId())) {
    // The newest meta page may name pages that never reached the disk (checkpoint.h).
    report.skipped = "the machine stopped before the store was flushed; the next open restores it";
    return report;
  }
  ReadOnlyEnv env;
  KVFS_RETURN_IF_ERROR(env.Open(db_dir));
  MDB_envinfo info{};
  MDB_stat stat{};
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(mdb_env_info(env.get(), &info), "read the store's size"));
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(mdb_env_stat(env.get(), &stat), "read the store's size"));
  KVFS_ASSIGN_OR_RETURN(report.file_bytes_before, FileSize(db_dir + "/data.mdb"));
  KVFS_ASSIGN_OR_RETURN(uint64_t listed, FreeListPages(env.get()));
  const uint64_t page = stat.ms_psize;
  const uint64_t used_pages = static_cast<uint64_t>(info.me_last_pgno) + 1;
  const uint64_t file_pages = report.file_bytes_before / page;
  // Free: the listed pages, and any pages of the file past the last one used.
  const uint64_t free_pages = listed + (file_pages > used_pages ? file_pages - used_pages : 0);
  report.free_bytes = std::min(free_pages * page, report.file_bytes_before);
  const uint64_t live = report.file_bytes_before - report.free_bytes;

  if (report.free_bytes < policy.min_free_bytes ||
      static_cast<double>(report.free_bytes) <
          policy.min_free_fraction * static_cast<double>(report.file_bytes_before)) {
    report.skipped = "little of the file is free";
  } else if (live > policy.max_live_bytes) {
    report.skipped = "too much live data to copy while mounting";
  }
  if (!report.skipped.empty()) {
    report.file_bytes_after = report.file_bytes_before;
    return report;
  }
  KVFS_RETURN_IF_ERROR(CopyAndSwap(env, db_dir));
  // The copy numbers its transactions anew and has other meta pages.
  KVFS_ASSIGN_OR_RETURN(CheckpointFile checkpoints, CheckpointFile::Open(db_dir, false));
  KVFS_RETURN_IF_ERROR(checkpoints.Clear());
  KVFS_ASSIGN_OR_RETURN(report.file_bytes_after, FileSize(db_dir + "/data.mdb"));
  report.compacted = true;
  return report;
}

Result<StoreOpenLock> StoreOpenLock::Shared(const std::string& store_dir) {
  const std::string path = StoreOpenLockPath(store_dir);
  ScopedFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) fd = ScopedFd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return StoreOpenLock();  // a read-only disk: nothing can compact it either
  while (flock(fd.get(), LOCK_SH) != 0) {
    if (errno != EINTR) return IoError("lock " + path);
  }
  return StoreOpenLock(std::move(fd));
}

}  // namespace kvfs::store
