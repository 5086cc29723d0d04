#pragma once
// Writing back a file's dirty pages a slice at a time, pausing while asked to.
//
// The store's periodic flush (Store::Sync, mdb_env_sync) writes back every page the
// commits since the last flush dirtied: on a store with many free pages that is
// ~100 MB after a thousand small commits, 200-450 ms of writes on the dev VM. An
// application's fsync that comes meanwhile waits behind all of it, since its redo-log
// record and the disk-cache flush queue after that writeback (one fsync took 246 ms
// right after the open-write-close benchmark). Written back in slices first
// (sync_file_range(2): no disk-cache flush, ~1-7 ms per 4-16 MiB slice here), such an
// fsync waits for one slice at most, and between slices the flush can step aside
// altogether while `hold` says so (fsyncs are coming), so they run at full speed. The
// final fdatasync then has little left to write.

#include <chrono>
#include <cstddef>
#include <functional>

namespace kvfs::store {

struct PacedWriteback {
  static constexpr size_t kSliceBytes = size_t{8} << 20;
  size_t slice_bytes = kSliceBytes;  // 0 means kSliceBytes
  // How often a paused writeback asks `hold` again.
  std::chrono::milliseconds poll{5};
  // Passes over the file at most: a pause lets commits dirty pages that an earlier
  // slice already wrote back, and the next pass takes those; the final fdatasync
  // takes whatever is left after the last.
  int max_passes = 3;
};

// Writes back the dirty pages of `fd` (a regular file) slice by slice, pausing
// before a slice for as long as `hold()` returns true. Returns false when the
// kernel refused (errno set); the caller's fdatasync then does all the work, as
// without this step. Durability still comes from that fdatasync only.
bool WriteBackPaced(int fd, const PacedWriteback& pace, const std::function<bool()>& hold);

}  // namespace kvfs::store
