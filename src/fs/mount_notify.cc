#include "fs/mount_notify.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

namespace kvfs::fs {
namespace {

using Clock = std::chrono::steady_clock;

// Calls `fn(addr)` with an address for `path`; for a path too long for sun_path,
// through an O_PATH descriptor of its directory.
template <typename Fn>
int WithUnixAddress(const std::string& path, Fn&& fn) {
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() < sizeof(addr.sun_path)) {
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return fn(addr);
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const int dir_fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return -1;
  const std::string short_path = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
  int rc = -1;
  if (short_path.size() < sizeof(addr.sun_path)) {
    std::memcpy(addr.sun_path, short_path.c_str(), short_path.size() + 1);
    rc = fn(addr);
  } else {
    errno = ENAMETOOLONG;
  }
  const int saved = errno;
  close(dir_fd);
  errno = saved;
  return rc;
}

void SetTimeouts(int fd, std::chrono::milliseconds left) {
  if (left < std::chrono::milliseconds(1)) left = std::chrono::milliseconds(1);
  timeval tv{static_cast<time_t>(left.count() / 1000),
             static_cast<suseconds_t>((left.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// The pid in "mount-<pid>.sock", or 0 when the name has another shape.
pid_t PidOfSocketName(std::string_view name) {
  constexpr std::string_view kPrefix = "mount-", kSuffix = ".sock";
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return 0;
  std::string_view digits =
      name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
  return pid;
}

// One round trip with the daemon at `path`; false if it is not there or too slow.
bool NudgeOne(const std::string& path, pid_t pid, Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  SetTimeouts(fd, left);
  const int rc = WithUnixAddress(path, [&](const sockaddr_un& addr) {
    return connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  });
  if (rc != 0) {
    const int err = errno;
    close(fd);
    // A socket whose daemon is gone (killed -9) is stale: tidy it away.
    if (err == ECONNREFUSED && kill(pid, 0) != 0 && errno == ESRCH) unlink(path.c_str());
    return false;
  }
  bool acked = false;
  if (send(fd, &kNudgeByte, 1, MSG_NOSIGNAL) == 1) {
    char ack = 0;
    ssize_t n;
    do {
      n = recv(fd, &ack, 1, 0);
    } while (n < 0 && errno == EINTR && Clock::now() < deadline);
    acked = n == 1 && ack == kAckByte;
  }
  close(fd);
  return acked;
}

std::vector<std::pair<std::string, pid_t>> ListSockets(const std::string& store_dir) {
  const std::string run_dir = MountRunDir(store_dir);
  std::vector<std::pair<std::string, pid_t>> sockets;
  if (DIR* d = opendir(run_dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (pid_t pid = PidOfSocketName(e->d_name); pid > 0) {
        sockets.emplace_back(run_dir + "/" + e->d_name, pid);
      }
    }
    closedir(d);
  }
  return sockets;
}

}  // namespace

std::string MountRunDir(const std::string& store_dir) { return store_dir + "/run"; }

std::string MountSocketPath(const std::string& store_dir, pid_t pid) {
  return MountRunDir(store_dir) + "/mount-" + std::to_string(pid) + ".sock";
}

int ConnectUnixSocket(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int rc = WithUnixAddress(path, [&](const sockaddr_un& addr) {
    return connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  });
  if (rc != 0) {
    const int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

int ListenUnixSocket(const std::string& path, int backlog) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  unlink(path.c_str());  // a leftover of an earlier daemon with this pid
  const int rc = WithUnixAddress(path, [&](const sockaddr_un& addr) {
    return bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  });
  if (rc != 0 || chmod(path.c_str(), 0600) != 0 || listen(fd, backlog) != 0) {
    const int saved = errno;
    close(fd);
    unlink(path.c_str());
    errno = saved;
    return -1;
  }
  return fd;
}

void RemoveStaleSockets(const std::string& store_dir) {
  for (const auto& [path, pid] : ListSockets(store_dir)) {
    if (kill(pid, 0) != 0 && errno == ESRCH) unlink(path.c_str());
  }
}

void NotifyMounts(const std::string& store_dir, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  for (const auto& [path, pid] : ListSockets(store_dir)) {
    if (pid == getpid()) continue;  // a daemon never waits for itself
    NudgeOne(path, pid, deadline);
  }
}

}  // namespace kvfs::fs
