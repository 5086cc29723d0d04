// A store opened with a write map keeps data.mdb's disk blocks allocated up to the
// map's size (store/map_backing.h), so a full disk shows as a failed growth and
// never as SIGBUS; every process backs the map before growing it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "store/map_backing.h"
#include "store/store.h"
#include "store/txn.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

using testing::TempDir;

constexpr size_t kMiB = size_t{1} << 20;

uint64_t AllocatedBytes(const std::string& store_dir) {
  struct stat st {};
  if (stat((StoreDbDir(store_dir) + "/data.mdb").c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

// Writes `mib` files of 1 MiB, one per transaction.
Status WriteFiles(Store& store, int mib, const std::string& prefix) {
  for (int i = 0; i < mib; ++i) {
    KVFS_RETURN_IF_ERROR(store.Update([&](WriteTxn& w) -> Status {
      KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, prefix + std::to_string(i), {}));
      return w.Write(f.ino, 0, std::string(kMiB, static_cast<char>('a' + i % 26))).status();
    }));
  }
  return Status::Ok();
}

Result<std::string> ReadFile(Store& store, const std::string& name) {
  std::string out;
  KVFS_RETURN_IF_ERROR(store.View([&](ReadTxn& r) -> Status {
    KVFS_ASSIGN_OR_RETURN(Inode f, r.Lookup(kRootIno, name));
    KVFS_ASSIGN_OR_RETURN(out, r.Read(f.ino, 0, f.size));
    return Status::Ok();
  }));
  return out;
}

StoreOptions WriteMapOptions() {
  StoreOptions options;
  options.initial_map_size = 2 * kMiB;
  options.no_sync = true;
  options.write_map = true;
  return options;
}

TEST(StoreMapBackingTest, AWriteMapOpenAllocatesTheWholeMap) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir, {}).ok());
  const uint64_t created = AllocatedBytes(dir);
  auto opened = Store::Open(dir, WriteMapOptions());
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Store& store = **opened;
  EXPECT_TRUE(store.write_map());
  EXPECT_LT(created, store.map_size()) << "a new store's file is smaller than the map";
  EXPECT_GE(AllocatedBytes(dir), store.map_size());
}

TEST(StoreMapBackingTest, GrowingAWriteMapAllocatesFirstAndKeepsTheData) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir, {}).ok());
  auto opened = Store::Open(dir, WriteMapOptions());
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Store& store = **opened;
  ASSERT_TRUE(store.write_map());
  const size_t initial = store.map_size();
  KVFS_ASSERT_OK(WriteFiles(store, 12, "f"));
  EXPECT_GT(store.map_size(), 4 * initial) << "12 MiB cannot fit the first map";
  EXPECT_GE(AllocatedBytes(dir), store.map_size());
  KVFS_ASSERT_OK(store.Sync());
  opened->reset();

  // Reopened without a write map (as the CLI does): everything is there.
  auto plain = Store::Open(dir, {});
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_FALSE((*plain)->write_map());
  for (int i : {0, 11}) {
    KVFS_ASSERT_OK_AND_ASSIGN(std::string data, ReadFile(**plain, "f" + std::to_string(i)));
    EXPECT_EQ(data, std::string(kMiB, static_cast<char>('a' + i))) << "f" << i;
  }
}

TEST(StoreMapBackingTest, AProcessWithoutAWriteMapAlsoBacksWhatItGrows) {
  // A mount with a write map adopts the map another process grew; the blocks must
  // already be there.
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  StoreOptions options;
  options.initial_map_size = 2 * kMiB;
  ASSERT_TRUE(Store::Create(dir, options).ok());
  auto opened = Store::Open(dir, options);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Store& store = **opened;
  EXPECT_FALSE(store.write_map());
  KVFS_ASSERT_OK(WriteFiles(store, 6, "g"));
  EXPECT_GT(store.map_size(), 2 * kMiB);
  EXPECT_GE(AllocatedBytes(dir), store.map_size());
}

TEST(StoreMapBackingTest, WithoutRoomForTheMapTheStoreOpensWithoutAWriteMap) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir, {}).ok());
  const uint64_t created = AllocatedBytes(dir);
  ASSERT_LT(created, 2 * kMiB);
  // A file-size limit below the map stands in for a disk without room for it (the
  // limit's signal is ignored, so the calls fail with EFBIG instead).
  struct rlimit old {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit small = old;
  small.rlim_cur = 4 * kMiB;
  auto* old_handler = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  StoreOptions options = WriteMapOptions();
  options.initial_map_size = 16 * kMiB;
  options.redo_log_half_bytes = 0;  // the log's zero-filled file would not fit either
  auto opened = Store::Open(dir, options);
  Status wrote = opened.ok() ? WriteFiles(**opened, 1, "h") : opened.status();
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, old_handler);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_FALSE((*opened)->write_map());
  KVFS_ASSERT_OK(wrote);
  KVFS_ASSERT_OK_AND_ASSIGN(std::string data, ReadFile(**opened, "h0"));
  EXPECT_EQ(data.size(), kMiB);
}

TEST(StoreMapBackingTest, MaxBackedBytesCountsTheFileAndTheFreeSpace) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir, {}).ok());
  const uint64_t most = MaxBackedBytes(StoreDbDir(dir));
  EXPECT_GE(most, AllocatedBytes(dir));
  EXPECT_GT(most, AllocatedBytes(dir)) << "the test disk has some free space";
  EXPECT_EQ(MaxBackedBytes(tmp.Sub("none")), 0u);
}

}  // namespace
}  // namespace kvfs::store
