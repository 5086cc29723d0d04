// The named merge rules of SPEC "Sync semantics", one scenario each.
#include <gtest/gtest.h>

#include <set>

#include "sync/merge.h"

namespace kvfs::sync {
namespace {

constexpr uint64_t kA = 0xaaaa000000000000ull, kB = 0xbbbb000000000000ull;

ObjectState Base() {
  ObjectState s;
  s.oid = ObjectId{kA, 7};
  s.links = {RemoteLink{store::kRootObject, "bashrc"}};
  HlcStamp st{100, kA};
  s.name_stamp = s.attr_stamp = s.times_stamp = s.xattr_stamp = s.content_stamp = st;
  s.mode = 0600;
  s.size = 5;
  s.chunks = {ChunkRef{0, st}};
  s.content_versions = {{kA, 1}};
  return s;
}

ObjectState Edit(ObjectState s, uint64_t node, uint64_t time, uint64_t size) {
  HlcStamp st{time, node};
  s.size = size;
  s.chunks = {ChunkRef{0, st}};
  s.content_stamp = s.times_stamp = st;
  bool bumped = false;
  for (auto& v : s.content_versions) {
    if (v.node == node) ++v.counter, bumped = true;
  }
  if (!bumped) s.content_versions.push_back({node, 1});
  std::sort(s.content_versions.begin(), s.content_versions.end(),
            [](auto& x, auto& y) { return x.node < y.node; });
  return s;
}

TEST(MergeRulesTest, LaterEditThatSawTheOtherWinsWithoutConflict) {
  ObjectState a = Base();
  ObjectState b = Edit(a, kB, 200, 9);
  MergeOutcome out = MergeObject(a, b);
  EXPECT_EQ(out.state.size, 9u);
  EXPECT_EQ(out.content_from, Side::kRemote);
  EXPECT_FALSE(out.conflict);
  EXPECT_TRUE(out.changed);
  EXPECT_FALSE(MergeObject(b, a).changed);
}

TEST(MergeRulesTest, ConcurrentEditsKeepBothNewerStampKeepsName) {
  ObjectState a = Edit(Base(), kA, 300, 11);
  ObjectState b = Edit(Base(), kB, 200, 22);
  MergeOutcome on_a = MergeObject(a, b);
  MergeOutcome on_b = MergeObject(b, a);
  EXPECT_EQ(on_a.state, on_b.state);
  EXPECT_EQ(on_a.state.size, 11u);  // A's stamp (300) is newer
  ASSERT_TRUE(on_a.conflict && on_b.conflict);
  EXPECT_EQ(on_a.conflict->state, on_b.conflict->state);  // the same copy on every peer
  EXPECT_EQ(on_a.conflict->state.size, 22u);
  EXPECT_EQ(on_a.conflict->content_from, Side::kRemote);
  EXPECT_EQ(on_b.conflict->content_from, Side::kLocal);
  EXPECT_EQ(on_a.conflict->state.links.front().name.rfind("bashrc.sync-conflict-", 0), 0u);
  EXPECT_EQ(Compare(on_a.state.content_versions, a.content_versions), VvOrder::kAfter);
}

TEST(MergeRulesTest, EditBeatsConcurrentDelete) {
  ObjectState deleted = Base();
  deleted.delete_stamp = HlcStamp{400, kA};  // the later stamp
  deleted.delete_versions = deleted.content_versions;
  ObjectState edited = Edit(Base(), kB, 300, 42);
  ASSERT_TRUE(deleted.IsDeleted());
  for (auto out : {MergeObject(deleted, edited), MergeObject(edited, deleted)}) {
    EXPECT_FALSE(out.state.IsDeleted());
    EXPECT_EQ(out.state.size, 42u);
    EXPECT_FALSE(out.conflict);
  }
}

TEST(MergeRulesTest, DeleteThatSawTheEditSticks) {
  ObjectState edited = Edit(Base(), kB, 300, 42);
  ObjectState deleted = edited;
  deleted.delete_stamp = HlcStamp{400, kA};
  deleted.delete_versions = deleted.content_versions;
  EXPECT_TRUE(MergeObject(edited, deleted).state.IsDeleted());
  EXPECT_TRUE(MergeObject(deleted, edited).state.IsDeleted());
  // An old peer coming back with the pre-delete state does not undo it.
  EXPECT_TRUE(MergeObject(deleted, Base()).state.IsDeleted());
}

TEST(MergeRulesTest, RenameAndConcurrentEditBothSurvive) {
  ObjectState renamed = Base();
  renamed.links = {RemoteLink{store::kRootObject, "bashrc.old"}};
  renamed.name_stamp = HlcStamp{300, kA};
  ObjectState edited = Edit(Base(), kB, 250, 77);
  for (auto out : {MergeObject(renamed, edited), MergeObject(edited, renamed)}) {
    EXPECT_EQ(out.state.links.front().name, "bashrc.old");
    EXPECT_EQ(out.state.size, 77u);
    EXPECT_FALSE(out.conflict);
  }
}

TEST(MergeRulesTest, ChmodAndConcurrentEditBothSurvive) {
  ObjectState chmodded = Base();
  chmodded.mode = 0644;
  chmodded.attr_stamp = HlcStamp{150, kA};
  ObjectState edited = Edit(Base(), kB, 250, 77);
  MergeOutcome out = MergeObject(chmodded, edited);
  EXPECT_EQ(out.state.mode, 0644u);
  EXPECT_EQ(out.state.size, 77u);
}

TEST(MergeRulesTest, ConflictNameFitsIn255Bytes) {
  std::string name(250, 'x');
  std::string c = ConflictName(name, HlcStamp{uint64_t{1764000000000} << 16, kB});
  EXPECT_LE(c.size(), 255u);
  EXPECT_NE(c.find(".sync-conflict-"), std::string::npos);
}

}  // namespace
}  // namespace kvfs::sync

namespace kvfs::sync {
namespace {

TEST(MergeRulesTest, ConflictNamesDifferForStampsInOneSecond) {
  const uint64_t kNode = 0xec04cdf500000000ull;
  const uint64_t second = 1764000000000;  // ms, on a whole second
  std::set<std::string> names;
  names.insert(ConflictName("rd", HlcStamp::Make(second, 0, kNode)));
  names.insert(ConflictName("rd", HlcStamp::Make(second + 1, 0, kNode)));
  names.insert(ConflictName("rd", HlcStamp::Make(second + 1, 1, kNode)));
  names.insert(ConflictName("rd", HlcStamp::Make(second + 999, 0, kNode)));
  EXPECT_EQ(names.size(), 4u);
  for (const auto& n : names) EXPECT_EQ(n.rfind("rd.sync-conflict-", 0), 0u) << n;
}

}  // namespace
}  // namespace kvfs::sync
