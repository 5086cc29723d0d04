#include "store/map_backing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>

#include "base/scoped_fd.h"
#include "store/lmdb.h"

namespace kvfs::store {

Status BackMap(const std::string& db_dir, size_t bytes) {
  const std::string path = db_dir + "/data.mdb";
  ScopedFd fd(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) return IoError("open " + path + " to reserve space for the store");
  // Blocks already allocated are left as they are, so backing the whole map again
  // costs a walk of the file's extents, not a write.
  // fallocate(2), not posix_fallocate: glibc's fallback for file systems without it
  // writes the blocks, which is slow and still says nothing about a later full disk.
  int rc = 0;
  while (fallocate(fd.get(), 0, 0, static_cast<off_t>(bytes)) != 0) {
    rc = errno;
    if (rc != EINTR) break;
    rc = 0;
  }
  if (rc == 0) return Status::Ok();
  if (rc == ENOSPC || rc == EDQUOT) {
    return Status(Code::kNoSpace, "the disk holding " + path + " is full: the store could not reserve " +
                                      std::to_string(bytes >> 20) +
                                      " MiB for its map; free disk space and retry");
  }
  if (rc == EOPNOTSUPP || rc == EINVAL) {
    return Status(Code::kNotSupported,
                  "the file system of " + path + " cannot allocate space ahead (fallocate)");
  }
  return IoError("reserve space for " + path, rc);
}

Status GrowBackedMap(MDB_env* env, const std::string& db_dir, size_t bytes) {
  Status backed = BackMap(db_dir, bytes);
  // A file system that cannot allocate ahead has no write-map process either (the
  // open falls back when it cannot back the map), so growing unbacked is safe there.
  if (!backed.ok() && backed.code() != Code::kNotSupported) return backed;
  return lmdb::FromRc(mdb_env_set_mapsize(env, bytes), "grow the store map");
}

uint64_t MaxBackedBytes(const std::string& db_dir) {
  const std::string path = db_dir + "/data.mdb";
  struct stat st {};
  struct statvfs vfs {};
  if (stat(path.c_str(), &st) != 0 || statvfs(db_dir.c_str(), &vfs) != 0) return 0;
  return static_cast<uint64_t>(st.st_blocks) * 512 +
         static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

}  // namespace kvfs::store
