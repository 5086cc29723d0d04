#pragma once
// Sync for mounts (`kvfs mount`, `mount.kvfs`): the peers and listen address of
// STORE/kvfs.conf join those given with -o peer=/listen=, and the daemon runs the sync
// layer on its own Store (src/sync/service_runner.h) once the mount is up. Changes
// applied from peers reach the kernel through the daemon's feed watcher; local writes
// reach connected peers through the sync layer's feed poll (every 20 ms).
// Header-only so both tools can use it without sharing sources.
#include <spdlog/spdlog.h>

#include <stop_token>

#include "base/status.h"
#include "fs/daemon.h"
#include "sync/service_runner.h"

namespace kvfs::cli {

inline Status AttachSyncToMount(fs::MountConfig* config) {
  KVFS_RETURN_IF_ERROR(
      sync::MergeStoreConfig(config->store_dir, &config->options.peers, &config->options.listen));
  config->sync_runner = [](store::Store& store, const fs::MountOptions& options,
                           std::stop_token stop) {
    Status st = sync::RunSyncService(store, options.peers, options.listen, stop);
    if (!st.ok()) spdlog::error("sync: {}; the mount runs without sync", st.message());
  };
  return Status::Ok();
}

}  // namespace kvfs::cli
