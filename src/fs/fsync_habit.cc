#include "fs/fsync_habit.h"

#include <algorithm>

namespace kvfs::fs {

FsyncHabit::Rhythm& FsyncHabit::Of(uint64_t ino) {
  if (files_.size() >= kMaxFiles && !files_.contains(ino)) files_.clear();
  return files_[ino];
}

bool FsyncHabit::Wrote(uint64_t ino) {
  std::lock_guard lock(mu_);
  // Most files are never fsynced: they take no entry (one lookup per write).
  auto it = files_.find(ino);
  if (it == files_.end()) return false;
  Rhythm& r = it->second;
  ++r.writes_since_fsync;
  return r.pairs >= kPairs && r.writes_since_fsync == 1;
}

void FsyncHabit::Fsynced(uint64_t ino) {
  std::lock_guard lock(mu_);
  // A file's first fsync only starts counting: its writes before it were not counted.
  Rhythm& r = Of(ino);
  r.pairs = r.writes_since_fsync == 1 ? std::min(r.pairs + 1, kPairs) : 0;
  r.writes_since_fsync = 0;
}

void FsyncHabit::Released(uint64_t ino) {
  std::lock_guard lock(mu_);
  files_.erase(ino);
}

}  // namespace kvfs::fs
