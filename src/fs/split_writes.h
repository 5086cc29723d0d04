#pragma once
// SplitWrites: which files may be in the middle of one write(2) that the kernel cut
// into several WRITE requests.
//
// Without the writeback cache the kernel sends a write(2) as one WRITE request per
// batch of page-cache pages: a write that starts inside a page is cut at the end of
// that page, and a write larger than max_write at every max_write bytes. Each WRITE
// is its own store transaction, so between two pieces the store holds a state no
// process ever wrote. A peer must not be sent that state: if it became the losing
// side of a conflict, its torn bytes would stay forever as a conflict copy.
//
// Every cut falls on a page boundary, so a WRITE that ends inside a page is the last
// piece of its write(2). The sync sender holds back a file whose last WRITE ended on
// a page boundary (it may go on) until the next WRITE ends inside a page, the file is
// released, or `settle` passes after that piece was committed (a slow commit on a
// loaded machine must not eat the wait for the next piece); a file kept busy by page-aligned writes (cp of a big
// file) is held at most `max_hold` in a row, so it still syncs while it is written.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace kvfs::fs {

class SplitWrites {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::chrono::milliseconds settle{50};
    std::chrono::milliseconds max_hold{1000};
    std::function<Clock::time_point()> now = Clock::now;  // injected by tests
  };

  SplitWrites() : SplitWrites(Options{}) {}
  explicit SplitWrites(Options options) : options_(std::move(options)) {}

  // Before a WRITE of [offset, offset + size) is committed: holds the file back if
  // this piece may be followed by another.
  void BeforeWrite(uint64_t ino, uint64_t offset, uint64_t size);
  // After it was committed (or failed): lets the file go if this was the last piece.
  void AfterWrite(uint64_t ino, uint64_t offset, uint64_t size);
  // The file was released: no write of it is under way.
  void Released(uint64_t ino);
  // Whether the sync sender should wait before sending the file's state.
  bool Held(uint64_t ino);

 private:
  struct Hold {
    Clock::time_point since;  // first piece of this run of held writes
    Clock::time_point until;  // settle deadline of the last piece
  };
  static bool EndsOnPage(uint64_t offset, uint64_t size);

  const Options options_;
  std::mutex mu_;
  std::unordered_map<uint64_t, Hold> holds_;
};

}  // namespace kvfs::fs
