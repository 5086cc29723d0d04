#include "store/hlc.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace kvfs::store {
namespace {

// Advances (pt, l) by one logical step; an exhausted logical counter borrows a
// millisecond from the future rather than wrapping (which would go backwards).
HlcStamp Next(uint64_t pt, uint64_t logical, uint64_t node) {
  if (logical >= HlcStamp::kLogicalMask) return HlcStamp::Make(pt + 1, 0, node);
  return HlcStamp::Make(pt, static_cast<uint32_t>(logical + 1), node);
}

}  // namespace

HlcStamp HlcTick(uint64_t now_ms, const HlcStamp& last, uint64_t node) {
  const uint64_t last_pt = last.physical_ms();
  if (now_ms > last_pt) return HlcStamp::Make(now_ms, 0, node);
  return Next(last_pt, last.logical(), node);
}

HlcStamp HlcReceive(uint64_t now_ms, const HlcStamp& last, const HlcStamp& remote,
                    uint64_t node) {
  const uint64_t lp = last.physical_ms();
  const uint64_t rp = remote.physical_ms();
  const uint64_t pt = std::max({now_ms, lp, rp});
  if (pt == lp && pt == rp) return Next(pt, std::max(last.logical(), remote.logical()), node);
  if (pt == lp) return Next(pt, last.logical(), node);
  if (pt == rp) return Next(pt, remote.logical(), node);
  return HlcStamp::Make(pt, 0, node);
}

uint64_t WallClockMs() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::string HlcStamp::ToString() const {
  const uint64_t ms = physical_ms();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ/%u/%016llx",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                tm.tm_sec, static_cast<unsigned>(ms % 1000), logical(),
                static_cast<unsigned long long>(node));
  return buf;
}

}  // namespace kvfs::store
