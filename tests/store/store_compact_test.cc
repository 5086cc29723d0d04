// Compaction: a store whose big file was deleted shrinks back to its live data and
// keeps every byte of it; nothing happens while another Store has it open, or when
// little of the file is free.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "store/compact.h"
#include "store/txn.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

using testing::Pattern;
using testing::StoreFixture;

constexpr size_t kMiB = size_t{1} << 20;

uint64_t DataFileBytes(const std::string& store_dir) {
  struct stat st {};
  EXPECT_EQ(stat((StoreDbDir(store_dir) + "/data.mdb").c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_size);
}

class StoreCompactTest : public StoreFixture {
 protected:
  // Thresholds small enough for a test-sized store.
  CompactPolicy Policy() const {
    CompactPolicy p;
    p.min_free_bytes = 8 * kMiB;
    return p;
  }
  // A small file that must survive, and a 32 MiB file written and then deleted and
  // purged, as the mount does after the last close.
  void KeepSmallDeleteBig() {
    KVFS_ASSERT_OK_AND_ASSIGN(Inode keep, Create(kRootIno, "keep"));
    keep_ino_ = keep.ino;
    keep_data_ = Pattern(100 * 1024, 'k');
    ASSERT_TRUE(Write(keep_ino_, 0, keep_data_).ok());
    KVFS_ASSERT_OK_AND_ASSIGN(Inode big, Create(kRootIno, "big"));
    const std::string piece = Pattern(kMiB, 'b');
    for (size_t i = 0; i < 32; ++i) ASSERT_TRUE(Write(big.ino, i * kMiB, piece).ok());
    KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Unlink(kRootIno, "big").status(); }));
    KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Purge(big.ino); }));
  }
  Ino keep_ino_ = 0;
  std::string keep_data_;
};

TEST_F(StoreCompactTest, ShrinksToTheLiveDataAndKeepsIt) {
  KeepSmallDeleteBig();
  store_.reset();  // nobody has it open now
  const uint64_t before = DataFileBytes(dir_);
  ASSERT_GT(before, 32 * kMiB);

  KVFS_ASSERT_OK_AND_ASSIGN(CompactReport report, CompactIfWasteful(dir_, Policy()));
  EXPECT_TRUE(report.compacted) << report.skipped;
  EXPECT_TRUE(report.store_was_free);
  EXPECT_EQ(report.file_bytes_before, before);
  EXPECT_GE(report.free_bytes, 32 * kMiB);
  EXPECT_LT(report.file_bytes_after, 4 * kMiB);
  EXPECT_EQ(report.file_bytes_after, DataFileBytes(dir_));

  Reopen();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode keep, Lookup(kRootIno, "keep"));
  EXPECT_EQ(keep.ino, keep_ino_);
  KVFS_ASSERT_OK_AND_ASSIGN(std::string data, Read(keep_ino_, 0, keep_data_.size()));
  EXPECT_EQ(data, keep_data_);
  EXPECT_EQ(Lookup(kRootIno, "big").status().code(), Code::kNotFound);
  // Still a working store: new writes commit, and new inode numbers are not reused.
  KVFS_ASSERT_OK_AND_ASSIGN(Inode fresh, Create(kRootIno, "after"));
  EXPECT_GT(fresh.ino, keep_ino_ + 1);
  ASSERT_TRUE(Write(fresh.ino, 0, "written after compaction").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(std::string back, Read(fresh.ino, 0, 100));
  EXPECT_EQ(back, "written after compaction");
}

TEST_F(StoreCompactTest, LeavesAStoreAloneWhileAnotherStoreHasItOpen) {
  KeepSmallDeleteBig();  // store_ stays open
  const uint64_t before = DataFileBytes(dir_);
  KVFS_ASSERT_OK_AND_ASSIGN(CompactReport report, CompactIfWasteful(dir_, Policy()));
  EXPECT_FALSE(report.compacted);
  EXPECT_NE(report.skipped.find("open"), std::string::npos) << report.skipped;
  EXPECT_FALSE(report.store_was_free);  // the mount must not purge tombstones it lacks
  EXPECT_EQ(DataFileBytes(dir_), before);
  KVFS_ASSERT_OK_AND_ASSIGN(std::string data, Read(keep_ino_, 0, keep_data_.size()));
  EXPECT_EQ(data, keep_data_);
}

TEST_F(StoreCompactTest, LeavesAStoreWithLittleFreeSpaceAlone) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  ASSERT_TRUE(Write(f.ino, 0, Pattern(4 * kMiB, 'f')).ok());
  store_.reset();
  const uint64_t before = DataFileBytes(dir_);
  KVFS_ASSERT_OK_AND_ASSIGN(CompactReport report, CompactIfWasteful(dir_, Policy()));
  EXPECT_FALSE(report.compacted);
  EXPECT_EQ(report.skipped, "little of the file is free");
  EXPECT_TRUE(report.store_was_free);  // skipped for its size, not for another process
  EXPECT_EQ(DataFileBytes(dir_), before);
}

TEST_F(StoreCompactTest, LeavesAStoreWithTooMuchLiveDataAlone) {
  KeepSmallDeleteBig();
  store_.reset();
  CompactPolicy policy = Policy();
  policy.max_live_bytes = 64 * 1024;  // less than the file that is kept
  KVFS_ASSERT_OK_AND_ASSIGN(CompactReport report, CompactIfWasteful(dir_, policy));
  EXPECT_FALSE(report.compacted);
  EXPECT_EQ(report.skipped, "too much live data to copy while mounting");
}

}  // namespace
}  // namespace kvfs::store
