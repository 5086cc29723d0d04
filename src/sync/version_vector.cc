#include <algorithm>

#include "sync/object_state.h"

namespace kvfs::sync {
namespace {

uint64_t CounterOf(const VersionVector& v, uint64_t node) {
  auto it = std::lower_bound(v.begin(), v.end(), node,
                             [](const store::VersionSlot& s, uint64_t n) { return s.node < n; });
  return it != v.end() && it->node == node ? it->counter : 0;
}

}  // namespace

VvOrder Compare(const VersionVector& a, const VersionVector& b) {
  bool a_ahead = false, b_ahead = false;
  for (const auto& s : a) {
    if (s.counter > CounterOf(b, s.node)) a_ahead = true;
  }
  for (const auto& s : b) {
    if (s.counter > CounterOf(a, s.node)) b_ahead = true;
  }
  if (a_ahead && b_ahead) return VvOrder::kConcurrent;
  if (a_ahead) return VvOrder::kAfter;
  if (b_ahead) return VvOrder::kBefore;
  return VvOrder::kEqual;
}

bool Dominates(const VersionVector& a, const VersionVector& b) {
  VvOrder o = Compare(a, b);
  return o == VvOrder::kEqual || o == VvOrder::kAfter;
}

VersionVector Join(const VersionVector& a, const VersionVector& b) {
  VersionVector out;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].node < b[j].node)) {
      out.push_back(a[i++]);
    } else if (i == a.size() || b[j].node < a[i].node) {
      out.push_back(b[j++]);
    } else {
      out.push_back({a[i].node, std::max(a[i].counter, b[j].counter)});
      ++i;
      ++j;
    }
  }
  return out;
}

bool ObjectState::IsDeleted() const {
  return !delete_stamp.IsZero() && delete_stamp > name_stamp &&
         Dominates(delete_versions, content_versions);
}

void ObjectState::Canonicalize() {
  if (type == FileType::kRegular && IsDeleted()) {
    size = 0;
    chunks.clear();
  }
}

HlcStamp ObjectState::LatestStamp() const {
  return std::max({name_stamp, delete_stamp, attr_stamp, times_stamp, xattr_stamp, content_stamp});
}

}  // namespace kvfs::sync
