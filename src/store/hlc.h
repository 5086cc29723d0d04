#pragma once
// Hybrid logical clock (Kulkarni et al. 2014).
//
// A stamp is (physical milliseconds, logical counter, node id). It orders every
// change in the system totally and deterministically: compare time first, then the
// node id. The functions here are pure: the caller supplies the wall clock reading
// and the last stamp it issued, and persists the result (the store keeps the last
// stamp in its meta table inside every write transaction, so a restart, or another
// process writing the same store, never reissues or goes behind a stamp).

#include <compare>
#include <cstdint>
#include <string>

namespace kvfs::store {

struct HlcStamp {
  // (physical ms << 16) | logical. Packing both into one integer keeps comparison,
  // encoding and the "never backwards" rule simple.
  uint64_t time = 0;
  uint64_t node = 0;

  static constexpr int kLogicalBits = 16;
  static constexpr uint64_t kLogicalMask = (uint64_t{1} << kLogicalBits) - 1;

  uint64_t physical_ms() const { return time >> kLogicalBits; }
  uint32_t logical() const { return static_cast<uint32_t>(time & kLogicalMask); }
  bool IsZero() const { return time == 0 && node == 0; }

  static HlcStamp Make(uint64_t physical_ms, uint32_t logical, uint64_t node) {
    return HlcStamp{(physical_ms << kLogicalBits) | (logical & kLogicalMask), node};
  }

  friend auto operator<=>(const HlcStamp&, const HlcStamp&) = default;

  // "2026-11-22T17:18:00.123Z/5/00000000deadbeef": readable and sortable.
  std::string ToString() const;
};

// The stamp for a local event: strictly greater than `last`, and at least `now_ms`.
HlcStamp HlcTick(uint64_t now_ms, const HlcStamp& last, uint64_t node);

// The clock after receiving `remote`: strictly greater than both `last` and `remote`.
HlcStamp HlcReceive(uint64_t now_ms, const HlcStamp& last, const HlcStamp& remote,
                    uint64_t node);

// Milliseconds since the Unix epoch from the system's real-time clock.
uint64_t WallClockMs();

}  // namespace kvfs::store
