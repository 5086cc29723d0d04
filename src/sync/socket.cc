#include "sync/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace kvfs::sync {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Longest single poll while writing, so a stop request is noticed promptly.
constexpr milliseconds kStopSlice{100};

int PollMs(milliseconds timeout) {
  return static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, 1 << 30));
}

// Waits for `events` on `fd`: 1 ready, 0 timeout, -1 error (errno set).
int WaitFor(int fd, short events, milliseconds timeout) {
  pollfd p{fd, events, 0};
  for (;;) {
    const auto start = Clock::now();
    const int n = poll(&p, 1, PollMs(timeout));
    if (n >= 0) return n > 0 ? 1 : 0;
    if (errno != EINTR) return -1;
    timeout -= std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    if (timeout.count() <= 0) return 0;
  }
}

void SetOptions(int fd) {
  const int one = 1;
  // Best effort: a socket without them still works, it just notices dead peers later.
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

Result<AddrInfoPtr> Resolve(const HostPort& hp, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  const std::string port = std::to_string(hp.port);
  const int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return Status(Code::kNotFound, "cannot resolve '" + hp.host + "': " + gai_strerror(rc));
  }
  return AddrInfoPtr(res);
}

std::string FormatAddress(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
    port = ntohs(sin->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
    port = ntohs(sin6->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return "?";
}

}  // namespace

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<HostPort> ParseHostPort(std::string_view text, bool allow_port_zero) {
  const std::string shown(text);
  auto bad = [&shown](const std::string& why) {
    return Status(Code::kInvalid, "bad address '" + shown + "': " + why +
                                      "; use HOST:PORT, e.g. 192.168.1.5:7420 or [::1]:7420");
  };
  HostPort out;
  std::string_view port;
  if (text.empty()) return bad("empty");
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    out.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') return bad("missing :PORT");
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("missing :PORT");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return bad("put an IPv6 address in brackets");
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) return bad("empty host");
  for (char c : out.host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '[' || c == ']') {
      return bad("invalid character in host");
    }
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return bad("port must be a number");
  }
  const unsigned long value = std::stoul(std::string(port));
  if (value > 65535 || (value == 0 && !allow_port_zero)) return bad("port out of range 1-65535");
  out.port = static_cast<uint16_t>(value);
  return out;
}

// --- Socket ---

Socket::Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void Socket::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Socket::Shutdown() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void Socket::ShutdownRead() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RD);
}

