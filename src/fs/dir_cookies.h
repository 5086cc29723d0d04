#pragma once
// Directory offsets that need no open handle.
//
// The kernel is told that opendir is not needed (FUSE_CAP_NO_OPENDIR_SUPPORT), which
// saves an OPENDIR and a RELEASEDIR round trip per directory walked (two of the five
// requests `find` makes per directory). READDIR then carries only the directory and
// the offset ("cookie") of the last entry the reader got, so the offset itself must
// say where to go on, also when entries were added or removed since.
//
// Each entry's cookie is its inode number plus 2 ("." is 1, ".." is 2), and a
// listing goes out in cookie order: "go on after cookie C" is "the entries whose
// cookie is above C". An entry that stays in the directory keeps its inode, so it
// is listed exactly once, whatever else changes between the calls. Inode order is
// creation order, which is also the order of the store's inode records and content
// keys, so a cold `grep -r` reads the store's pages in order (name-hash order, tried
// first, scatters them). Hard links to one inode in one directory share a cookie;
// such a group is never split across two replies (CutAt).
//
// Sorting a directory for every READDIR would make a large directory quadratic to
// list, so sorted listings are cached by (directory, store snapshot): the same LMDB
// snapshot id means the same content, so a cached listing is never stale.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "store/types.h"

namespace kvfs::fs {

inline constexpr uint64_t kDotCookie = 1;
inline constexpr uint64_t kDotDotCookie = 2;

// The cookie of an entry other than "." and "..": above both, and below 2^63 (the
// kernel's offsets are signed) for any inode number the store hands out.
constexpr uint64_t EntryCookie(store::Ino ino) { return ino + 2; }

struct CookedEntry {
  uint64_t cookie = 0;
  store::DirEntry entry;
};

// A directory's entries with "." and "..", in cookie order.
using CookedListing = std::vector<CookedEntry>;

CookedListing CookListing(store::Ino dir, store::Ino parent, std::vector<store::DirEntry> entries);

// Index of the first entry whose cookie is above `offset` (listing.size() if none).
size_t FirstAfter(const CookedListing& listing, uint64_t offset);

// A reply holds entries [from, end) when the entry at `end` did not fit. If `end`
// splits a group of equal cookies, returns the group's start, so that no entry of
// the group is skipped when the reader goes on after the last cookie sent; `from`
// when the group began the reply (it cannot be split then: send what fit).
size_t CutAt(const CookedListing& listing, size_t from, size_t end);

// Recently sorted listings, keyed by directory and store snapshot id. Thread-safe.
class ListingCache {
 public:
  // Holds at most `max_listings` listings and, beyond the newest one, at most
  // `max_entries` entries in all.
  explicit ListingCache(size_t max_listings = 16, size_t max_entries = size_t{1} << 20);

  std::shared_ptr<const CookedListing> Find(store::Ino dir, uint64_t snapshot);
  void Put(store::Ino dir, uint64_t snapshot, std::shared_ptr<const CookedListing> listing);

 private:
  struct Slot {
    store::Ino dir = 0;
    uint64_t snapshot = 0;
    std::shared_ptr<const CookedListing> listing;
  };
  const size_t max_listings_;
  const size_t max_entries_;
  std::mutex mu_;
  std::vector<Slot> slots_;  // guarded by mu_; newest last
};

}  // namespace kvfs::fs
