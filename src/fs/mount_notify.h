#pragma once
// How a process that writes a store tells the mounts of that store to drop what
// the kernel cached, so `cat` on a mount sees a `kvfs set` the moment it returns;
// and how a process about to read a store has its mounts commit the unlinks they
// answered already (fs/deferred_unlinks.h), so it never sees a name `rm` removed.
//
// Each running mount daemon listens on a unix socket STORE/run/mount-<pid>.sock
// (mode 0600 in a 0700 directory; removed when the daemon exits). A writer, after
// its commit, connects to each, sends one byte, and waits for the one-byte ack the
// daemon sends once it has read the change feed up to now and invalidated the
// kernel's caches (and committed its answered unlinks). Sockets of daemons that
// are gone are skipped (and removed).

#include <sys/types.h>

#include <chrono>
#include <string>

namespace kvfs::fs {

// STORE/run: where mount daemons put their sockets.
std::string MountRunDir(const std::string& store_dir);
// STORE/run/mount-<pid>.sock.
std::string MountSocketPath(const std::string& store_dir, pid_t pid);

// Nudges every mount of `store_dir` and waits for their acks, at most `timeout`
// in all. Never fails: a mount that does not answer in time still catches up by
// itself (it polls the feed), just not before this returns.
void NotifyMounts(const std::string& store_dir,
                  std::chrono::milliseconds timeout = std::chrono::seconds(2));

// Removes the sockets of daemons that are gone (killed with -9); a starting
// daemon calls it.
void RemoveStaleSockets(const std::string& store_dir);

// Low-level pieces shared with the daemon. Unix socket paths are limited to 107
// bytes; longer ones are reached through /proc/self/fd of their directory.
// Both return a socket fd (SOCK_CLOEXEC) or -1 with errno set.
int ConnectUnixSocket(const std::string& path);
int ListenUnixSocket(const std::string& path, int backlog);

// The two protocol bytes.
inline constexpr char kNudgeByte = 'N';
inline constexpr char kAckByte = 'A';

}  // namespace kvfs::fs
