// The content of a file deleted on a peer goes on this side too. The merged state of
// a deleted file has size 0 and no chunks; when the content versions on both sides
// were equal the merge took "the local content" and left the local chunks stored
// behind a size of 0, for good (`kvfs check` on the stores of integration.sync_random
// found 1 to 31 such chunks per store). The same happened to a live file: a file
// deleted here but still written through an open descriptor exports no content, and
// when a rename on a peer brought it back, its chunks stayed behind a size of 0
// (integration.sync_random SEED=20045: d0/s/f2 on C, 20 bytes stored, size 0).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "store/store.h"
#include "pump_util.h"
#include "sync_test_util.h"

namespace kvfs::sync {
namespace {

using testing::MakeStore;
using testing::Pump;
using testing::Scratch;
using testing::Snapshot;
using testing::WriteFile;

store::CheckReport CheckOf(store::Store& s) {
  store::CheckReport report;
  Status st = s.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(report, t.Check(20));
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  return report;
}

std::string Problems(const store::CheckReport& r) {
  std::string out;
  for (const std::string& p : r.problems) out += p + "\n";
  return out;
}

// Two stores with one key, A and B.
class DeletedContentTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(a && b); }
  Scratch dir;
  std::unique_ptr<store::Store> a = MakeStore(dir.path() + "/a");
  std::unique_ptr<store::Store> b = MakeStore(dir.path() + "/b");
};

TEST_F(DeletedContentTest, ADeleteFromAPeerDropsTheLocalChunks) {
  ASSERT_TRUE(WriteFile(*a, "f", std::string(100 * 1024, 'x')).ok());  // 2 chunks
  Pump(*a, *b);
  ASSERT_EQ(Snapshot(*b).count("f"), 1u);
  ASSERT_EQ(CheckOf(*b).chunks, 2u);

  // A deletes f and purges its content, as a mount does once the kernel let go.
  ASSERT_TRUE(a->Update([](store::WriteTxn& t) -> Status {
                 KVFS_ASSIGN_OR_RETURN(store::Inode gone, t.Unlink(store::kRootIno, "f"));
                 return t.Purge(gone.ino);
               }).ok());
  Pump(*a, *b);
  EXPECT_EQ(Snapshot(*b).count("f"), 0u);
  const store::CheckReport after = CheckOf(*b);
  EXPECT_TRUE(after.sound()) << Problems(after);
  EXPECT_EQ(after.chunks, 0u) << "the deleted file's content stayed on B";
  EXPECT_EQ(after.tombstones, 1u);
}

TEST_F(DeletedContentTest, ADeleteWithoutPurgeOnThePeerDropsThemToo) {
  ASSERT_TRUE(WriteFile(*a, "d/f", std::string(70 * 1024, 'y')).ok());
  Pump(*a, *b);
  ASSERT_TRUE(a->Update([](store::WriteTxn& t) -> Status {
                 KVFS_ASSIGN_OR_RETURN(store::Inode d, t.Resolve("d"));
                 return t.Unlink(d.ino, "f").status();  // still open on A: not purged
               }).ok());
  Pump(*a, *b);
  const store::CheckReport after = CheckOf(*b);
  EXPECT_TRUE(after.sound()) << Problems(after);
  EXPECT_EQ(after.chunks, 0u);
  EXPECT_TRUE(CheckOf(*a).sound()) << Problems(CheckOf(*a));  // A keeps them: its size too
}

TEST_F(DeletedContentTest, AFileARenameBringsBackKeepsNoStaleChunks) {
  ASSERT_TRUE(WriteFile(*a, "f", "0123456789").ok());
  Pump(*a, *b);

  // B: f is removed while a process still has it open, and written through that fd.
  ASSERT_TRUE(b->Update([](store::WriteTxn& t) -> Status {
                 KVFS_ASSIGN_OR_RETURN(store::Inode gone, t.Unlink(store::kRootIno, "f"));
                 return t.Write(gone.ino, 0, std::string(20, 'w')).status();
               }).ok());
  ASSERT_EQ(CheckOf(*b).chunks, 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // A's stamp comes later
  // A, not knowing that, renames f to g: the newer name brings the file back.
  ASSERT_TRUE(a->Update([](store::WriteTxn& t) -> Status {
                 return t.Rename(store::kRootIno, "f", store::kRootIno, "g", 0).status();
               }).ok());
  Pump(*a, *b);
  ASSERT_EQ(Snapshot(*b).count("g"), 1u);
  const store::CheckReport after = CheckOf(*b);
  EXPECT_TRUE(after.sound()) << Problems(after);
}

// B writes through a descriptor still open on a file that A's delete had reached:
// the write goes to the tombstone, as a write to an unlinked file does, and the
// delete stays. B used to extend the delete's versions without a new delete stamp,
// so A and B held one stamp with two values; the tie-break could pick A's, which had
// not seen B's write, and bring the file back empty on every peer
// (integration.sync_random SEED=7046: d2/f5 live with size 0 everywhere).
TEST_F(DeletedContentTest, AWriteToATombstoneLeavesItDeletedEverywhere) {
  ASSERT_TRUE(WriteFile(*a, "f", "first").ok());
  Pump(*a, *b);
  store::Ino on_b = 0;
  ASSERT_TRUE(b->View([&](store::ReadTxn& t) -> Status {
                 KVFS_ASSIGN_OR_RETURN(store::Inode f, t.Resolve("f"));
                 on_b = f.ino;
                 return Status::Ok();
               }).ok());
  ASSERT_TRUE(a->Update([](store::WriteTxn& t) -> Status {
                 return t.Unlink(store::kRootIno, "f").status();
               }).ok());
  Pump(*a, *b);
  ASSERT_EQ(Snapshot(*b).count("f"), 0u);
  ASSERT_TRUE(b->Update([&](store::WriteTxn& t) -> Status {
                 return t.Write(on_b, 5, " appended").status();
               }).ok());
  Pump(*b, *a);
  Pump(*a, *b);
  EXPECT_EQ(Snapshot(*a).count("f"), 0u) << "the file came back on A";
  EXPECT_EQ(Snapshot(*b).count("f"), 0u) << "the file came back on B";
  EXPECT_TRUE(CheckOf(*a).sound()) << Problems(CheckOf(*a));
  EXPECT_TRUE(CheckOf(*b).sound()) << Problems(CheckOf(*b));
}

}  // namespace
}  // namespace kvfs::sync
