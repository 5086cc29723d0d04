#pragma once
// FuseSession: a mounted libfuse low-level session, owned. Mount() creates the
// session, installs the SIGINT/SIGTERM/SIGHUP handlers (they end Loop()), and
// mounts; the destructor undoes each step that succeeded, in reverse: unmount,
// remove the handlers, destroy the session.

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "fs/fuse_api.h"

namespace kvfs::fs {

class FuseSession {
 public:
  // `options` is the -o string for libfuse (FuseOptionString); `userdata` is what
  // every request carries and must outlive the session.
  static Result<std::unique_ptr<FuseSession>> Mount(const std::string& mountpoint,
                                                    const std::string& options, bool debug,
                                                    const fuse_lowlevel_ops& ops, void* userdata);
  ~FuseSession();
  FuseSession(const FuseSession&) = delete;
  FuseSession& operator=(const FuseSession&) = delete;

  fuse_session* get() const { return se_; }
  // Serves requests on up to `max_threads` threads until the file system is
  // unmounted or a signal arrives.
  Status Loop(unsigned max_threads);

 private:
  FuseSession() = default;

  fuse_session* se_ = nullptr;
  bool signals_ = false;
  bool mounted_ = false;
};

}  // namespace kvfs::fs
