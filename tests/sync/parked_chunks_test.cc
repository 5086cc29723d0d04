// An object whose parent has not arrived yet is parked, with the bytes it came with
// staged, and the sender's cursor moves past it: nobody sends that version again. So
// another peer's version of the same object that arrives meanwhile must neither drop
// those bytes nor replace the parked version.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "pump_util.h"
#include "store/store.h"
#include "sync/exchange.h"
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

using Objects = std::vector<OutgoingObject>;
using Pred = std::function<bool(const OutgoingObject&)>;

bool NamedF(const OutgoingObject& o) {
  return !o.state.links.empty() && o.state.links.front().name == "f";
}

// The first object of `feed` that `pred` picks, or null.
const OutgoingObject* FindIn(const Objects& feed, const Pred& pred) {
  auto it = std::find_if(feed.begin(), feed.end(), pred);
  return it == feed.end() ? nullptr : &*it;
}

// Applies `o` through `inbox` and asserts that it was parked.
void ApplyParked(Inbox& inbox, const OutgoingObject* o) {
  ASSERT_NE(o, nullptr) << "the object is not in the feed";
  auto applied = inbox.Apply(*o);
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  ASSERT_TRUE(applied->parked);
}

// Applies every object of `feed` that `skip` does not pick.
void ApplyAllBut(Inbox& inbox, const Objects& feed, const Pred& skip) {
  for (const OutgoingObject& o : feed) {
    if (skip(o)) continue;
    auto applied = inbox.Apply(o);
    ASSERT_TRUE(applied.ok()) << applied.status().message();
  }
}

// Two peers B and C, and R that receives from both.
class ParkedChunksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    b_ = MakeStore(dir_.path() + "/b");
    c_ = MakeStore(dir_.path() + "/c");
    r_ = MakeStore(dir_.path() + "/r");
    ASSERT_TRUE(b_ && c_ && r_);
  }

  // R gets B's version of f, then C's, both parked (R lacks f's directory), then
  // the rest of B's feed.
  void ParkFFromBothThenApplyTheRestOfB() {
    const Objects b_feed = Feed(*b_), c_feed = Feed(*c_);
    Inbox from_b(*r_, b_->node_id()), from_c(*r_, c_->node_id());
    ASSERT_NO_FATAL_FAILURE(ApplyParked(from_b, FindIn(b_feed, NamedF)));
    ASSERT_NO_FATAL_FAILURE(ApplyParked(from_c, FindIn(c_feed, NamedF)));
    ASSERT_NO_FATAL_FAILURE(ApplyAllBut(from_b, b_feed, NamedF));
  }

  Scratch dir_;
  std::unique_ptr<store::Store> b_, c_, r_;
};

TEST_F(ParkedChunksTest, AnOlderCopyFromAnotherPeerLeavesTheParkedVersionsBytes) {
  store::Store &b = *b_, &c = *c_, &r = *r_;
  ASSERT_TRUE(WriteFile(b, "d/f", "v1").ok());
  Pump(b, c);
  Pump(b, r);

  // On B, f moves into a new directory and gets new bytes.
  ASSERT_TRUE(WriteFile(b, "e/g", "g").ok());
  ASSERT_TRUE(b.Update([](store::WriteTxn& t) -> Status {
                 KVFS_ASSIGN_OR_RETURN(store::Inode d, t.Resolve("d"));
                 KVFS_ASSIGN_OR_RETURN(store::Inode e, t.Resolve("e"));
                 return t.Rename(d.ino, "f", e.ino, "f").status();
               }).ok());
  ASSERT_TRUE(WriteFile(b, "e/f", "v2").ok());

  // R gets f's new version before its directory: parked.
  Inbox from_b(r, b.node_id());
  const Objects b_feed = Feed(b), c_feed = Feed(c);
  const OutgoingObject* f_on_c = FindIn(c_feed, NamedF);
  ASSERT_NE(f_on_c, nullptr);
  const ObjectId f_oid = f_on_c->state.oid;
  const Pred is_f = [&](const OutgoingObject& o) { return o.state.oid == f_oid; };
  ASSERT_NO_FATAL_FAILURE(ApplyParked(from_b, FindIn(b_feed, is_f)));

  // Meanwhile C relays the version R already has.
  auto relayed = Inbox(r, c.node_id()).Apply(*f_on_c);
  ASSERT_TRUE(relayed.ok()) << relayed.status().message();
  EXPECT_FALSE(relayed->changed);

  // Then the rest of B's feed, the directory included: the parked version comes in.
  ASSERT_NO_FATAL_FAILURE(ApplyAllBut(from_b, b_feed, is_f));
  auto bytes = ReadFile(r, "e/f");
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_EQ(*bytes, "v2");
  EXPECT_EQ(Snapshot(r), Snapshot(b));
}

TEST_F(ParkedChunksTest, AnOlderVersionParkedLaterDoesNotReplaceTheParkedOne) {
  store::Store &b = *b_, &c = *c_, &r = *r_;
  ASSERT_TRUE(WriteFile(b, "d/f", "v1").ok());
  Pump(b, c);
  ASSERT_TRUE(WriteFile(b, "d/f", "v2").ok());

  // R knows neither d nor f: B's version of f is parked, then C's older one.
  ASSERT_NO_FATAL_FAILURE(ParkFFromBothThenApplyTheRestOfB());
  auto bytes = ReadFile(r, "d/f");
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_EQ(*bytes, "v2");
  // B's cursor has passed f: this sends nothing that could repair it.
  Pump(b, r);
  EXPECT_EQ(Snapshot(r), Snapshot(b));
}

TEST_F(ParkedChunksTest, ConcurrentVersionsParkedTogetherBothSurvive) {
  store::Store &b = *b_, &c = *c_, &r = *r_;
  ASSERT_TRUE(WriteFile(b, "d/f", "v1").ok());
  Pump(b, c);
  ASSERT_TRUE(WriteFile(b, "d/f", "on b").ok());
  ASSERT_TRUE(WriteFile(c, "d/f", "on c").ok());

  // Both edits reach R before d: both are parked, and neither may swallow the other
  // (a join would keep one version's bytes and mark the other as seen).
  ASSERT_NO_FATAL_FAILURE(ParkFFromBothThenApplyTheRestOfB());

  std::multiset<std::string> contents;
  for (const auto& [path, entry] : Snapshot(r)) {
    if (path.rfind("d/f", 0) == 0) contents.insert(entry);
  }
  EXPECT_EQ(contents, (std::multiset<std::string>{"1 420 on b", "1 420 on c"}))
      << "the file and its conflict copy, one per edit";
}

}  // namespace
}  // namespace kvfs::sync
