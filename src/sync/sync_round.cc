#include "sync/sync_round.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace kvfs::sync {

Result<SyncRoundResult> SyncOnce(store::Store& store, const crypto::StoreKey& key,
                                 const std::string& peer, const SyncRoundOptions& options,
                                 std::stop_token stop) {
  KVFS_ASSIGN_OR_RETURN(HostPort target, ParseHostPort(peer));
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  auto connect_timeout = std::min(options.connect_timeout, options.timeout);
  auto socket = Socket::Connect(target, connect_timeout, stop);
  if (!socket.ok()) {
    return Status(socket.status().code(), socket.status().message() +
                                              "; check that kvfs serve (or a mount with "
                                              "listen=) runs there and the port is open");
  }
  SessionOptions session_options = options.session;
  session_options.until_synced = true;
  session_options.log_errors = false;
  session_options.label = target.ToString();
  Session session(std::move(socket).value(), store, key, crypto::Handshake::Role::kInitiator,
                  std::move(session_options));

  // The watchdog ends the round at the deadline and reports progress meanwhile.
  std::stop_source end;
  std::stop_callback on_stop(stop, [&end] { end.request_stop(); });
  std::atomic<bool> timed_out{false};
  std::atomic<bool> finished{false};
  std::mutex mu;
  std::condition_variable_any cv;
  std::jthread watchdog([&](std::stop_token watch_stop) {
    std::unique_lock lock(mu);
    while (!watch_stop.stop_requested()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        timed_out = true;
        end.request_stop();
        return;
      }
      cv.wait_for(lock, watch_stop, options.progress_interval, [] { return false; });
      if (options.progress && !finished) options.progress(session.stats().Snapshot());
    }
  });
  Status st = session.Run(end.get_token());
  finished = true;
  watchdog.request_stop();
  watchdog.join();
  SyncRoundResult result;
  result.peer_node = session.peer_node();
  result.counts = session.stats().Snapshot();
  if (options.progress) options.progress(result.counts);
  if (timed_out) {
    return Status(Code::kBusy, "sync with " + target.ToString() + " did not finish within " +
                                   std::to_string(options.timeout.count() / 1000) +
                                   " s; run it again (it resumes) or raise --timeout");
  }
  if (!st.ok()) return Status(st.code(), "sync with " + target.ToString() + ": " + st.message());
  if (stop.stop_requested())
    return Status(Code::kIo, "sync with " + target.ToString() + " interrupted");
  return result;
}

}  // namespace kvfs::sync
