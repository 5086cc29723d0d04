// Creating and opening stores: clear errors for everything that is not a store
// this build can read.
#include <gtest/gtest.h>
#include <lmdb.h>
#include <sys/stat.h>

#include <fstream>

#include "base/bytes.h"
#include "store/keys.h"
#include "store/store.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

using testing::TempDir;

// Writes `value` under `name` in the meta table, bypassing the store.
void PutMetaDirectly(const std::string& store_dir, const std::string& name,
                     const std::string& value) {
  testing::EditTableDirectly(store_dir, keys::kMetaTable, [&](MDB_txn* txn, MDB_dbi meta) {
    testing::RawPut(txn, meta, name, value);
  });
}

std::string FormatBytes(uint32_t format) {
  ByteWriter w;
  w.U32(format);
  return w.Take();
}

TEST(StoreOpenTest, CreateThenOpen) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir).ok());
  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  for (const char* file : {"/data.mdb", "/lock.mdb"}) {
    ASSERT_EQ(stat((StoreDbDir(dir) + file).c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_NE((*store)->node_id(), 0u);
  EXPECT_NE((*store)->node_id(), kRootObject.node);
  Status st2 = (*store)->View([](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(Inode root, r.Get(kRootIno));
    EXPECT_TRUE(root.is_dir());
    EXPECT_EQ(root.oid, kRootObject);
    EXPECT_EQ(root.nlink, 2u);
    KVFS_ASSIGN_OR_RETURN(Ino found, r.FindObject(kRootObject));
    EXPECT_EQ(found, kRootIno);
    KVFS_ASSIGN_OR_RETURN(Inode resolved, r.Resolve(""));
    EXPECT_EQ(resolved.ino, kRootIno);
    return Status::Ok();
  });
  EXPECT_TRUE(st2.ok()) << st2.message();
}

TEST(StoreOpenTest, NodeIdIsKeptAcrossOpens) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir).ok());
  auto a = Store::Open(dir);
  ASSERT_TRUE(a.ok());
  const uint64_t id = (*a)->node_id();
  a = Status(Code::kIo, "closed");
  auto b = Store::Open(dir);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->node_id(), id);
}

TEST(StoreOpenTest, TwoStoresHaveDifferentNodeIds) {
  TempDir tmp;
  ASSERT_TRUE(Store::Create(tmp.Sub("a")).ok());
  ASSERT_TRUE(Store::Create(tmp.Sub("b")).ok());
  auto a = Store::Open(tmp.Sub("a"));
  auto b = Store::Open(tmp.Sub("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->node_id(), (*b)->node_id());
}

TEST(StoreOpenTest, MissingDirectoryIsNotFound) {
  TempDir tmp;
  auto r = Store::Open(tmp.Sub("nope"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("kvfs init"), std::string::npos) << r.status().message();
}

TEST(StoreOpenTest, DirectoryThatIsNotAStoreIsNotFound) {
  TempDir tmp;
  std::ofstream(tmp.Sub("some-file")) << "hello";
  auto r = Store::Open(tmp.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("not a kvfs store"), std::string::npos)
      << r.status().message();
}

TEST(StoreOpenTest, RegularFileIsNotADirectory) {
  TempDir tmp;
  std::ofstream(tmp.Sub("f")) << "hello";
  auto r = Store::Open(tmp.Sub("f"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotDir);
}

TEST(StoreOpenTest, LmdbEnvironmentWithoutTablesIsCorruption) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(StoreDbDir(dir).c_str(), 0700), 0);
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), MDB_SUCCESS);
  ASSERT_EQ(mdb_env_open(env, StoreDbDir(dir).c_str(), 0, 0600), MDB_SUCCESS);
  mdb_env_close(env);
  auto r = Store::Open(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption);
}

TEST(StoreOpenTest, NewerFormatIsVersionError) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir).ok());
  PutMetaDirectly(dir, keys::kMetaFormat, FormatBytes(kStoreFormat + 1));
  auto r = Store::Open(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kVersion);
  EXPECT_NE(r.status().message().find("upgrade kvfs"), std::string::npos) << r.status().message();
}

TEST(StoreOpenTest, CurrentFormatWrittenDirectlyStillOpens) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir).ok());
  PutMetaDirectly(dir, keys::kMetaFormat, FormatBytes(kStoreFormat));
  EXPECT_TRUE(Store::Open(dir).ok());
}

TEST(StoreOpenTest, DamagedMetaIsCorruption) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir).ok());
  PutMetaDirectly(dir, keys::kMetaNodeId, "short");
  auto r = Store::Open(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption);
}

TEST(StoreOpenTest, CreateRefusesExistingStoreAndNonEmptyDir) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir).ok());
  EXPECT_EQ(Store::Create(dir).code(), Code::kExists);
  std::ofstream(tmp.Sub("junk")) << "x";
  EXPECT_EQ(Store::Create(tmp.path()).code(), Code::kExists);
  EXPECT_EQ(Store::Create(tmp.Sub("junk")).code(), Code::kExists);
}

TEST(StoreOpenTest, CreateInExistingEmptyDirectory) {
  TempDir tmp;
  const std::string dir = tmp.Sub("empty");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_TRUE(Store::Create(dir).ok());
  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(Store::Open(dir).ok());
}

TEST(StoreOpenTest, ReadOnlyStoreRefusesUpdates) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir).ok());
  StoreOptions ro;
  ro.read_only = true;
  auto store = Store::Open(dir, ro);
  ASSERT_TRUE(store.ok()) << store.status().message();
  Status st = (*store)->Update([](WriteTxn&) { return Status::Ok(); });
  EXPECT_EQ(st.code(), Code::kAccess);
  EXPECT_TRUE((*store)->View([](ReadTxn& r) { return r.Get(kRootIno).status(); }).ok());
}

TEST(StoreOpenTest, FailedUpdateCommitsNothing) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir).ok());
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok());
  Status st = (*store)->Update([](WriteTxn& w) {
    KVFS_RETURN_IF_ERROR(w.Create(kRootIno, "f", {}).status());
    return Status(Code::kInvalid, "changed my mind");
  });
  EXPECT_EQ(st.code(), Code::kInvalid);
  Status view = (*store)->View([](ReadTxn& r) {
    EXPECT_EQ(r.Lookup(kRootIno, "f").status().code(), Code::kNotFound);
    KVFS_ASSIGN_OR_RETURN(uint64_t last, r.LastSeq());
    EXPECT_EQ(last, 0u);
    return Status::Ok();
  });
  EXPECT_TRUE(view.ok());
  // The counters were not advanced by the failed transaction either.
  Status again = (*store)->Update([](WriteTxn& w) {
    KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "f", {}));
    EXPECT_EQ(f.ino, 2u);
    EXPECT_EQ(f.seq, 1u);
    return Status::Ok();
  });
  EXPECT_TRUE(again.ok()) << again.message();
}

TEST(StoreOpenTest, NoSyncStoreKeepsCommitsAndSyncs) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir).ok());
  StoreOptions options;
  options.no_sync = true;
  {
    auto store = Store::Open(dir, options);
    ASSERT_TRUE(store.ok());
    Status st = (*store)->Update([](WriteTxn& w) {
      KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "f", {}));
      return w.Write(f.ino, 0, "kept").status();
    });
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_TRUE((*store)->Sync().ok());
  }
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok());
  Status st = (*store)->View([](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(Inode f, r.Resolve("f"));
    KVFS_ASSIGN_OR_RETURN(std::string data, r.Read(f.ino, 0, 100));
    EXPECT_EQ(data, "kept");
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.message();
}

}  // namespace
}  // namespace kvfs::store
