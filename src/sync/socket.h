#pragma once
// TCP for the sync layer: "HOST:PORT" parsing, and RAII sockets whose every blocking
// step (connect, accept, read, write) is bounded by a timeout (poll(2) on a
// non-blocking descriptor). Sockets are close-on-exec, SO_KEEPALIVE and TCP_NODELAY,
// and writes never raise SIGPIPE. Only the addresses the caller gives are used.
//
// Threads: a Socket may be read by one thread while another writes it; Shutdown()
// may be called from any thread to wake both (their next poll sees the hang-up).
// Destruction must not race with any other call.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kvfs::sync {

// "host:port", "1.2.3.4:port" or "[v6addr]:port"; the port 1..65535 (0 is accepted
// only where `allow_port_zero`, for a listener that takes any free port).
struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string ToString() const;  // brackets an IPv6 literal again
};
Result<HostPort> ParseHostPort(std::string_view text, bool allow_port_zero = false);

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { Close(); }
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // Connects to the first address of `target` that answers within `timeout` in all.
  // kNotFound when the name does not resolve; kIo (with the reason) when no address
  // accepts or `stop` is requested meanwhile, kBusy on timeout.
  static Result<Socket> Connect(const HostPort& target, std::chrono::milliseconds timeout,
                                std::stop_token stop = {});

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // "ADDR:PORT" of the other end (for logs), or "?" when unknown.
  std::string PeerAddress() const;

  // Reads what is available, at most `n` bytes, waiting up to `timeout` for the first.
  // Returns 0 at end of stream; kBusy when nothing came in time; kIo on errors.
  Result<size_t> ReadSome(char* buf, size_t n, std::chrono::milliseconds timeout);
  // Reads exactly `n` bytes before `timeout` ends (kBusy) or the stream ends (kIo).
  Status ReadExact(size_t n, std::string* out, std::chrono::milliseconds timeout);
  // True when at least one byte can be read at once.
  bool Readable() const;
  // Writes all of `data`. kBusy when the peer takes nothing for `timeout`; kIo on
  // errors; kIo "stopped" when `stop` is requested meanwhile.
  Status WriteAll(std::string_view data, std::chrono::milliseconds timeout,
                  std::stop_token stop = {});

  // Ends both directions (wakes readers and writers in other threads).
  void Shutdown();
  // Ends reading only: a blocked reader wakes and sees end of stream, while a last
  // message (a BYE) may still be written.
  void ShutdownRead();
  void Close();

 private:
  int fd_ = -1;
};

class Listener {
 public:
  Listener() = default;
  ~Listener() { Close(); }
  Listener(Listener&& other) noexcept;
  Listener& operator=(Listener&& other) noexcept;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens on `addr` (port 0: any free port, see port()).
  static Result<Listener> Listen(const HostPort& addr, int backlog = 16);

  // A new connection, or nullopt when none came within `timeout`.
  Result<std::optional<Socket>> Accept(std::chrono::milliseconds timeout);
  uint16_t port() const { return port_; }
  void Close();

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace kvfs::sync
