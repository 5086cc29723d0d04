// The LMDB map starts small and grows by itself when full (MDB_MAP_FULL is retried),
// with plain writes and with MDB_WRITEMAP (the mount daemon's mode).
#include <gtest/gtest.h>
#include <sys/stat.h>

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

class StoreMapGrowthTest : public ::testing::TestWithParam<bool> {
 protected:
  StoreOptions Options() const {
    StoreOptions options;
    options.initial_map_size = kMiB;
    options.write_map = GetParam();
    return options;
  }
};

// Bytes of disk the store file has allocated, and its size.
std::pair<size_t, size_t> FileSpace(const std::string& dir) {
  struct stat st = {};
  if (stat((StoreDbDir(dir) + "/data.mdb").c_str(), &st) != 0) return {0, 0};
  return {static_cast<size_t>(st.st_blocks) * 512, static_cast<size_t>(st.st_size)};
}

TEST_P(StoreMapGrowthTest, GrowsFromOneMiBAndKeepsAllData) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  const StoreOptions options = Options();
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
  if (options.write_map) {
    // Every page of the map has disk blocks: a full disk cannot SIGBUS a commit.
    const auto [allocated, size] = FileSpace(dir);
    EXPECT_GE(allocated, store.map_size());
    EXPECT_GE(size, store.map_size());
  }
  auto check = [&](Store& s, size_t expect_entries) {
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
      EXPECT_EQ(entries.size(), expect_entries);
      return Status::Ok();
    });
    EXPECT_TRUE(v.ok()) << v.message();
  };
  check(store, 521);
  // A reopen with the small initial size still reads it all, and can write more.
  opened = Status(Code::kIo, "closed");
  auto again = Store::Open(dir, options);
  ASSERT_TRUE(again.ok()) << again.status().message();
  check(**again, 521);
  st = (*again)->Update([&](WriteTxn& w) {
    KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "after-reopen", {}));
    return w.Write(f.ino, 0, Block(2 * kMiB, 5)).status();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  // The other mode reads and writes the same file (the CLI writes plain while
  // the daemon has it mapped writable).
  again = Status(Code::kIo, "closed");
  StoreOptions other = options;
  other.write_map = !options.write_map;
  auto flipped = Store::Open(dir, other);
  ASSERT_TRUE(flipped.ok()) << flipped.status().message();
  check(**flipped, 522);  // and after-reopen
  st = (*flipped)->Update([&](WriteTxn& w) {
    KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "other-mode", {}));
    return w.Write(f.ino, 0, Block(3 * kMiB, 6)).status();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  st = (*flipped)->View([&](ReadTxn& r) -> Status {
    KVFS_ASSIGN_OR_RETURN(Inode f, r.Lookup(kRootIno, "after-reopen"));
    KVFS_ASSIGN_OR_RETURN(std::string data, r.Read(f.ino, 0, 2 * kMiB));
    EXPECT_TRUE(data == Block(2 * kMiB, 5));
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST_P(StoreMapGrowthTest, FailedTransactionAfterGrowthCommitsNothing) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  const StoreOptions options = Options();
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

TEST_P(StoreMapGrowthTest, ThreadsWriteAndReadWhileTheMapGrows) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  const StoreOptions options = Options();
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

INSTANTIATE_TEST_SUITE_P(Modes, StoreMapGrowthTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? std::string("WriteMap") : std::string("Plain");
                         });

}  // namespace
}  // namespace kvfs::store
