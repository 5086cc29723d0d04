#include "fs/dir_cookies.h"

#include <algorithm>
#include <utility>

namespace kvfs::fs {

CookedListing CookListing(store::Ino dir, store::Ino parent, std::vector<store::DirEntry> entries) {
  CookedListing out;
  out.reserve(entries.size() + 2);
  out.push_back({kDotCookie, {".", dir, store::FileType::kDirectory}});
  out.push_back({kDotDotCookie, {"..", parent, store::FileType::kDirectory}});
  for (auto& e : entries) {
    const uint64_t cookie = EntryCookie(e.ino);
    out.push_back({cookie, std::move(e)});
  }
  // Names break ties (hard links in one directory), so they come in the same order
  // every time.
  std::sort(out.begin() + 2, out.end(), [](const CookedEntry& a, const CookedEntry& b) {
    return a.cookie != b.cookie ? a.cookie < b.cookie : a.entry.name < b.entry.name;
  });
  return out;
}

size_t FirstAfter(const CookedListing& listing, uint64_t offset) {
  auto it = std::upper_bound(listing.begin(), listing.end(), offset,
                             [](uint64_t off, const CookedEntry& e) { return off < e.cookie; });
  return static_cast<size_t>(it - listing.begin());
}

size_t CutAt(const CookedListing& listing, size_t from, size_t end) {
  if (end >= listing.size() || end <= from) return end;
  size_t start = end;
  while (start > from && listing[start - 1].cookie == listing[end].cookie) --start;
  return start == from ? end : start;
}

ListingCache::ListingCache(size_t max_listings, size_t max_entries)
    : max_listings_(max_listings), max_entries_(max_entries) {}

std::shared_ptr<const CookedListing> ListingCache::Find(store::Ino dir, uint64_t snapshot) {
  std::lock_guard lock(mu_);
  for (auto it = slots_.begin(); it != slots_.end(); ++it) {
    if (it->dir != dir || it->snapshot != snapshot) continue;
    auto listing = it->listing;
    std::rotate(it, it + 1, slots_.end());  // now the newest
    return listing;
  }
  return nullptr;
}

void ListingCache::Put(store::Ino dir, uint64_t snapshot,
                       std::shared_ptr<const CookedListing> listing) {
  std::lock_guard lock(mu_);
  // Snapshot ids only grow, so an older listing of the same directory is only asked
  // for by a READDIR that began before this one: drop it rather than keep a slot.
  std::erase_if(slots_, [&](const Slot& s) { return s.dir == dir; });
  slots_.push_back({dir, snapshot, std::move(listing)});
  size_t entries = 0;
  for (const Slot& s : slots_) entries += s.listing->size();
  size_t drop = 0;
  while (slots_.size() - drop > 1 &&
         (slots_.size() - drop > max_listings_ || entries > max_entries_)) {
    entries -= slots_[drop].listing->size();
    ++drop;
  }
  slots_.erase(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(drop));
}

}  // namespace kvfs::fs
