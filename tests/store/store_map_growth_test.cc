// The LMDB map starts small and grows by itself when full (MDB_MAP_FULL is retried).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "store/txn.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

using testing::TempDir;

constexpr size_t kMiB = size_t{1} << 20;

std::string Block(size_t n, int seed) {
  std::string s(n, '\0');
  uint32_t x = 2166136261u ^ static_cast<uint32_t>(seed);
  for (size_t i = 0; i < n; ++i) {
    x = x * 16777619u + 1;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

TEST(StoreMapGrowthTest, GrowsFromOneMiBAndKeepsAllData) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  StoreOptions options;
  options.initial_map_size = kMiB;
  ASSERT_TRUE(Store::Create(dir, options).ok());
  auto opened = Store::Open(dir, options);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Store& store = **opened;
  EXPECT_LE(store.map_size(), 2 * kMiB);
  const size_t initial = store.map_size();

  // 20 files of 1 MiB, each in its own transaction, plus many small ones.
  std::vector<Ino> big;
  for (int i = 0; i < 20; ++i) {
    Status st = store.Update([&](WriteTxn& w) {
      KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "big" + std::to_string(i), {}));
      KVFS_RETURN_IF_ERROR(w.Write(f.ino, 0, Block(kMiB, i)).status());
      if (static_cast<int>(big.size()) == i)
        big.push_back(f.ino);
      else
        big[i] = f.ino;  // a retried run: keep only the last
      return Status::Ok();
    });
    ASSERT_TRUE(st.ok()) << "file " << i << ": " << st.message();
  }
  // One transaction far bigger than the map at that moment.
  Ino huge = 0;
  Status st = store.Update([&](WriteTxn& w) {
    KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "huge", {}));
    huge = f.ino;
    return w.Write(f.ino, 0, Block(8 * kMiB, 99)).status();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  for (int i = 0; i < 500; ++i) {
    st = store.Update([&](WriteTxn& w) {
      KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "small" + std::to_string(i), {}));
      return w.Write(f.ino, 0, Block(1000, 1000 + i)).status();
    });
    ASSERT_TRUE(st.ok()) << st.message();
  }

  EXPECT_GE(store.map_size(), 16 * initial) << "map did not grow";
  auto check = [&](Store& s) {
    Status v = s.View([&](ReadTxn& r) {
      for (int i = 0; i < 20; ++i) {
        KVFS_ASSIGN_OR_RETURN(Inode f, r.Lookup(kRootIno, "big" + std::to_string(i)));
        EXPECT_EQ(f.ino, big[i]);
        EXPECT_EQ(f.size, kMiB);
        KVFS_ASSIGN_OR_RETURN(std::string data, r.Read(f.ino, 0, kMiB));
        EXPECT_TRUE(data == Block(kMiB, i)) << "file " << i << " differs";
      }
      KVFS_ASSIGN_OR_RETURN(std::string h, r.Read(huge, 0, 8 * kMiB));
      EXPECT_TRUE(h == Block(8 * kMiB, 99));
      for (int i = 0; i < 500; ++i) {
        KVFS_ASSIGN_OR_RETURN(Inode f, r.Lookup(kRootIno, "small" + std::to_string(i)));
        KVFS_ASSIGN_OR_RETURN(std::string data, r.Read(f.ino, 0, 1000));
        EXPECT_TRUE(data == Block(1000, 1000 + i)) << "small " << i;
      }
      KVFS_ASSIGN_OR_RETURN(auto entries, r.ListDir(kRootIno));
      EXPECT_EQ(entries.size(), 521u);
      return Status::Ok();
    });
    EXPECT_TRUE(v.ok()) << v.message();
  };
  check(store);
  // A reopen with the small initial size still reads it all, and can write more.
  opened = Status(Code::kIo, "closed");
  auto again = Store::Open(dir, options);
  ASSERT_TRUE(again.ok()) << again.status().message();
  check(**again);
  st = (*again)->Update([&](WriteTxn& w) {
    KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "after-reopen", {}));
    return w.Write(f.ino, 0, Block(2 * kMiB, 5)).status();
  });
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST(StoreMapGrowthTest, FailedTransactionAfterGrowthCommitsNothing) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  StoreOptions options;
  options.initial_map_size = kMiB;
  ASSERT_TRUE(Store::Create(dir, options).ok());
  auto opened = Store::Open(dir, options);
  ASSERT_TRUE(opened.ok());
  int runs = 0;
  Status st = (*opened)->Update([&](WriteTxn& w) {
    ++runs;
    KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "f", {}));
    KVFS_RETURN_IF_ERROR(w.Write(f.ino, 0, Block(4 * kMiB, 1)).status());
    return Status(Code::kInvalid, "abandon");
  });
  EXPECT_EQ(st.code(), Code::kInvalid);
  EXPECT_GT(runs, 1);  // it had to grow at least once
  Status v = (*opened)->View([](ReadTxn& r) {
    EXPECT_EQ(r.Lookup(kRootIno, "f").status().code(), Code::kNotFound);
    return Status::Ok();
  });
  EXPECT_TRUE(v.ok());
}

TEST(StoreMapGrowthTest, ThreadsWriteAndReadWhileTheMapGrows) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  StoreOptions options;
  options.initial_map_size = kMiB;
  ASSERT_TRUE(Store::Create(dir, options).ok());
  auto opened = Store::Open(dir, options);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  constexpr int kThreads = 4;
  constexpr int kFiles = 40;
  std::atomic<int> failures{0};
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kFiles; ++i) {
        Status st = store.Update([&](WriteTxn& w) {
          KVFS_ASSIGN_OR_RETURN(
              Inode f, w.Create(kRootIno, "t" + std::to_string(t) + "-" + std::to_string(i), {}));
          return w.Write(f.ino, 0, Block(100 * 1024, t * 1000 + i)).status();
        });
        if (!st.ok()) {
          ADD_FAILURE() << st.message();
          ++failures;
        }
      }
    });
  }
  std::thread reader([&] {
    while (writing) {
      Status st = store.View([](ReadTxn& r) { return r.ListDir(kRootIno).status(); });
      if (!st.ok()) {
        ADD_FAILURE() << st.message();
        ++failures;
      }
    }
  });
  for (auto& t : threads) t.join();
  writing = false;
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(store.map_size(), 8 * kMiB);
  Status v = store.View([&](ReadTxn& r) {
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kFiles; ++i) {
        KVFS_ASSIGN_OR_RETURN(
            Inode f, r.Lookup(kRootIno, "t" + std::to_string(t) + "-" + std::to_string(i)));
        KVFS_ASSIGN_OR_RETURN(std::string data, r.Read(f.ino, 0, 100 * 1024));
        EXPECT_TRUE(data == Block(100 * 1024, t * 1000 + i));
      }
    }
    return Status::Ok();
  });
  EXPECT_TRUE(v.ok()) << v.message();
}

}  // namespace
}  // namespace kvfs::store
