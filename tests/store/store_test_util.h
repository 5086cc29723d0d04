#pragma once
// Shared helpers for the store tests: a scratch directory removed on destruction,
// a fixture holding an open store, and short wrappers that turn a Result into a
// value or a test failure.

#include <gtest/gtest.h>
#include <lmdb.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "store/store.h"

namespace kvfs::store::testing {

// The seed of a randomized test: $KVFS_TEST_SEED when set (to replay a failure),
// else a fresh one. Tests print it with SCOPED_TRACE.
inline uint64_t TestSeed() {
  if (const char* env = std::getenv("KVFS_TEST_SEED")) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}
inline std::string SeedNote(uint64_t seed) {
  return "seed " + std::to_string(seed) + " (replay: KVFS_TEST_SEED=" + std::to_string(seed) + ")";
}

// `n` bytes of a pattern that differs with `seed` and has no short period.
inline std::string Pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 13 + i / 509);
  return s;
}

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kvfs-store-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // A path inside the directory that does not exist yet.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Unwraps a Result, failing the current test (fatally) when it holds an error.
#define KVFS_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  KVFS_ASSERT_OK_AND_ASSIGN_IMPL(KVFS_CONCAT(_test_res_, __LINE__), lhs, expr)
#define KVFS_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)              \
  auto tmp = (expr);                                                \
  ASSERT_TRUE(tmp.ok()) << #expr << ": " << tmp.status().message(); \
  lhs = std::move(tmp).value()

#define KVFS_ASSERT_OK(expr)                                           \
  do {                                                                 \
    ::kvfs::Status _test_st = (expr);                                  \
    ASSERT_TRUE(_test_st.ok()) << #expr << ": " << _test_st.message(); \
  } while (0)

#define KVFS_EXPECT_OK(expr)                                           \
  do {                                                                 \
    ::kvfs::Status _test_st = (expr);                                  \
    EXPECT_TRUE(_test_st.ok()) << #expr << ": " << _test_st.message(); \
  } while (0)

