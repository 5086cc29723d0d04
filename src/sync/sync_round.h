#pragma once
// One round of sync with one peer, as `kvfs sync` runs it: connect, exchange until
// both sides have applied everything of the other, say BYE, close.
#include <chrono>
#include <functional>
#include <stop_token>
#include <string>

#include "base/status.h"
#include "crypto/store_key.h"
#include "store/store.h"
#include "sync/session.h"

namespace kvfs::sync {

struct SyncRoundOptions {
  std::chrono::milliseconds timeout{300000};  // the whole round, connecting included
  std::chrono::milliseconds connect_timeout{10000};
  SessionOptions session;  // until_synced and log_errors are set here
  // Called about every progress_interval while the round runs, and once at the end.
  std::function<void(const SessionCounts&)> progress;
  std::chrono::milliseconds progress_interval{200};
};

struct SyncRoundResult {
  uint64_t peer_node = 0;
  SessionCounts counts;
};

// Errors: the connection's (kNotFound: the name does not resolve; kIo: refused or
// cut; kAccess: the peer does not hold the store key; kCorruption: the peer sent
// something malformed) with the peer's address in the message; kBusy when the round
// did not finish within options.timeout. Whatever was applied before an error stays
// applied (every object is one transaction) and the next round resumes from there.
Result<SyncRoundResult> SyncOnce(store::Store& store, const crypto::StoreKey& key,
                                 const std::string& peer, const SyncRoundOptions& options,
                                 std::stop_token stop = {});

}  // namespace kvfs::sync
