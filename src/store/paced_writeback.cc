#include "store/paced_writeback.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <thread>

namespace kvfs::store {
namespace {

// Waits while `hold()` says so. Returns whether it waited at all.
bool PauseWhileHeld(const PacedWriteback& pace, const std::function<bool()>& hold) {
  bool paused = false;
  while (hold && hold()) {
    paused = true;
    std::this_thread::sleep_for(pace.poll);
  }
  return paused;
}

}  // namespace

bool WriteBackPaced(int fd, const PacedWriteback& pace, const std::function<bool()>& hold) {
  const size_t slice = pace.slice_bytes > 0 ? pace.slice_bytes : PacedWriteback::kSliceBytes;
  for (int pass = 0; pass < pace.max_passes; ++pass) {
    struct stat st {};
    if (fstat(fd, &st) != 0) return false;
    if (!S_ISREG(st.st_mode)) {
      errno = EINVAL;
      return false;
    }
    bool paused = false;
    for (off_t at = 0; at < st.st_size; at += static_cast<off_t>(slice)) {
      paused |= PauseWhileHeld(pace, hold);
      // Waits for this slice's writes to finish, so that at most one slice is ever
      // queued ahead of an fsync's write; no flush of the disk's cache.
      if (sync_file_range(fd, at, static_cast<off_t>(slice),
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                              SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
        return false;
      }
    }
    // Without a pause the commits in between dirtied few pages: the fdatasync takes them.
    if (!paused) break;
  }
  return true;
}

}  // namespace kvfs::store
