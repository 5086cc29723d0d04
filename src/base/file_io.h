#pragma once
// Whole-buffer pread/pwrite (they may return short counts or EINTR), for files kvfs
// lays out itself (the redo log, the checkpoint).

#include <unistd.h>

#include <cerrno>
#include <cstddef>

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

}  // namespace kvfs
