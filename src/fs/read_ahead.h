#pragma once
// ReadAhead: how far past a READ the daemon asks the kernel to bring a file's content
// into memory.
//
// A FUSE mount gets the kernel's read-ahead of 128 KiB at most, so a cold sequential
// read sends one 128 KiB READ after another, and each waits for the disk (the store's
// map does no read-ahead of its own: store/prefetch.h). A file read from start to end
// should keep the disk busy ahead of the reader instead, as a local file system's
// read-ahead does. So, per file, reads that go on where the last one ended grow a
// window (doubling up to `kMaxWindow`) of content to prefetch past them; a read
// elsewhere (random access) drops it. Only the part not asked for before is returned,
// so a long read does not ask for the same pages again and again.
//
// Reads may arrive slightly out of order (the kernel sends read-ahead READs
// asynchronously, and several threads serve them), so a read that starts within
// `kSlack` of where the stream is counts as going on. A bounded table of streams,
// indexed by inode number, keeps the memory fixed; two files that share a slot only
// lose their read-ahead while both are read.

#include <array>
#include <cstdint>
#include <mutex>

namespace kvfs::fs {

class ReadAhead {
 public:
  static constexpr uint64_t kFirstWindow = 512 * 1024;
  static constexpr uint64_t kMaxWindow = 8 * 1024 * 1024;
  static constexpr uint64_t kSlack = 1024 * 1024;
  static constexpr size_t kStreams = 64;

  struct Range {
    uint64_t from = 0;
    uint64_t to = 0;
    bool empty() const { return from >= to; }
  };

  // A READ of [offset, offset + size) of `ino` was served: the content past it to
  // prefetch now (empty when the reads do not look sequential or it was asked for).
  Range OnRead(uint64_t ino, uint64_t offset, uint64_t size);

 private:
  struct Stream {
    uint64_t ino = 0;       // 0: unused
    uint64_t next = 0;      // where the furthest read so far ended
    uint64_t window = 0;    // bytes past `next` worth having in memory
    uint64_t asked_to = 0;  // content up to here was already prefetched
  };

  std::mutex mu_;
  std::array<Stream, kStreams> streams_{};
};

}  // namespace kvfs::fs
