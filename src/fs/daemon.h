#pragma once
// The mount daemon: everything `kvfs mount` and `mount.kvfs` do once they have
// parsed their arguments. Tools only parse; RunDaemon() opens the store, mounts,
// serves requests and tears down.
//
// Threads of a running daemon:
//   - libfuse's request threads (fuse_session_loop_mt), one store transaction
//     per request;
//   - the feed watcher (feed_watcher.h): invalidates kernel caches for changes
//     made by others, and answers NotifyMounts() nudges on STORE/run/mount-<pid>.sock;
//   - the syncer: about once a second when something was written, the redo log
//     (Store::MakeDurable), and a flush of the store when flush_schedule.h says so,
//     so commits (made with no_sync) reach the disk soon even without fsync;
//   - the replication thread, when a SyncRunner is given and peers/listen are set.

#include <functional>
#include <stop_token>
#include <string>

#include "fs/filesystem.h"
#include "fs/mount_options.h"
#include "store/store.h"

namespace kvfs::fs {

// Runs the sync layer for a mount until `stop` is requested. Called on its own
// thread once the mount is up, when options.peers or options.listen is set (the
// tools merge STORE/kvfs.conf into them first). It logs its own errors (the mount
// is already up). Changes it applies to `store` reach the kernel through the feed
// watcher.
// `hold_back(ino)`: the file is between the pieces of one write(2) (SplitWrites);
// the sync sender waits before sending it.
using SyncRunner = std::function<void(store::Store& store, const MountOptions& options,
                                      std::function<bool(uint64_t ino)> hold_back,
                                      std::stop_token stop)>;

struct MountConfig {
  std::string store_dir;   // relative paths are made absolute before forking
  std::string mountpoint;  // must be an existing directory
  MountOptions options;
  // Stay in the foreground and log to stderr (kvfs mount -f). Otherwise fork after
  // the mount is up; the parent returns 0 only once it is.
  bool foreground = false;
  // Background log file; empty: STORE/log/mount.log.
  std::string log_file;
  // spdlog level name (trace, debug, info, warn, error).
  std::string log_level = "info";
  // Cache timeouts and limits of the file system.
  FsConfig fs;
  // Empty: peer= and listen= are accepted, logged ("sync not configured in this
  // build"), and not acted on.
  SyncRunner sync_runner;
};

// STORE/log/mount.log.
std::string DefaultMountLog(const std::string& store_dir);

// Mounts and serves until unmounted or signalled (SIGINT, SIGTERM, SIGHUP), then
// unmounts cleanly. Errors before the mount is up are printed on stderr as one
// line "kvfs: ...". Returns the process exit code: 0 when the mount came up (for
// a background daemon: in the parent, as soon as it is up), 1 otherwise.
int RunDaemon(const MountConfig& config);

}  // namespace kvfs::fs
