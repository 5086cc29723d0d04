#pragma once
// FsyncHabit: which files are written and fsynced in turn (an append log, a
// database journal, the benchmark's 4 KiB write + fsync loop).
//
// Each write of such a file asks the store to start its redo-log record before the
// commit (store::LogEarly), so the disk's write and flush run while LMDB writes its
// pages and the reply goes back; the fsync(2) that follows waits only for what is
// left. Starting early costs a disk write per write, so only files whose last
// `kPairs` fsyncs each followed exactly one write are treated so, and only for their
// first write after an fsync. Writes are counted from a file's first fsync on, so a
// file that is never fsynced costs one lookup per write and no entry.

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace kvfs::fs {

class FsyncHabit {
 public:
  static constexpr uint32_t kPairs = 2;
  // More files than this tracked at once (never released): start again from none.
  static constexpr size_t kMaxFiles = 4096;

  // A write of `ino` is about to be committed: whether an fsync is expected next.
  bool Wrote(uint64_t ino);
  // An fsync of `ino`.
  void Fsynced(uint64_t ino);
  // `ino` was released: forget it.
  void Released(uint64_t ino);

 private:
  struct Rhythm {
    uint32_t writes_since_fsync = 0;
    uint32_t pairs = 0;  // fsyncs in a row that each followed exactly one write
  };
  Rhythm& Of(uint64_t ino);

  std::mutex mu_;
  std::unordered_map<uint64_t, Rhythm> files_;
};

}  // namespace kvfs::fs