Result<Socket> Socket::Connect(const HostPort& target, milliseconds timeout, std::stop_token stop) {
  KVFS_ASSIGN_OR_RETURN(AddrInfoPtr addrs, Resolve(target, /*passive=*/false));
  const auto deadline = Clock::now() + timeout;
  Status last(Code::kIo, "no address for " + target.ToString());
  for (addrinfo* ai = addrs.get(); ai; ai = ai->ai_next) {
    Socket sock(
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (!sock.valid()) {
      last = IoError("cannot create a socket");
      continue;
    }
    int rc;
    do {
      rc = ::connect(sock.fd(), ai->ai_addr, ai->ai_addrlen);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno != EINPROGRESS) {
      last = IoError("cannot connect to " + target.ToString());
      continue;
    }
    if (rc != 0) {
      int ready = 0;
      for (;;) {
        if (stop.stop_requested()) return Status(Code::kIo, "stopped");
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) break;
        ready = WaitFor(sock.fd(), POLLOUT, std::min(left, kStopSlice));
        if (ready != 0) break;
      }
      if (ready <= 0) {
        last = ready == 0 ? Status(Code::kBusy, "connecting to " + target.ToString() +
                                                    " timed out after " +
                                                    std::to_string(timeout.count()) + " ms")
                          : IoError("cannot connect to " + target.ToString());
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      if (getsockopt(sock.fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err != 0) {
        last = IoError("cannot connect to " + target.ToString(), err);
        continue;
      }
    }
    SetOptions(sock.fd());
    return sock;
  }
  return last;
}

std::string Socket::PeerAddress() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (fd_ < 0 || getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  return FormatAddress(ss);
}

Result<size_t> Socket::ReadSome(char* buf, size_t n, milliseconds timeout) {
  for (;;) {
    const ssize_t got = ::recv(fd_, buf, n, 0);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return IoError("read failed");
    const int ready = WaitFor(fd_, POLLIN, timeout);
    if (ready < 0) return IoError("poll failed");
    if (ready == 0) return Status(Code::kBusy, "read timed out");
  }
}

Status Socket::ReadExact(size_t n, std::string* out, milliseconds timeout) {
  out->assign(n, '\0');
  const auto deadline = Clock::now() + timeout;
  size_t have = 0;
  while (have < n) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Status(Code::kBusy, "read timed out");
    KVFS_ASSIGN_OR_RETURN(size_t got, ReadSome(out->data() + have, n - have, left));
    if (got == 0) return Status(Code::kIo, "connection closed by peer");
    have += got;
  }
  return Status::Ok();
}

bool Socket::Readable() const { return fd_ >= 0 && WaitFor(fd_, POLLIN, milliseconds(0)) > 0; }

Status Socket::WriteAll(std::string_view data, milliseconds timeout, std::stop_token stop) {
  auto last_progress = Clock::now();
  while (!data.empty()) {
    if (stop.stop_requested()) return Status(Code::kIo, "stopped");
    const ssize_t put = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (put > 0) {
      data.remove_prefix(static_cast<size_t>(put));
      last_progress = Clock::now();
      continue;
    }
    if (put < 0 && errno == EINTR) continue;
    if (put < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return IoError("write failed");
    const auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() - last_progress);
    if (waited >= timeout) {
      return Status(Code::kBusy, "peer took no data for " + std::to_string(waited.count()) + " ms");
    }
    if (WaitFor(fd_, POLLOUT, std::min(kStopSlice, timeout - waited)) < 0) {
      return IoError("poll failed");
    }
  }
  return Status::Ok();
}

// --- Listener ---

Listener::Listener(Listener&& other) noexcept : fd_(other.fd_), port_(other.port_) {
  other.fd_ = -1;
}

Listener& Listener::operator=(Listener&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    port_ = other.port_;
    other.fd_ = -1;
  }
  return *this;
}

void Listener::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<Listener> Listener::Listen(const HostPort& addr, int backlog) {
  KVFS_ASSIGN_OR_RETURN(AddrInfoPtr addrs, Resolve(addr, /*passive=*/true));
  Status last(Code::kIo, "no address for " + addr.ToString());
  for (addrinfo* ai = addrs.get(); ai; ai = ai->ai_next) {
    Listener l;
    l.fd_ =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (l.fd_ < 0) {
      last = IoError("cannot create a socket");
      continue;
    }
    const int one = 1;
    setsockopt(l.fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(l.fd_, ai->ai_addr, ai->ai_addrlen) != 0) {
      last = IoError("cannot listen on " + addr.ToString());
      continue;
    }
    if (::listen(l.fd_, backlog) != 0) {
      last = IoError("cannot listen on " + addr.ToString());
      continue;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(l.fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      if (ss.ss_family == AF_INET) {
        l.port_ = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
      } else if (ss.ss_family == AF_INET6) {
        l.port_ = ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
      }
    }
    return l;
  }
  return last;
}

Result<std::optional<Socket>> Listener::Accept(milliseconds timeout) {
  const int ready = WaitFor(fd_, POLLIN, timeout);
  if (ready < 0) return IoError("poll failed");
  if (ready == 0) return std::optional<Socket>();
  const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    // The connection went away before we took it: try again.
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED ||
        errno == EPROTO) {
      return std::optional<Socket>();
    }
    // A shortage of descriptors or memory: back off a little, or poll spins.
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      poll(nullptr, 0, static_cast<int>(kStopSlice.count()));
      return std::optional<Socket>();
    }
    return IoError("accept failed");
  }
  SetOptions(fd);
  return std::optional<Socket>(Socket(fd));
}

}  // namespace kvfs::sync
