// The writable map (StoreOptions::write_map): every byte of the map has a disk block
// before LMDB may write into it, also after the map grows; the data written that way
// reads back through a store that writes with pwrite; and compaction does not take
// the room allocated ahead of use for waste.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "store/compact.h"
#include "store/map_backing.h"
#include "store/txn.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

using testing::StoreFixture;

constexpr uint64_t kMiB = uint64_t{1} << 20;

struct FileBlocks {
  uint64_t size = 0;
  uint64_t allocated = 0;  // bytes of disk blocks
};

FileBlocks DataFile(const std::string& store_dir) {
  struct stat st {};
  EXPECT_EQ(stat((StoreDbDir(store_dir) + "/data.mdb").c_str(), &st), 0);
  return {static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_blocks) * 512};
}

std::string Pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 7 + i / 4093);
  return s;
}

class StoreWriteMapTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (!OverwritesInPlace(dir_)) GTEST_SKIP() << "the temp directory's filesystem is not one the writable map is used on";
    options_.write_map = true;
    Reopen();
    ASSERT_TRUE(store_->writes_through_map()) << store_->write_map_refusal();
  }
};

TEST_F(StoreWriteMapTest, EveryByteOfTheMapHasABlockAlsoAfterItGrows) {
  const uint64_t first_map = store_->map_size();
  FileBlocks f = DataFile(dir_);
  EXPECT_EQ(f.size, first_map);
  EXPECT_GE(f.allocated, f.size) << "the file behind the map has holes";

  // 40 MiB in 1 MiB commits: more than the first map holds, so it must grow.
  KVFS_ASSERT_OK_AND_ASSIGN(Inode big, Create(kRootIno, "big"));
  for (uint64_t i = 0; i < 40; ++i) {
    ASSERT_TRUE(Write(big.ino, i * kMiB, Pattern(kMiB, static_cast<char>(i))).ok()) << i;
  }
  EXPECT_GT(store_->map_size(), first_map);
  f = DataFile(dir_);
  EXPECT_EQ(f.size, store_->map_size());
  EXPECT_GE(f.allocated, f.size) << "the grown part of the map has holes";
}

TEST_F(StoreWriteMapTest, WhatItWritesReadsBackThroughPwriteAndAfterReopening) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  const std::string data = Pattern(3 * kMiB + 123, 'a');
  ASSERT_TRUE(Write(a.ino, 0, data).ok());

  options_.write_map = false;  // as the CLI opens it
  Reopen();
  EXPECT_FALSE(store_->writes_through_map());
  KVFS_ASSERT_OK_AND_ASSIGN(std::string back, Read(a.ino, 0, data.size()));
  EXPECT_TRUE(back == data) << "content written through the map differs";
  ASSERT_TRUE(Write(a.ino, 0, "pwrite").ok());

  options_.write_map = true;  // and the mount again, over a file pwrite last wrote
  Reopen();
  ASSERT_TRUE(store_->writes_through_map());
  KVFS_ASSERT_OK_AND_ASSIGN(back, Read(a.ino, 0, data.size()));
  EXPECT_EQ(back.substr(0, 6), "pwrite");
  EXPECT_TRUE(back.substr(6) == data.substr(6));
}

TEST_F(StoreWriteMapTest, CompactionDoesNotCountRoomAllocatedAheadAsWaste) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  ASSERT_TRUE(Write(f.ino, 0, Pattern(100 * 1024, 'f')).ok());
  store_.reset();
  const FileBlocks before = DataFile(dir_);
  ASSERT_GE(before.size, 16 * kMiB);  // mostly room past the last page used
  CompactPolicy policy;
  policy.min_free_bytes = kMiB;
  KVFS_ASSERT_OK_AND_ASSIGN(CompactReport report, CompactIfWasteful(dir_, policy));
  EXPECT_FALSE(report.compacted);
  EXPECT_EQ(report.skipped, "little of the file is free");
  EXPECT_LT(report.free_bytes, kMiB);
  EXPECT_EQ(DataFile(dir_).size, before.size);
}

}  // namespace
}  // namespace kvfs::store
