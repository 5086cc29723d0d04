#include "fs/kill_privs.h"

#include <linux/fuse.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>

namespace kvfs::fs {
namespace {

// The request this thread read last (and so handles now) asks to drop the bits.
thread_local bool t_kill_privs = false;
// The unique id of the kernel's INIT when it offered FUSE_HANDLE_KILLPRIV_V2, else 0.
std::atomic<uint64_t> g_init_unique{0};
std::atomic<fuse_session*> g_session{nullptr};

// Whether the request's body, a `T` after the header, is there and has `mask` set
// in `field`.
template <typename T>
bool HasFlag(const char* request, size_t bytes, uint32_t T::*field, uint32_t mask) {
  T body;
  if (bytes < sizeof(fuse_in_header) + sizeof body) return false;
  std::memcpy(&body, request + sizeof(fuse_in_header), sizeof body);
  return (body.*field & mask) != 0;
}

ssize_t ReadRequest(int fd, void* buf, size_t len, void*) {
  const ssize_t n = read(fd, buf, len);
  if (n < 0) return n;
  const RequestPrivs privs = ParseRequestPrivs(buf, static_cast<size_t>(n));
  t_kill_privs = privs.kill;
  if (privs.init_offers_killpriv_v2) g_init_unique = privs.unique;
  return n;
}

ssize_t WriteReply(int fd, iovec* iov, int count, void*) {
  char patched[sizeof(fuse_init_out)];  // lives until the writev below
  const uint64_t init = g_init_unique.load();
  if (init != 0 && AcceptKillPrivV2(iov, count, init, patched, sizeof patched)) {
    g_init_unique = 0;
    spdlog::info("kernel features: the daemon drops set-user-ID bits (handle_killpriv_v2)");
  }
  return writev(fd, iov, count);
}

}  // namespace

uint32_t WithoutPrivs(uint32_t mode) {
  mode &= ~static_cast<uint32_t>(S_ISUID);
  if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) mode &= ~static_cast<uint32_t>(S_ISGID);
  return mode;
}

RequestPrivs ParseRequestPrivs(const void* request, size_t bytes) {
  RequestPrivs out;
  const char* raw = static_cast<const char*>(request);
  fuse_in_header head;
  if (bytes < sizeof head) return out;
  std::memcpy(&head, raw, sizeof head);
  out.unique = head.unique;
  switch (head.opcode) {
    case FUSE_INIT:
      out.init_offers_killpriv_v2 =
          HasFlag(raw, bytes, &fuse_init_in::flags, FUSE_HANDLE_KILLPRIV_V2);
      break;
    case FUSE_WRITE:
      out.kill = HasFlag(raw, bytes, &fuse_write_in::write_flags, FUSE_WRITE_KILL_SUIDGID);
      break;
    case FUSE_SETATTR:
      out.kill = HasFlag(raw, bytes, &fuse_setattr_in::valid, FATTR_KILL_SUIDGID);
      break;
    case FUSE_OPEN:
      out.kill = HasFlag(raw, bytes, &fuse_open_in::open_flags, FUSE_OPEN_KILL_SUIDGID);
      break;
    default:
      break;
  }
  return out;
}

bool AcceptKillPrivV2(iovec* iov, int count, uint64_t init_unique, char* patched,
                      size_t patched_bytes) {
  if (count < 2 || iov[0].iov_len != sizeof(fuse_out_header)) return false;
  fuse_out_header head;
  std::memcpy(&head, iov[0].iov_base, sizeof head);
  // An INIT the daemon refused (an error reply) has no fuse_init_out to change.
  if (head.unique != init_unique || head.error != 0) return false;
  constexpr size_t kFlagsEnd = offsetof(fuse_init_out, flags) + sizeof(uint32_t);
  if (iov[1].iov_len < kFlagsEnd || iov[1].iov_len > patched_bytes) return false;
  std::memcpy(patched, iov[1].iov_base, iov[1].iov_len);
  uint32_t flags;
  std::memcpy(&flags, patched + offsetof(fuse_init_out, flags), sizeof flags);
  flags |= FUSE_HANDLE_KILLPRIV_V2;
  std::memcpy(patched + offsetof(fuse_init_out, flags), &flags, sizeof flags);
  iov[1].iov_base = patched;
  return true;
}

void UseKillPrivsIo(fuse_session* se) {
  fuse_custom_io io{};
  io.read = ReadRequest;
  io.writev = WriteReply;
  if (fuse_session_custom_io(se, &io, fuse_session_fd(se)) != 0) {
    spdlog::warn(
        "libfuse refused the daemon's own reading of /dev/fuse; the mount works, but each "
        "write(2) costs one more round trip (the kernel's security.capability lookup)");
    return;
  }
  g_session = se;
}

void ForgetKillPrivsSession(fuse_session* se) {
  fuse_session* expected = se;
  g_session.compare_exchange_strong(expected, nullptr);
}

bool CurrentRequestKillsPrivs() { return t_kill_privs; }

void InvalidateAttributes(fuse_ino_t ino) {
  fuse_session* se = g_session.load();
  if (se == nullptr) return;
  const int rc = fuse_lowlevel_notify_inval_inode(se, ino, -1, 0);
  if (rc != 0 && rc != -ENOENT) {
    spdlog::warn(
        "cannot tell the kernel that inode {} lost its set-user-ID bits ({}); the store has "
        "the new mode, and stat shows it once the cached attributes expire (5 s) or after a "
        "remount",
        ino, std::strerror(-rc));
  }
}

}  // namespace kvfs::fs
