#include "store/async_write.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace kvfs::store {
namespace {

long IoSetup(unsigned n, aio_context_t* ctx) { return syscall(SYS_io_setup, n, ctx); }
long IoDestroy(aio_context_t ctx) { return syscall(SYS_io_destroy, ctx); }
long IoSubmit(aio_context_t ctx, long n, iocb** cbs) { return syscall(SYS_io_submit, ctx, n, cbs); }
long IoGetEvents(aio_context_t ctx, long min, long max, io_event* ev) {
  return syscall(SYS_io_getevents, ctx, min, max, ev, nullptr);
}

}  // namespace

AsyncWrite::~AsyncWrite() {
  if (ctx_ == 0) return;
  Wait();
  IoDestroy(ctx_);
}

bool AsyncWrite::Start(int fd, const char* buf, size_t n, off_t at) {
  if (busy_) {
    errno = EBUSY;
    return false;
  }
  if (ctx_ == 0 && (no_aio_ || IoSetup(1, &ctx_) != 0)) {
    ctx_ = 0;
    no_aio_ = true;
    errno = ENOSYS;
    return false;
  }
  cb_ = iocb{};
  cb_.aio_fildes = static_cast<uint32_t>(fd);
  cb_.aio_lio_opcode = IOCB_CMD_PWRITE;
  cb_.aio_buf = reinterpret_cast<uint64_t>(buf);
  cb_.aio_nbytes = n;
  cb_.aio_offset = at;
  iocb* cbs[1] = {&cb_};
  long rc;
  do {
    rc = IoSubmit(ctx_, 1, cbs);
  } while (rc < 0 && errno == EINTR);
  if (rc != 1) {
    if (rc == 0) errno = EAGAIN;
    return false;
  }
  bytes_ = n;
  busy_ = true;
  return true;
}

bool AsyncWrite::Wait() {
  if (!busy_) return true;
  io_event ev{};
  long rc;
  do {
    rc = IoGetEvents(ctx_, 1, 1, &ev);
  } while (rc < 0 && errno == EINTR);
  busy_ = false;
  if (rc != 1) {
    if (rc == 0) errno = EIO;
    return false;
  }
  if (ev.res < 0) {
    errno = static_cast<int>(-ev.res);
    return false;
  }
  if (static_cast<uint64_t>(ev.res) != bytes_) {
    errno = EIO;  // a short direct write: the rest is not on the disk
    return false;
  }
  return true;
}

}  // namespace kvfs::store
