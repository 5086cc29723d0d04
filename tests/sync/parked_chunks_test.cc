// An object whose parent has not arrived yet is parked, with the bytes it came with
// staged, and the sender's cursor moves past it: nobody sends that version again. So
// another peer's version of the same object that arrives meanwhile must neither drop
// those bytes nor replace the parked version.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "store/store.h"
#include "sync/exchange.h"
#include "pump_util.h"
#include "sync_test_util.h"

namespace kvfs::sync {
namespace {

using testing::Feed;
using testing::MakeStore;
using testing::Pump;
using testing::ReadFile;
using testing::Scratch;
using testing::Snapshot;
using testing::WriteFile;

TEST(ParkedChunksTest, AnOlderCopyFromAnotherPeerLeavesTheParkedVersionsBytes) {
  Scratch dir;
  auto b = MakeStore(dir.path() + "/b");
  auto c = MakeStore(dir.path() + "/c");
  auto r = MakeStore(dir.path() + "/r");
  ASSERT_TRUE(b && c && r);
  ASSERT_TRUE(WriteFile(*b, "d/f", "v1").ok());
  Pump(*b, *c);
  Pump(*b, *r);

  // On B, f moves into a new directory and gets new bytes.
  ASSERT_TRUE(WriteFile(*b, "e/g", "g").ok());
  ASSERT_TRUE(b->Update([](store::WriteTxn& t) -> Status {
                 KVFS_ASSIGN_OR_RETURN(store::Inode d, t.Resolve("d"));
                 KVFS_ASSIGN_OR_RETURN(store::Inode e, t.Resolve("e"));
                 return t.Rename(d.ino, "f", e.ino, "f").status();
               }).ok());
  ASSERT_TRUE(WriteFile(*b, "e/f", "v2").ok());

  // R gets f's new version before its directory: parked.
  Inbox from_b(*r, b->node_id());
  std::vector<OutgoingObject> b_feed = Feed(*b);
  const ObjectId f_oid = [&] {
    for (const OutgoingObject& o : Feed(*c)) {
      if (!o.state.links.empty() && o.state.links.front().name == "f") return o.state.oid;
    }
    return ObjectId{};
  }();
  auto is_f = [&](const OutgoingObject& o) { return o.state.oid == f_oid; };
  auto f_new = std::find_if(b_feed.begin(), b_feed.end(), is_f);
  ASSERT_NE(f_new, b_feed.end());
  auto parked = from_b.Apply(*f_new);
  ASSERT_TRUE(parked.ok()) << parked.status().message();
  ASSERT_TRUE(parked->parked);

  // Meanwhile C relays the version R already has.
  std::vector<OutgoingObject> c_feed = Feed(*c);
  auto f_old = std::find_if(c_feed.begin(), c_feed.end(), is_f);
  ASSERT_NE(f_old, c_feed.end());
  auto relayed = Inbox(*r, c->node_id()).Apply(*f_old);
  ASSERT_TRUE(relayed.ok()) << relayed.status().message();
  EXPECT_FALSE(relayed->changed);

  // Then the rest of B's feed, the directory included: the parked version comes in.
  for (const OutgoingObject& o : b_feed) {
    if (is_f(o)) continue;
    auto applied = from_b.Apply(o);
    ASSERT_TRUE(applied.ok()) << applied.status().message();
  }
  auto bytes = ReadFile(*r, "e/f");
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_EQ(*bytes, "v2");
  EXPECT_EQ(Snapshot(*r), Snapshot(*b));
}


TEST(ParkedChunksTest, AnOlderVersionParkedLaterDoesNotReplaceTheParkedOne) {
  Scratch dir;
  auto b = MakeStore(dir.path() + "/b");
  auto c = MakeStore(dir.path() + "/c");
  auto r = MakeStore(dir.path() + "/r");
  ASSERT_TRUE(b && c && r);
  ASSERT_TRUE(WriteFile(*b, "d/f", "v1").ok());
  Pump(*b, *c);
  ASSERT_TRUE(WriteFile(*b, "d/f", "v2").ok());

  // R knows neither d nor f: B's version of f is parked, then C's older one.
  std::vector<OutgoingObject> b_feed = Feed(*b);
  auto is_f = [](const OutgoingObject& o) {
    return !o.state.links.empty() && o.state.links.front().name == "f";
  };
  auto f_new = std::find_if(b_feed.begin(), b_feed.end(), is_f);
  ASSERT_NE(f_new, b_feed.end());
  Inbox from_b(*r, b->node_id());
  auto parked = from_b.Apply(*f_new);
  ASSERT_TRUE(parked.ok()) << parked.status().message();
  ASSERT_TRUE(parked->parked);
  std::vector<OutgoingObject> c_feed = Feed(*c);
  auto f_old = std::find_if(c_feed.begin(), c_feed.end(), is_f);
  ASSERT_NE(f_old, c_feed.end());
  auto parked_too = Inbox(*r, c->node_id()).Apply(*f_old);
  ASSERT_TRUE(parked_too.ok()) << parked_too.status().message();
  ASSERT_TRUE(parked_too->parked);

  for (const OutgoingObject& o : b_feed) {
    if (is_f(o)) continue;
    auto applied = from_b.Apply(o);
    ASSERT_TRUE(applied.ok()) << applied.status().message();
  }
  auto bytes = ReadFile(*r, "d/f");
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_EQ(*bytes, "v2");
  // B's cursor has passed f: this sends nothing that could repair it.
  Pump(*b, *r);
  EXPECT_EQ(Snapshot(*r), Snapshot(*b));
}

TEST(ParkedChunksTest, ConcurrentVersionsParkedTogetherBothSurvive) {
  Scratch dir;
  auto b = MakeStore(dir.path() + "/b");
  auto c = MakeStore(dir.path() + "/c");
  auto r = MakeStore(dir.path() + "/r");
  ASSERT_TRUE(b && c && r);
  ASSERT_TRUE(WriteFile(*b, "d/f", "v1").ok());
  Pump(*b, *c);
  ASSERT_TRUE(WriteFile(*b, "d/f", "on b").ok());
  ASSERT_TRUE(WriteFile(*c, "d/f", "on c").ok());

  // Both edits reach R before d: both are parked, and neither may swallow the other
  // (a join would keep one version's bytes and mark the other as seen).
  auto is_f = [](const OutgoingObject& o) {
    return !o.state.links.empty() && o.state.links.front().name == "f";
  };
  std::vector<OutgoingObject> b_feed = Feed(*b);
  std::vector<OutgoingObject> c_feed = Feed(*c);
  auto f_b = std::find_if(b_feed.begin(), b_feed.end(), is_f);
  auto f_c = std::find_if(c_feed.begin(), c_feed.end(), is_f);
  ASSERT_NE(f_b, b_feed.end());
  ASSERT_NE(f_c, c_feed.end());
  Inbox from_b(*r, b->node_id());
  auto parked = from_b.Apply(*f_b);
  ASSERT_TRUE(parked.ok()) << parked.status().message();
  ASSERT_TRUE(parked->parked);
  auto parked_too = Inbox(*r, c->node_id()).Apply(*f_c);
  ASSERT_TRUE(parked_too.ok()) << parked_too.status().message();
  ASSERT_TRUE(parked_too->parked);
  for (const OutgoingObject& o : b_feed) {
    if (is_f(o)) continue;
    auto applied = from_b.Apply(o);
    ASSERT_TRUE(applied.ok()) << applied.status().message();
  }

  std::multiset<std::string> contents;
  for (const auto& [path, entry] : Snapshot(*r)) {
    if (path.rfind("d/f", 0) == 0) contents.insert(entry);
  }
  EXPECT_EQ(contents, (std::multiset<std::string>{"1 420 on b", "1 420 on c"}))
      << "the file and its conflict copy, one per edit";
}

}  // namespace
}  // namespace kvfs::sync
