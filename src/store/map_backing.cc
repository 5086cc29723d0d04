#include "store/map_backing.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/scoped_fd.h"

namespace kvfs::store {

bool OverwritesInPlace(const std::string& path) {
  struct statfs st {};
  if (statfs(path.c_str(), &st) != 0) return false;
  constexpr long kXfsMagic = 0x58465342;  // not in every linux/magic.h
  switch (static_cast<long>(st.f_type)) {
    case EXT4_SUPER_MAGIC:  // also ext2 and ext3: they share the magic
    case TMPFS_MAGIC:
    case kXfsMagic:
      return true;
    default:
      return false;
  }
}

Status AllocateFile(const std::string& path, uint64_t size) {
  ScopedFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    return Status(Code::kIo, "cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    return Status(Code::kIo, "cannot stat " + path + ": " + std::strerror(errno));
  }
  const off_t old_size = st.st_size;
  int rc;
  do {
    rc = fallocate(fd.get(), 0, 0, static_cast<off_t>(size));
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return Status::Ok();
  const int err = errno;
  // A failed fallocate may keep what it allocated and the size it reached. Truncating
  // to the old size gives both back (ext4 and XFS free blocks past the end on any
  // truncate), so a full disk is not made fuller by the attempt.
  if (ftruncate(fd.get(), old_size) != 0) {
    return Status(Code::kIo, "cannot restore the size of " + path + ": " + std::strerror(errno));
  }
  if (err == ENOSPC || err == EDQUOT) {
    return Status(Code::kNoSpace, "the disk holding " + path + " has no room for " +
                                      std::to_string(size >> 20) +
                                      " MiB; free disk space and retry");
  }
  return Status(Code::kIo, "cannot allocate " + path + ": " + std::strerror(err));
}

}  // namespace kvfs::store
