// Name clashes whose conflict name is itself taken: every name the merge materialises
// must be a pure function of the replicated object states, so every peer shows the
// same tree whatever order it learned the objects in, and no entry is ever overwritten
// (which once hid a user's file on the peer that held it).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "store/store.h"
#include "sync/exchange.h"
#include "sync/merge.h"
#include "pump_util.h"
#include "sync_test_util.h"

namespace kvfs::sync {
namespace {

using testing::MakeStore;
using testing::Feed;
using testing::Pump;
using testing::SyncUntilQuiet;
using testing::Scratch;
using testing::Snapshot;
using testing::Tree;
using testing::WriteFile;

HlcStamp NameStamp(store::Store& s, const std::string& path) {
  return testing::InodeAt(s, path).name_stamp;
}

std::string Describe(const Tree& tree) {
  std::string out;
  for (const auto& [path, value] : tree) out += "\n  " + path + " = " + value.substr(0, 40);
  return out;
}

// The contents of the regular files of a tree, sorted.
std::multiset<std::string> Contents(const Tree& tree) {
  std::multiset<std::string> out;
  for (const auto& [path, value] : tree) {
    if (value.rfind("1 ", 0) == 0) out.insert(value.substr(value.find(' ', 2) + 1));
  }
  return out;
}

TEST(DisplacedName, DependsOnlyOnItsInputsAndNeverRepeatsTheName) {
  const ObjectId oid{7, 42};
  const HlcStamp stamp{uint64_t{1763800000000} << 16 | 3, uint64_t{0xabcdef0123456789}};
  const std::string first = DisplacedName("sq", oid, stamp);
  EXPECT_EQ(first, ConflictName("sq", stamp));
  const std::string second = DisplacedName(first, oid, stamp);
  EXPECT_NE(second, first);
  EXPECT_EQ(second.rfind(first + "-", 0), 0u) << second;
  EXPECT_EQ(second.size(), first.size() + 17);
  EXPECT_EQ(second, DisplacedName(first, oid, stamp));
  EXPECT_NE(second, DisplacedName(first, ObjectId{7, 43}, stamp));
  const std::string third = DisplacedName(second, oid, stamp);
  EXPECT_NE(third, second);
  // Names at the length limit stay within it and still move on.
  std::string name(store::kMaxNameLen, 'x');
  std::set<std::string> seen{name};
  for (int i = 0; i < 8; ++i) {
    name = DisplacedName(name, oid, stamp);
    EXPECT_LE(name.size(), store::kMaxNameLen);
    EXPECT_TRUE(seen.insert(name).second) << "name repeated after " << i << " steps: " << name;
  }
}

// integration.sync_conflict round 4 in process: A's 'sq' loses the name to B's later
// 'sq', and A already holds a file named exactly A's conflict name. Applied in every
// order to a fresh store, and exchanged between real stores in both directions, the
// result must be one tree with all three files visible.
TEST(NameClash, TakenConflictNameGivesOneTreeInEveryOrder) {
  Scratch dir;
  auto a = MakeStore(dir.path() + "/a");
  auto b = MakeStore(dir.path() + "/b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(WriteFile(*a, "sq", "sq of A").ok());
  const HlcStamp a_stamp = NameStamp(*a, "sq");
  // Two stores' clocks written in one millisecond tie on time; let it move on.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(WriteFile(*b, "sq", "sq of B").ok());  // later: B's keeps the name
  ASSERT_GT(NameStamp(*b, "sq"), a_stamp);
  const std::string taken = ConflictName("sq", a_stamp);
  ASSERT_TRUE(WriteFile(*a, taken, "squatter on A").ok());
  const std::multiset<std::string> want{"sq of A", "sq of B", "squatter on A"};

  struct Item {
    uint64_t from;
    OutgoingObject obj;
  };
  std::vector<Item> items;
  for (auto* s : {a.get(), b.get()}) {
    for (auto& o : Feed(*s)) {
      if (o.state.type == store::FileType::kRegular) items.push_back({s->node_id(), std::move(o)});
    }
  }
  ASSERT_EQ(items.size(), 3u);

  std::vector<size_t> order{0, 1, 2};
  std::optional<Tree> first;
  int n = 0;
  do {
    auto fresh = MakeStore(dir.path() + "/perm" + std::to_string(n++));
    ASSERT_TRUE(fresh);
    std::string applied_order;
    for (size_t i : order) {
      Inbox in(*fresh, items[i].from);
      auto r = in.Apply(items[i].obj);
      ASSERT_TRUE(r.ok()) << r.status().message();
      applied_order += " " + std::to_string(i);
    }
    const Tree tree = Snapshot(*fresh);
    EXPECT_EQ(Contents(tree), want) << "order" << applied_order << ":" << Describe(tree);
    ASSERT_TRUE(tree.count("sq")) << Describe(tree);
    EXPECT_EQ(tree.at("sq"), "1 420 sq of B");
    if (!first) {
      first = tree;
    } else {
      EXPECT_EQ(tree, *first) << "order" << applied_order << " gave" << Describe(tree)
                              << "\nthe first order gave" << Describe(*first);
    }
  } while (std::next_permutation(order.begin(), order.end()));

  // Real exchanges: A and B directly, C learning A first, D learning B first.
  auto c = MakeStore(dir.path() + "/c");
  auto d = MakeStore(dir.path() + "/d");
  ASSERT_TRUE(c && d);
  Pump(*a, *c);
  Pump(*b, *c);
  Pump(*b, *d);
  Pump(*a, *d);
  SyncUntilQuiet({a.get(), b.get(), c.get(), d.get()});
  const Tree ta = Snapshot(*a);
  EXPECT_EQ(Contents(ta), want) << Describe(ta);
  EXPECT_EQ(Snapshot(*b), ta) << "B:" << Describe(Snapshot(*b)) << "\nA:" << Describe(ta);
  EXPECT_EQ(Snapshot(*c), ta) << "C:" << Describe(Snapshot(*c)) << "\nA:" << Describe(ta);
  EXPECT_EQ(Snapshot(*d), ta) << "D:" << Describe(Snapshot(*d)) << "\nA:" << Describe(ta);
  EXPECT_EQ(ta, *first) << "exchanged:" << Describe(ta) << "\napplied:" << Describe(*first);
}

// The same clash with the squatter minted on the winner's side: B holds a file named
// A's conflict name before A's 'sq' arrives there.
TEST(NameClash, TakenConflictNameOnTheWinnersSide) {
  Scratch dir;
  auto a = MakeStore(dir.path() + "/a");
  auto b = MakeStore(dir.path() + "/b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(WriteFile(*a, "sq", "sq of A").ok());
  const HlcStamp a_stamp = NameStamp(*a, "sq");
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(WriteFile(*b, "sq", "sq of B").ok());
  ASSERT_GT(NameStamp(*b, "sq"), a_stamp);
  ASSERT_TRUE(WriteFile(*b, ConflictName("sq", a_stamp), "squatter on B").ok());
  ASSERT_TRUE(WriteFile(*a, "other", "other of A").ok());
  SyncUntilQuiet({a.get(), b.get()});
  const Tree ta = Snapshot(*a);
  EXPECT_EQ(Contents(ta), (std::multiset<std::string>{"sq of A", "sq of B", "squatter on B",
                                                      "other of A"}))
      << Describe(ta);
  EXPECT_EQ(Snapshot(*b), ta) << "B:" << Describe(Snapshot(*b)) << "\nA:" << Describe(ta);
}

}  // namespace
}  // namespace kvfs::sync
