#pragma once
// Sync for mounts (`kvfs mount`, `mount.kvfs`): the peers and listen address of
// STORE/kvfs.conf join those given with -o peer=/listen=, and the daemon runs the sync
// layer on its own Store (src/sync/service_runner.h) once the mount is up. Changes
// applied from peers reach the kernel through the daemon's feed watcher, nudged right
// after each burst of applies; local writes reach connected peers through the sync
// layer's feed poll (every 20 ms).
// Header-only so both tools can use it without sharing sources.
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stop_token>
#include <string>

#include "base/status.h"
#include "fs/daemon.h"
#include "fs/mount_notify.h"
#include "sync/service_runner.h"

namespace kvfs::cli {

// Has every mount of `store_dir`, this daemon's own included, drop what the kernel
// cached of changes made since. Runs on the sync layer's notifier thread (never a
// FUSE request thread), so waiting for our own feed watcher's ack is safe; bounded.
inline void NudgeMounts(const std::string& store_dir) {
  constexpr auto kWait = std::chrono::milliseconds(1000);
  fs::NotifyMounts(store_dir, kWait);  // the others (it skips this process)
  const int fd = fs::ConnectUnixSocket(fs::MountSocketPath(store_dir, getpid()));
  if (fd < 0) return;
  if (send(fd, &fs::kNudgeByte, 1, MSG_NOSIGNAL) == 1) {
    pollfd p{fd, POLLIN, 0};
    char ack;
    if (poll(&p, 1, static_cast<int>(kWait.count())) != 1 || read(fd, &ack, 1) != 1) {
      spdlog::debug("sync: the feed watcher did not acknowledge a nudge");
    }
  }
  close(fd);
}

inline Status AttachSyncToMount(fs::MountConfig* config) {
  KVFS_RETURN_IF_ERROR(
      sync::MergeStoreConfig(config->store_dir, &config->options.peers, &config->options.listen));
  config->sync_runner = [](store::Store& store, const fs::MountOptions& options,
                           std::function<bool(uint64_t)> hold_back, std::stop_token stop) {
    const std::string dir = store.dir();
    Status st = sync::RunSyncService(store, options.peers, options.listen, stop,
                                     [dir] { NudgeMounts(dir); }, std::move(hold_back));
    if (!st.ok()) spdlog::error("sync: {}; the mount runs without sync", st.message());
  };
  return Status::Ok();
}

}  // namespace kvfs::cli
