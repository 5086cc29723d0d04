#include "fs/read_ahead.h"

#include <algorithm>

namespace kvfs::fs {

ReadAhead::Range ReadAhead::OnRead(uint64_t ino, uint64_t offset, uint64_t size) {
  const uint64_t end = offset + size;
  std::lock_guard lock(mu_);
  Stream& s = streams_[ino % kStreams];
  const bool goes_on = s.ino == ino && size > 0 && offset <= s.next + kSlack &&
                       end + kSlack >= s.next;
  if (!goes_on) {
    s = Stream{ino, end, 0, end};
    return {};
  }
  s.window = s.window == 0 ? kFirstWindow : std::min(s.window * 2, kMaxWindow);
  s.next = std::max(s.next, end);
  Range r{std::max(s.asked_to, s.next), s.next + s.window};
  if (r.empty()) return {};
  s.asked_to = r.to;
  return r;
}

}  // namespace kvfs::fs
