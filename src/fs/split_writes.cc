#include "fs/split_writes.h"

namespace kvfs::fs {
namespace {
// The kernel cuts at page-cache folio boundaries, which are multiples of this.
constexpr uint64_t kPage = 4096;
}  // namespace

bool SplitWrites::EndsOnPage(uint64_t offset, uint64_t size) {
  return size > 0 && (offset + size) % kPage == 0;
}

void SplitWrites::BeforeWrite(uint64_t ino, uint64_t offset, uint64_t size) {
  if (!EndsOnPage(offset, size)) return;
  const auto now = options_.now();
  std::lock_guard lock(mu_);
  auto [it, fresh] = holds_.try_emplace(ino, Hold{now, now});
  if (!fresh && now - it->second.since > options_.max_hold) return;  // the cap ran out
  // Held while this piece commits, however long that takes: the settle time counts
  // from the reply, since the kernel sends the next piece only after it.
  it->second.until = Clock::time_point::max();
}

void SplitWrites::AfterWrite(uint64_t ino, uint64_t offset, uint64_t size) {
  std::lock_guard lock(mu_);
  if (!EndsOnPage(offset, size)) {
    holds_.erase(ino);  // the last piece of its write(2)
    return;
  }
  auto it = holds_.find(ino);
  if (it == holds_.end() || it->second.until != Clock::time_point::max()) return;
  it->second.until = options_.now() + options_.settle;  // a next piece may follow
}

void SplitWrites::Released(uint64_t ino) {
  std::lock_guard lock(mu_);
  holds_.erase(ino);
}

bool SplitWrites::Held(uint64_t ino) {
  const auto now = options_.now();
  std::lock_guard lock(mu_);
  auto it = holds_.find(ino);
  if (it == holds_.end()) return false;
  if (now < it->second.until && now - it->second.since <= options_.max_hold) return true;
  // Settled (or held long enough): forget it, so a later run of writes starts a new cap.
  if (now >= it->second.until) holds_.erase(it);
  return false;
}

}  // namespace kvfs::fs
