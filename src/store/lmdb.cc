#include "store/lmdb.h"

#include <sys/statvfs.h>

#include <cstring>

namespace kvfs::store::lmdb {

Status FromRc(int rc, std::string_view what) {
  if (rc == MDB_SUCCESS) return Status::Ok();
  std::string msg = std::string(what) + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_NOTFOUND:
      return Status(Code::kNotFound, msg);
    case MDB_MAP_FULL:
    case ENOSPC:
      return Status(Code::kNoSpace, msg + "; free disk space and retry");
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
      return Status(Code::kCorruption,
                    msg + "; the store is damaged: restore it from a peer or a backup");
    case MDB_VERSION_MISMATCH:
      return Status(Code::kVersion, msg + "; this store was made by another LMDB version");
    case EACCES:
      return Status(Code::kAccess, msg + "; check the permissions of the store directory");
    case MDB_READERS_FULL:
      return Status(Code::kBusy, msg + "; too many processes have the store open");
    default:
      return Status(Code::kIo, msg);
  }
}

Status FromWriteRc(int rc, std::string_view what, const std::string& db_dir) {
  // Below this, a failed write is blamed on the full disk: a short write leaves
  // the filesystem full to within a block or two.
  constexpr uint64_t kFullDiskSlack = uint64_t{1} << 20;
  struct statvfs fs {};
  if (rc == EIO && statvfs(db_dir.c_str(), &fs) == 0 &&
      uint64_t{fs.f_bavail} * fs.f_frsize < kFullDiskSlack) {
    return Status(Code::kNoSpace, std::string(what) + ": the disk holding " + db_dir +
                                      " is full; free disk space and retry");
  }
  return FromRc(rc, what);
}

Cursor::Cursor(MDB_txn* txn, MDB_dbi dbi) {
  if (mdb_cursor_open(txn, dbi, &cur_) != MDB_SUCCESS) cur_ = nullptr;
}

bool Cursor::Op(MDB_cursor_op op) {
  rc_ = mdb_cursor_get(cur_, &k_, &v_, op);
  return rc_ == MDB_SUCCESS;
}

bool Cursor::Seek(std::string_view key) {
  k_ = Val(key);
  return Op(MDB_SET_RANGE);
}
bool Cursor::First() { return Op(MDB_FIRST); }
bool Cursor::Next() { return Op(MDB_NEXT); }
bool Cursor::Last() { return Op(MDB_LAST); }
bool Cursor::Prev() { return Op(MDB_PREV); }

}  // namespace kvfs::store::lmdb
