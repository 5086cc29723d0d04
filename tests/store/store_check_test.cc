// ReadTxn::Check (`kvfs check`): a store written through the API is sound, with exact
// counts; each kind of damage, made with raw LMDB while the store is closed, is found
// and named.
#include <gtest/gtest.h>
#include <lmdb.h>

#include <functional>
#include <string>

#include "store/keys.h"
#include "store/record_codec.h"
#include "store/txn.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

using testing::RawDel;
using testing::RawPut;
using testing::StoreFixture;

class StoreCheckTest : public StoreFixture {
 protected:
  CheckReport Check(size_t max_problems = 100) {
    CheckReport report;
    Status st = View([&](ReadTxn& r) -> Status {
      KVFS_ASSIGN_OR_RETURN(report, r.Check(max_problems));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.message();
    return report;
  }

  // Closes the store, edits `table` with raw LMDB, reopens.
  void Damage(const char* table, const std::function<void(MDB_txn*, MDB_dbi)>& fn) {
    store_.reset();
    testing::EditTableDirectly(dir_, table, fn);
    Reopen();
  }

  static std::string All(const CheckReport& r) {
    std::string out;
    for (const std::string& p : r.problems) out += p + "\n";
    return out;
  }
  static bool Mentions(const CheckReport& r, const std::string& text) {
    return All(r).find(text) != std::string::npos;
  }
};

TEST_F(StoreCheckTest, AStoreWrittenThroughTheApiIsSoundWithExactCounts) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(d.ino, "f"));
  ASSERT_TRUE(Write(f.ino, 0, std::string(kChunkSize + 10, 'x')).ok());  // 2 chunks
  KVFS_ASSERT_OK_AND_ASSIGN(Inode g, Create(kRootIno, "g"));
  ASSERT_TRUE(Write(g.ino, 0, "gone soon").ok());
  ASSERT_TRUE(Create(kRootIno, "l", FileType::kSymlink).ok());
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) -> Status {
    KVFS_RETURN_IF_ERROR(w.Link(f.ino, kRootIno, "f2").status());  // a second name
    KVFS_RETURN_IF_ERROR(w.SetXattr(f.ino, "user.k", "v", 0));
    return w.Unlink(kRootIno, "g").status();  // a tombstone that keeps its content
  }));
  const CheckReport r = Check();
  EXPECT_TRUE(r.sound()) << All(r);
  EXPECT_EQ(r.files, 1u);
  EXPECT_EQ(r.dirs, 2u);  // the root and d
  EXPECT_EQ(r.symlinks, 1u);
  EXPECT_EQ(r.tombstones, 1u);
  EXPECT_EQ(r.names, 4u);  // d, d/f, f2, l
  EXPECT_EQ(r.chunks, 3u);
  EXPECT_EQ(r.content_bytes, kChunkSize + 10 + 9);
  EXPECT_EQ(r.xattrs, 1u);
}

TEST_F(StoreCheckTest, AMissingEntryForANameIsFound) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  Damage(keys::kDirentsTable, [](MDB_txn* t, MDB_dbi db) { RawDel(t, db, keys::DirentKey(kRootIno, "f")); });
  const CheckReport r = Check();
  EXPECT_FALSE(r.sound());
  EXPECT_TRUE(Mentions(r, "inode " + std::to_string(f.ino) + " has the name 'f'")) << All(r);
  EXPECT_TRUE(Mentions(r, "which has no such entry")) << All(r);
}

TEST_F(StoreCheckTest, AnEntryToAMissingInodeIsFound) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  Damage(keys::kInodesTable, [&](MDB_txn* t, MDB_dbi db) { RawDel(t, db, keys::InodeKey(f.ino)); });
  const CheckReport r = Check();
  EXPECT_TRUE(Mentions(r, "the entry 'f' of directory inode 1 points to inode " +
                              std::to_string(f.ino) + ", which cannot be read"))
      << All(r);
}

TEST_F(StoreCheckTest, ARecordThatDoesNotDecodeIsFound) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  Damage(keys::kInodesTable,
         [&](MDB_txn* t, MDB_dbi db) { RawPut(t, db, keys::InodeKey(f.ino), "\x01garbage"); });
  EXPECT_TRUE(Mentions(Check(), "inode " + std::to_string(f.ino) + " cannot be decoded"))
      << All(Check());
}

TEST_F(StoreCheckTest, ContentOfNoFileAndContentPastTheSizeAreFound) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  ASSERT_TRUE(Write(f.ino, 0, "short").ok());
  const std::string stamped = EncodeStamp(HlcStamp{}) + std::string(100, 'z');
  Damage(keys::kChunksTable, [&](MDB_txn* t, MDB_dbi db) {
    RawPut(t, db, keys::ChunkKey(999, 0), stamped);    // nobody's
    RawPut(t, db, keys::ChunkKey(f.ino, 0), stamped);  // 100 bytes in a 5-byte file
  });
  const CheckReport r = Check();
  EXPECT_TRUE(Mentions(r, "content chunks of inode 999, which cannot be read")) << All(r);
  EXPECT_TRUE(Mentions(r, "ends at 100, past the file's size 5")) << All(r);
}

TEST_F(StoreCheckTest, FeedObjectsAndCountersAreChecked) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode g, Create(kRootIno, "g"));
  Damage(keys::kFeedTable, [&](MDB_txn* t, MDB_dbi db) { RawDel(t, db, keys::FeedKey(f.seq)); });
  Damage(keys::kObjectsTable,
         [&](MDB_txn* t, MDB_dbi db) { RawPut(t, db, keys::ObjectKey(g.oid), keys::InodeKey(f.ino)); });
  Damage(keys::kMetaTable,
         [&](MDB_txn* t, MDB_dbi db) { RawPut(t, db, keys::kMetaNextIno, keys::U64Key(g.ino)); });
  const CheckReport r = Check();
  EXPECT_TRUE(Mentions(r, "inode " + std::to_string(f.ino) + " has no feed entry")) << All(r);
  EXPECT_TRUE(Mentions(r, "maps to inode " + std::to_string(f.ino) + ", which holds")) << All(r);
  EXPECT_TRUE(Mentions(r, "the next inode number " + std::to_string(g.ino) + " is already in use"))
      << All(r);
}

TEST_F(StoreCheckTest, OnlyTheFirstProblemsAreListedButAllAreCounted) {
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(Create(kRootIno, "f" + std::to_string(i)).ok());
  Damage(keys::kDirentsTable, [](MDB_txn* t, MDB_dbi db) {
    for (int i = 0; i < 12; ++i) RawDel(t, db, keys::DirentKey(kRootIno, "f" + std::to_string(i)));
  });
  const CheckReport r = Check(5);
  EXPECT_EQ(r.problems.size(), 5u);
  EXPECT_EQ(r.problem_count, 12u);
}

}  // namespace
}  // namespace kvfs::store
