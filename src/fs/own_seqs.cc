#include "fs/own_seqs.h"

namespace kvfs::fs {

uint64_t OwnSeqs::Begin() {
  std::lock_guard lock(mu_);
  return next_token_++;
}

void OwnSeqs::Tentative(uint64_t token, uint64_t after, uint64_t last) {
  std::lock_guard lock(mu_);
  pending_[token] = {after, last};
}

void OwnSeqs::Finish(uint64_t token, bool committed) {
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(token);
    if (it == pending_.end()) return;
    const auto [after, last] = it->second;
    pending_.erase(it);
    if (committed && last > after) confirmed_[last] = after;
  }
  resolved_.notify_all();
}

OwnSeqs::Kind OwnSeqs::ClassifyLocked(uint64_t seq) const {
  // confirmed_ is keyed by the range's last seq: the first range ending at or after
  // `seq` is the only one that can hold it (ranges never overlap).
  auto it = confirmed_.lower_bound(seq);
  if (it != confirmed_.end() && seq > it->second) return Kind::kOwn;
  for (const auto& [token, range] : pending_) {
    if (seq > range.first && seq <= range.second) return Kind::kPending;
  }
  return Kind::kForeign;
}

OwnSeqs::Kind OwnSeqs::Classify(uint64_t seq) const {
  std::lock_guard lock(mu_);
  return ClassifyLocked(seq);
}

bool OwnSeqs::IsOwn(uint64_t seq, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  Kind kind = Kind::kPending;
  resolved_.wait_for(lock, timeout, [&] {
    kind = ClassifyLocked(seq);
    return kind != Kind::kPending;
  });
  return kind == Kind::kOwn;
}

void OwnSeqs::Prune(uint64_t seq) {
  std::lock_guard lock(mu_);
  confirmed_.erase(confirmed_.begin(), confirmed_.upper_bound(seq));
}

}  // namespace kvfs::fs
