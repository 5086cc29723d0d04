#include "fs/dir_cookies.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace kvfs::fs {
namespace {

std::vector<store::DirEntry> Names(int n, const std::string& prefix = "f") {
  std::vector<store::DirEntry> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(
        {prefix + std::to_string(i), static_cast<store::Ino>(100 + i), store::FileType::kRegular});
  }
  return out;
}

// Lists `dir` the way the kernel does, `batch` entries per READDIR, calling
// `between(round)` before each READDIR after the first (the directory may change
// there). Returns every name in the order it was listed.
std::vector<std::string> ListInBatches(const std::function<CookedListing()>& current, size_t batch,
                                       const std::function<void(int)>& between = {}) {
  std::vector<std::string> seen;
  uint64_t offset = 0;
  for (int round = 0;; ++round) {
    if (round > 0 && between) between(round);
    const CookedListing listing = current();
    const size_t from = FirstAfter(listing, offset);
    const size_t end = CutAt(listing, from, std::min(listing.size(), from + batch));
    if (from == end) return seen;
    for (size_t i = from; i < end; ++i) seen.push_back(listing[i].entry.name);
    offset = listing[end - 1].cookie;
  }
}

TEST(DirCookiesTest, ListingStartsWithTheDotsThenGoesInInodeOrder) {
  std::vector<store::DirEntry> entries = {{"b", 40, store::FileType::kRegular},
                                          {"a", 12, store::FileType::kDirectory},
                                          {"c", 2, store::FileType::kSymlink}};
  const CookedListing l = CookListing(7, 3, entries);
  ASSERT_EQ(l.size(), 5u);
  EXPECT_EQ(l[0].entry.name, ".");
  EXPECT_EQ(l[0].entry.ino, 7u);
  EXPECT_EQ(l[0].cookie, kDotCookie);
  EXPECT_EQ(l[1].entry.name, "..");
  EXPECT_EQ(l[1].entry.ino, 3u);
  EXPECT_EQ(l[1].cookie, kDotDotCookie);
  // ino 2 gets cookie 4: no entry can take the dots' cookies.
  EXPECT_EQ(l[2].entry.name, "c");
  EXPECT_EQ(l[2].cookie, 4u);
  EXPECT_EQ(l[3].entry.name, "a");
  EXPECT_EQ(l[4].entry.name, "b");
  EXPECT_EQ(l[4].entry.type, store::FileType::kRegular);
  EXPECT_EQ(l[4].cookie, 42u);
}

TEST(DirCookiesTest, FirstAfterResumesAfterTheLastCookieSent) {
  const CookedListing l = CookListing(7, 3, Names(20));
  EXPECT_EQ(FirstAfter(l, 0), 0u);
  EXPECT_EQ(FirstAfter(l, kDotCookie), 1u);
  for (size_t i = 0; i < l.size(); ++i) EXPECT_EQ(FirstAfter(l, l[i].cookie), i + 1);
  EXPECT_EQ(FirstAfter(l, UINT64_MAX >> 1), l.size());
}

TEST(DirCookiesTest, EveryEntryThatStaysIsListedOnceWhileOthersComeAndGo) {
  std::map<std::string, store::DirEntry> dir;
  for (auto& e : Names(300)) dir[e.name] = e;
  std::set<std::string> removed;
  std::set<std::string> added;
  store::Ino next_ino = 5000;
  auto current = [&] {
    std::vector<store::DirEntry> entries;
    for (const auto& [name, e] : dir) entries.push_back(e);
    return CookListing(1, 1, entries);
  };
  // Between the first 10 batches, remove 10 names (some already listed, some not)
  // and add 10 (new inodes: they come after the reader's position).
  auto churn = [&](int round) {
    if (round > 10) return;
    int n = 0;
    for (auto it = dir.begin(); it != dir.end() && n < 10; ++n) {
      std::advance(it, std::min<size_t>(7, std::distance(it, dir.end()) - 1));
      removed.insert(it->first);
      it = dir.erase(it);
    }
    for (int i = 0; i < 10; ++i) {
      const std::string name = "new" + std::to_string(round) + "_" + std::to_string(i);
      dir[name] = {name, next_ino++, store::FileType::kRegular};
      added.insert(name);
    }
  };
  const std::vector<std::string> seen = ListInBatches(current, 16, churn);
  std::map<std::string, int> count;
  for (const auto& name : seen) ++count[name];
  for (const auto& e : Names(300)) {
    if (removed.count(e.name)) continue;
    EXPECT_EQ(count[e.name], 1) << e.name << " stayed in the directory throughout";
  }
  for (const auto& [name, n] : count) EXPECT_EQ(n, 1) << name << " was listed twice";
  EXPECT_EQ(count["."], 1);
  EXPECT_EQ(count[".."], 1);
}

