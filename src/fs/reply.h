#pragma once
// Reply: the one way an operation answers the kernel. It wraps a fuse_req_t and
// remembers that it replied, so Guarded() can make sure every request gets
// exactly one reply: an operation that returns without replying, or throws,
// gets EIO (ENOMEM for bad_alloc) and one log line, and no exception ever
// crosses into libfuse.

#include <cxxabi.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "fs/filesystem.h"
#include "fs/fuse_api.h"

namespace kvfs::fs {

class Reply {
 public:
  explicit Reply(fuse_req_t req)
      : req_(req), fs_(static_cast<Filesystem*>(fuse_req_userdata(req))) {}
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;

  bool done() const { return done_; }
  // The request is freed by the reply: req() and ctx() only before replying;
  // fs() stays valid (work done after replying, such as purging, uses it).
  fuse_req_t req() const { return req_; }
  Filesystem& fs() const { return *fs_; }
  const fuse_ctx* ctx() const { return fuse_req_ctx(req_); }

  void Err(int err) {
    Mark();
    fuse_reply_err(req_, err);
  }
  void Err(const Status& st) { Err(st.ok() ? 0 : fs().ErrnoOf(st)); }
  void Ok() { Err(0); }
  void None() {
    Mark();
    fuse_reply_none(req_);
  }
  void Attr(const struct stat& st, double timeout) {
    Mark();
    fuse_reply_attr(req_, &st, timeout);
  }
  void Readlink(const std::string& target) {
    Mark();
    fuse_reply_readlink(req_, target.c_str());
  }
  // False when the kernel did not take the handle (interrupted): no release follows.
  bool Open(const fuse_file_info& fi) {
    Mark();
    return fuse_reply_open(req_, &fi) == 0;
  }
  void Write(size_t count) {
    Mark();
    fuse_reply_write(req_, count);
  }
  // False when the kernel did not take the reply (interrupted).
  bool Buf(std::string_view data) {
    Mark();
    return fuse_reply_buf(req_, data.data(), data.size()) == 0;
  }
  // The bytes of `pieces` in order, gathered by the kernel's copy (no copy here).
  void Pieces(const std::vector<std::string_view>& pieces) {
    Mark();
    std::vector<iovec> iov(pieces.size());
    for (size_t i = 0; i < pieces.size(); ++i) {
      iov[i] = {const_cast<char*>(pieces[i].data()), pieces[i].size()};
    }
    fuse_reply_iov(req_, iov.data(), static_cast<int>(iov.size()));
  }
  void Statfs(const struct statvfs& st) {
    Mark();
    fuse_reply_statfs(req_, &st);
  }
  void XattrSize(size_t size) {
    Mark();
    fuse_reply_xattr(req_, size);
  }
  // Entry replies return false when the kernel did not take the entry (the
  // request was interrupted), so the caller can take back the lookup it counted.
  bool Entry(const fuse_entry_param& e) {
    Mark();
    return fuse_reply_entry(req_, &e) == 0;
  }
  bool Create(const fuse_entry_param& e, const fuse_file_info& fi) {
    Mark();
    return fuse_reply_create(req_, &e, &fi) == 0;
  }

 private:
  void Mark() { done_ = true; }

  fuse_req_t req_;
  Filesystem* fs_;
  bool done_ = false;
};

// Whether a request first waits until the unlinks answered before it are committed
// (deferred_unlinks.h), so that it never sees a name an answered unlink removed. Only
// requests that need not skip it: forget, unlink itself (it waits when it cannot be
// deferred) and getattr (it waits for an unlinked object, and shows a directory as
// its queued unlinks will leave it).
enum class AnsweredUnlinks { kWait, kDontWait };

// Runs `fn(reply)` for the request `req` of operation `op`; see Reply.
template <typename Fn>
void Guarded(fuse_req_t req, const char* op, Fn&& fn,
             AnsweredUnlinks unlinks = AnsweredUnlinks::kWait) {
  Reply reply(req);
  try {
    if (unlinks == AnsweredUnlinks::kWait) reply.fs().deferred_unlinks().WaitIdle();
    fn(reply);
  } catch (abi::__forced_unwind&) {
    throw;  // thread cancellation must unwind
  } catch (const std::bad_alloc&) {
    spdlog::error("{}: out of memory", op);
    if (!reply.done()) reply.Err(ENOMEM);
    return;
  } catch (const std::exception& e) {
    spdlog::error("{}: unexpected exception: {}", op, e.what());
    if (!reply.done()) reply.Err(EIO);
    return;
  } catch (...) {
    spdlog::error("{}: unexpected exception", op);
    if (!reply.done()) reply.Err(EIO);
    return;
  }
  if (!reply.done()) {
    spdlog::error("{}: returned without replying", op);
    reply.Err(EIO);
  }
}

}  // namespace kvfs::fs
