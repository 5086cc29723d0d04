#pragma once
// Whole-buffer pread/pwrite (they may return short counts or EINTR) and a directory
// fsync, for files kvfs lays out itself (the redo log, the checkpoint).

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string>

#include "base/scoped_fd.h"

namespace kvfs {

// Reads exactly `n` bytes at `at`; false on an error or end of file (errno set on error).
inline bool PreadAll(int fd, char* buf, size_t n, off_t at) {
  while (n > 0) {
    ssize_t got = pread(fd, buf, n, at);
    if (got <= 0) {
      if (got < 0 && errno == EINTR) continue;
      return false;
    }
    buf += got;
    n -= static_cast<size_t>(got);
    at += got;
  }
  return true;
}

// Writes exactly `n` bytes at `at`; false on an error (errno set).
inline bool PwriteAll(int fd, const char* buf, size_t n, off_t at) {
  while (n > 0) {
    ssize_t put = pwrite(fd, buf, n, at);
    if (put <= 0) {
      if (put < 0 && errno == EINTR) continue;
      return false;
    }
    buf += put;
    n -= static_cast<size_t>(put);
    at += put;
  }
  return true;
}

// Makes a rename or unlink in `dir` durable.
inline bool FsyncDir(const std::string& dir) {
  ScopedFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd.get() >= 0 && fsync(fd.get()) == 0;
}

}  // namespace kvfs