TEST(DirCookiesTest, HardLinksInOneDirectoryAreNeverSplitAcrossReplies) {
  // Three names of ino 20 share cookie 22.
  const CookedListing l = CookListing(1, 1,
                                      {{"x", 10, store::FileType::kRegular},
                                       {"l3", 20, store::FileType::kRegular},
                                       {"l1", 20, store::FileType::kRegular},
                                       {"l2", 20, store::FileType::kRegular},
                                       {"y", 30, store::FileType::kRegular}});
  ASSERT_EQ(l.size(), 7u);
  EXPECT_EQ(l[3].entry.name, "l1") << "names order equal cookies";
  EXPECT_EQ(l[5].entry.name, "l3");
  EXPECT_EQ(CutAt(l, 0, 4), 3u) << "a reply that would end inside the links stops before them";
  EXPECT_EQ(CutAt(l, 0, 5), 3u);
  EXPECT_EQ(CutAt(l, 0, 6), 6u) << "one that ends after all three keeps them";
  EXPECT_EQ(CutAt(l, 0, 3), 3u) << "one that ends before them keeps all it has";
  EXPECT_EQ(CutAt(l, 3, 5), 5u) << "links that start the reply are sent as far as they fit";
  EXPECT_EQ(CutAt(l, 0, l.size()), l.size());
  // Listed in replies of 4: the cut makes the first reply 3 long, and each name
  // comes exactly once.
  const std::vector<std::string> seen = ListInBatches([&] { return l; }, 4);
  EXPECT_EQ(seen, (std::vector<std::string>{".", "..", "x", "l1", "l2", "l3", "y"}));
}

TEST(ListingCacheTest, FindsOnlyTheSameDirectoryAndSnapshot) {
  ListingCache cache;
  auto l = std::make_shared<const CookedListing>(CookListing(5, 1, Names(3)));
  cache.Put(5, 42, l);
  EXPECT_EQ(cache.Find(5, 42), l);
  EXPECT_EQ(cache.Find(5, 43), nullptr) << "a later snapshot may differ";
  EXPECT_EQ(cache.Find(6, 42), nullptr);
  cache.Put(5, 43, std::make_shared<const CookedListing>(CookListing(5, 1, Names(4))));
  EXPECT_EQ(cache.Find(5, 42), nullptr) << "a newer listing of the directory replaces it";
  ASSERT_NE(cache.Find(5, 43), nullptr);
  EXPECT_EQ(cache.Find(5, 43)->size(), 6u);
}

TEST(ListingCacheTest, KeepsAtMostTheLimitsButAlwaysTheNewest) {
  ListingCache cache(/*max_listings=*/3, /*max_entries=*/100);
  for (store::Ino dir = 1; dir <= 4; ++dir) {
    cache.Put(dir, 1, std::make_shared<const CookedListing>(CookListing(dir, 1, Names(10))));
  }
  EXPECT_EQ(cache.Find(1, 1), nullptr) << "the oldest of four went";
  EXPECT_NE(cache.Find(2, 1), nullptr);
  EXPECT_NE(cache.Find(4, 1), nullptr);
  // 3 is now the least recently used. A listing of 92 entries puts the total over
  // 100, and the older listings go, least recent first, until only it is left.
  cache.Put(9, 1, std::make_shared<const CookedListing>(CookListing(9, 1, Names(90))));
  EXPECT_EQ(cache.Find(3, 1), nullptr);
  EXPECT_EQ(cache.Find(2, 1), nullptr);
  EXPECT_EQ(cache.Find(4, 1), nullptr);
  EXPECT_NE(cache.Find(9, 1), nullptr);
  cache.Put(10, 1, std::make_shared<const CookedListing>(CookListing(10, 1, Names(500))));
  EXPECT_NE(cache.Find(10, 1), nullptr) << "the newest stays even over the entry limit";
  EXPECT_EQ(cache.Find(9, 1), nullptr);
}

}  // namespace
}  // namespace kvfs::fs
