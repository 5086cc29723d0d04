// A tombstone that arrives before its parent's: the feed of a peer that ran `rm -r`
// lists the children's tombstones before their directories'. A file created in the
// deleted directory on another peer, not seen by the delete, must then bring the
// directories back under their names (SPEC: "Create inside a directory that another
// peer deleted: the file and its directory survive"), not leave a live directory
// without a name that hides the file (integration.sync_random, SEED=55199: a write on
// C to d0/s/f2 was in every store but in no listing).
#include <gtest/gtest.h>

#include <algorithm>

#include "store/store.h"
#include "sync/exchange.h"
#include "pump_util.h"
#include "sync_test_util.h"

namespace kvfs::sync {
namespace {

using testing::MakeStore;
using testing::Feed;
using testing::Pump;
using testing::Scratch;
using testing::Snapshot;
using testing::Tree;
using testing::WriteFile;

TEST(DeletedParentTest, AFileCreatedInADirectoryDeletedElsewhereKeepsItsPath) {
  Scratch dir;
  auto a = MakeStore(dir.path() + "/a");
  auto c = MakeStore(dir.path() + "/c");
  ASSERT_TRUE(a && c);
  ASSERT_TRUE(WriteFile(*a, "d0/s/f", "old").ok());
  Pump(*a, *c);
  ASSERT_EQ(Snapshot(*c).count("d0/s/f"), 1u);

  // Apart: C creates d0/s/g; A removes d0 with everything it knows in it.
  ASSERT_TRUE(WriteFile(*c, "d0/s/g", "written on C").ok());
  ASSERT_TRUE(a->Update([](store::WriteTxn& t) -> Status {
                 KVFS_ASSIGN_OR_RETURN(store::Inode d0, t.Resolve("d0"));
                 KVFS_ASSIGN_OR_RETURN(store::Inode s, t.Resolve("d0/s"));
                 KVFS_RETURN_IF_ERROR(t.Unlink(s.ino, "f").status());
                 KVFS_RETURN_IF_ERROR(t.Rmdir(d0.ino, "s"));
                 return t.Rmdir(store::kRootIno, "d0");
               }).ok());

  // A third store learns A's feed first (the tombstone of s before that of d0),
  // then C's, g first: C's feed lists s after g once s changes again (a file added
  // to it moves s to the end of the feed), as it did in the failing run.
  auto r = MakeStore(dir.path() + "/r");
  ASSERT_TRUE(r);
  std::vector<OutgoingObject> from_c = Feed(*c);
  std::stable_partition(from_c.begin(), from_c.end(), [](const OutgoingObject& o) {
    return !o.state.links.empty() && o.state.links.front().name == "g";
  });
  ASSERT_EQ(from_c.front().state.links.front().name, "g");
  for (const auto& [from, objects] : {std::pair{a.get(), Feed(*a)}, std::pair{c.get(), from_c}}) {
    Inbox in(*r, from->node_id());
    for (const OutgoingObject& o : objects) {
      auto applied = in.Apply(o);
      ASSERT_TRUE(applied.ok()) << applied.status().message();
    }
  }
  const Tree tree = Snapshot(*r);
  ASSERT_EQ(tree.count("d0/s/g"), 1u) << "the file written on C is not reachable";
  EXPECT_EQ(tree.at("d0/s/g"), "1 420 written on C");  // mode 0644, in decimal
  EXPECT_EQ(tree.count("d0/s/f"), 0u) << "the delete had seen f: it stays deleted";

  // And the peers agree once everything went everywhere.
  Pump(*a, *c);
  Pump(*c, *a);
  Pump(*r, *a);
  Pump(*a, *r);
  Pump(*r, *c);
  EXPECT_EQ(Snapshot(*a), tree);
  EXPECT_EQ(Snapshot(*c), tree);
}

}  // namespace
}  // namespace kvfs::sync
