#include "fs/deferred_unlinks.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

namespace kvfs::fs {

DeferredUnlinks::DeferredUnlinks(CommitFn commit) : commit_(std::move(commit)) {}

DeferredUnlinks::~DeferredUnlinks() { Stop(); }

void DeferredUnlinks::Add(PendingUnlink unlink) {
  std::unique_lock lock(mu_);
  outstanding_.fetch_add(1);
  if (stopping_) {
    // After Stop nobody would commit it later: commit it now, in order after the rest.
    changed_.wait(lock, [&] { return !committing_; });
    std::vector<PendingUnlink> batch{std::move(unlink)};
    in_flight_ = batch;
    committing_ = true;
    lock.unlock();
    CommitBatch(batch);
    return;
  }
  queued_.push_back(std::move(unlink));
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
}

void DeferredUnlinks::Kick() { changed_.notify_all(); }

void DeferredUnlinks::WaitIdle() {
  if (outstanding_.load() == 0) return;
  std::unique_lock lock(mu_);
  changed_.notify_all();  // in case the Kick for what is queued has not come yet
  changed_.wait(lock, [&] { return queued_.empty() && !committing_; });
}

template <typename Match>
const PendingUnlink* DeferredUnlinks::FindLast(Match match) const {
  // queued_ holds the later ones; in_flight_ is the batch before them.
  for (const auto* list : {&queued_, &in_flight_}) {
    for (auto it = list->rbegin(); it != list->rend(); ++it) {
      if (match(*it)) return &*it;
    }
  }
  return nullptr;
}

bool DeferredUnlinks::Pending(store::Ino parent, std::string_view name) const {
  if (outstanding_.load() == 0) return false;
  std::lock_guard lock(mu_);
  return FindLast([&](const PendingUnlink& u) { return u.parent == parent && u.name == name; });
}

bool DeferredUnlinks::Removes(store::Ino ino) const {
  if (outstanding_.load() == 0) return false;
  std::lock_guard lock(mu_);
  return FindLast([&](const PendingUnlink& u) { return u.ino == ino; });
}

std::optional<store::Timespec> DeferredUnlinks::DirTimeAfter(store::Ino dir) const {
  if (outstanding_.load() == 0) return std::nullopt;
  std::lock_guard lock(mu_);
  const PendingUnlink* last = FindLast([&](const PendingUnlink& u) { return u.parent == dir; });
  if (last == nullptr) return std::nullopt;
  return last->answered_at;
}

void DeferredUnlinks::Stop() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  changed_.notify_all();
  if (!thread_.joinable()) return;
  lock.unlock();
  thread_.join();  // Run() commits what is queued before it returns
}

size_t DeferredUnlinks::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

void DeferredUnlinks::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    changed_.wait(lock, [&] { return !queued_.empty() || stopping_; });
    if (queued_.empty()) return;  // stopping, and nothing left
    std::vector<PendingUnlink> batch;
    batch.swap(queued_);
    in_flight_ = batch;
    committing_ = true;
    lock.unlock();
    CommitBatch(batch);
    lock.lock();
  }
}

void DeferredUnlinks::CommitBatch(std::vector<PendingUnlink>& batch) {
  try {
    commit_(batch);
  } catch (const std::exception& e) {
    // The unlinks were answered already; all that is left is to say they did not land.
    spdlog::error("{} answered unlinks were not committed ({}); those files are still there",
                  batch.size(), e.what());
  }
  std::lock_guard lock(mu_);
  in_flight_.clear();
  committing_ = false;
  ++batches_;
  outstanding_.fetch_sub(batch.size());
  changed_.notify_all();
}

}  // namespace kvfs::fs
