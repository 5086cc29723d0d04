#pragma once
// One write at a time, started now and waited for later (Linux AIO, io_submit(2)).
//
// The redo log uses it to put a transaction's record on its way to the disk before
// the transaction commits, so the disk takes the write while LMDB writes its pages
// and the reply goes back, and the fsync(2) that follows only flushes (redo_log.h).
// The fd must be opened O_DIRECT, so that the write is asynchronous. Measured on the
// dev VM, 4 KiB write + fsync loops on an aged store: this way, per iteration, write
// 123 us and fsync 80 us (medians), against 78 and 165 us with the whole record
// written in the fsync. A helper thread doing the pwrite(2) instead was slower
// (write 135, fsync 150 us): on 2 vCPUs its wake-ups cost more than io_submit. So
// was starting the flush too as AIO (IOCB_CMD_FDSYNC, once the write completed, right
// after the WRITE's reply): fsync median 96-122 us against 74-76 (2026-11-24); the
// kernel runs an AIO fsync on a kworker, another wake-up.
//
// The AIO context is made at the first write: a process holding one takes ~50 ms
// longer to exit (the kernel tears the context down), which a mount that never
// writes early should not pay. The buffer must stay alive and unchanged until Wait().

#include <linux/aio_abi.h>
#include <sys/types.h>

#include <cstddef>

namespace kvfs::store {

class AsyncWrite {
 public:
  AsyncWrite() = default;
  ~AsyncWrite();  // waits for a write still on its way
  AsyncWrite(const AsyncWrite&) = delete;
  AsyncWrite& operator=(const AsyncWrite&) = delete;

  // Whether a write started and Wait() has not yet said how it went.
  bool pending() const { return busy_; }

  // Starts writing `n` bytes at `buf` to `fd` at `at`. False (errno set) when it
  // could not start, or another write is pending.
  bool Start(int fd, const char* buf, size_t n, off_t at);
  // Waits for the write started last; true when all its bytes were written. errno
  // is set on failure. True at once when none is pending.
  bool Wait();

 private:
  aio_context_t ctx_ = 0;
  iocb cb_{};
  size_t bytes_ = 0;
  bool busy_ = false;
  bool no_aio_ = false;  // io_setup failed (AIO off, or aio-max-nr reached): never again
};

}  // namespace kvfs::store