// A fixture with a new store in a scratch directory. Tests that need a clock they
// control set `clock_now_` (ms since the epoch); it starts at a fixed date.
class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.Sub("store");
    options_.clock_ms = [this] { return clock_now_; };
    ASSERT_TRUE(Store::Create(dir_, options_).ok());
    Reopen();
  }

  void Reopen() {
    store_.reset();
    auto opened = Store::Open(dir_, options_);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(opened).value();
  }

  // Runs `fn` in one write transaction and returns its status.
  template <typename Fn>
  Status Update(Fn&& fn) {
    return store_->Update(std::forward<Fn>(fn));
  }
  template <typename Fn>
  Status View(Fn&& fn) {
    return store_->View(std::forward<Fn>(fn));
  }

  // One-transaction conveniences; each returns the Result of the one call.
  Result<Inode> Create(Ino parent, std::string_view name, FileType type = FileType::kRegular,
                       uint32_t mode = 0644) {
    Result<Inode> out = Status(Code::kIo, "not run");
    Status st = Update([&](WriteTxn& w) {
      NewObject spec;
      spec.type = type;
      spec.mode = mode;
      spec.uid = 1000;
      spec.gid = 1000;
      if (type == FileType::kSymlink) spec.symlink_target = "target";
      out = w.Create(parent, name, spec);
      return out.status();
    });
    if (!st.ok()) return st;
    return out;
  }
  Result<Inode> Mkdir(Ino parent, std::string_view name) {
    return Create(parent, name, FileType::kDirectory, 0755);
  }
  Result<Inode> Get(Ino ino) {
    Result<Inode> out = Status(Code::kIo, "not run");
    Status st = View([&](ReadTxn& r) {
      out = r.Get(ino);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }
  Result<Inode> Lookup(Ino parent, std::string_view name) {
    Result<Inode> out = Status(Code::kIo, "not run");
    Status st = View([&](ReadTxn& r) {
      out = r.Lookup(parent, name);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }
  Result<Inode> Resolve(std::string_view path) {
    Result<Inode> out = Status(Code::kIo, "not run");
    Status st = View([&](ReadTxn& r) {
      out = r.Resolve(path);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }
  Result<std::vector<DirEntry>> ListDir(Ino dir) {
    Result<std::vector<DirEntry>> out = Status(Code::kIo, "not run");
    Status st = View([&](ReadTxn& r) {
      out = r.ListDir(dir);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }
  Result<std::string> Read(Ino ino, uint64_t offset, size_t size) {
    Result<std::string> out = Status(Code::kIo, "not run");
    Status st = View([&](ReadTxn& r) {
      out = r.Read(ino, offset, size);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }
  Result<Inode> Write(Ino ino, uint64_t offset, std::string_view data) {
    Result<Inode> out = Status(Code::kIo, "not run");
    Status st = Update([&](WriteTxn& w) {
      out = w.Write(ino, offset, data);
      return out.status();
    });
    if (!st.ok()) return st;
    return out;
  }
  Result<Inode> Truncate(Ino ino, uint64_t size) {
    Result<Inode> out = Status(Code::kIo, "not run");
    Status st = Update([&](WriteTxn& w) {
      AttrChange c;
      c.size = size;
      out = w.SetAttr(ino, c);
      return out.status();
    });
    if (!st.ok()) return st;
    return out;
  }
  Result<RenameOutcome> Rename(Ino parent, std::string_view name, Ino new_parent,
                               std::string_view new_name, unsigned flags = 0) {
    Result<RenameOutcome> out = Status(Code::kIo, "not run");
    Status st = Update([&](WriteTxn& w) {
      out = w.Rename(parent, name, new_parent, new_name, flags);
      return out.status();
    });
    if (!st.ok()) return st;
    return out;
  }
  Result<std::vector<Change>> Feed(uint64_t after = 0) {
    Result<std::vector<Change>> out = Status(Code::kIo, "not run");
    Status st = View([&](ReadTxn& r) {
      out = r.ChangesSince(after);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }
  std::vector<std::string> Names(Ino dir) {
    std::vector<std::string> names;
    auto entries = ListDir(dir);
    EXPECT_TRUE(entries.ok()) << entries.status().message();
    if (entries.ok()) {
      for (const DirEntry& e : *entries) names.push_back(e.name);
    }
    return names;
  }
  // The store's tables check sound (ReadTxn::Check), else the first problem fails.
  void ExpectSound() {
    KVFS_EXPECT_OK(View([&](ReadTxn& r) {
      auto report = r.Check(10);
      EXPECT_TRUE(report.ok() && report->sound())
          << (report.ok() && !report->problems.empty() ? report->problems[0] : "");
      return Status::Ok();
    }));
  }

  TempDir tmp_;
  std::string dir_;
  uint64_t clock_now_ = 1'800'000'000'000;  // 2027-01-15, far from any edge
  StoreOptions options_;
  std::unique_ptr<Store> store_;
};

// Edits table `table` of the closed store in `store_dir` with raw LMDB, bypassing
// every rule of the store: `fn` runs in one write transaction, committed after it.
// For tests of what the store does with records it did not write.
inline void EditTableDirectly(const std::string& store_dir, const char* table,
                              const std::function<void(MDB_txn*, MDB_dbi)>& fn) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), MDB_SUCCESS);
  mdb_env_set_maxdbs(env, 16);
  ASSERT_EQ(mdb_env_open(env, StoreDbDir(store_dir).c_str(), 0, 0600), MDB_SUCCESS);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), MDB_SUCCESS);
  MDB_dbi dbi;
  ASSERT_EQ(mdb_dbi_open(txn, table, 0, &dbi), MDB_SUCCESS);
  fn(txn, dbi);
  ASSERT_EQ(mdb_txn_commit(txn), MDB_SUCCESS);
  mdb_env_close(env);
}
inline void RawPut(MDB_txn* txn, MDB_dbi dbi, const std::string& key, const std::string& value) {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{value.size(), const_cast<char*>(value.data())};
  ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), MDB_SUCCESS);
}
inline void RawDel(MDB_txn* txn, MDB_dbi dbi, const std::string& key) {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  ASSERT_EQ(mdb_del(txn, dbi, &k, nullptr), MDB_SUCCESS);
}

}  // namespace kvfs::store::testing
