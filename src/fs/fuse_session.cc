#include "fs/fuse_session.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "fs/kill_privs.h"

namespace kvfs::fs {

Result<std::unique_ptr<FuseSession>> FuseSession::Mount(const std::string& mountpoint,
                                                        const std::string& options, bool debug,
                                                        const fuse_lowlevel_ops& ops,
                                                        void* userdata) {
  std::unique_ptr<FuseSession> s(new FuseSession());
  std::vector<std::string> argv_storage = {"kvfs", "-o", options};
  if (debug) argv_storage.push_back("-d");
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv_storage.size()), argv.data());
  s->se_ = fuse_session_new(&args, &ops, sizeof(ops), userdata);
  fuse_opt_free_args(&args);
  if (s->se_ == nullptr) {
    return Status(Code::kInvalid,
                  "libfuse refused the mount options '" + options + "' (see the message above)");
  }
  if (fuse_set_signal_handlers(s->se_) != 0) {
    return Status(Code::kIo, "cannot install signal handlers");
  }
  s->signals_ = true;
  if (fuse_session_mount(s->se_, mountpoint.c_str()) != 0) {
    return Status(Code::kIo, "cannot mount on " + mountpoint + " (see the message above)");
  }
  s->mounted_ = true;
  UseKillPrivsIo(s->se_);
  return s;
}

FuseSession::~FuseSession() {
  if (mounted_) fuse_session_unmount(se_);
  if (signals_) fuse_remove_signal_handlers(se_);
  if (se_) {
    ForgetKillPrivsSession(se_);
    fuse_session_destroy(se_);
  }
}

Status FuseSession::Loop(unsigned max_threads) {
  fuse_loop_config* config = fuse_loop_cfg_create();
  if (config == nullptr) return Status(Code::kIo, "cannot create the FUSE loop config");
  fuse_loop_cfg_set_clone_fd(config, 0);
  fuse_loop_cfg_set_max_threads(config, max_threads);
  const int rc = fuse_session_loop_mt(se_, config);
  fuse_loop_cfg_destroy(config);
  // libfuse 3.14 returns the signal number when a signal ended the loop.
  if (rc > 0) spdlog::info("stopping on signal {} ({})", rc, strsignal(rc));
  if (rc < 0) return Status(Code::kIo, std::string("the FUSE loop failed: ") + std::strerror(-rc));
  return Status::Ok();
}

}  // namespace kvfs::fs
