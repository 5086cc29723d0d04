// `kvfs check`: a summary and exit 0 for a sound store; the problems on stdout, one
// error line on stderr and exit 2 for a damaged one (damaged here with raw LMDB: a
// file's directory entry removed, as a lost page would).
#include <lmdb.h>

#include <cstdio>
#include <string>

#include "cli_test.h"

namespace kvfs::cli::testing {
namespace {

TEST_F(StoreTest, CheckOfASoundStorePrintsItsCounts) {
  ASSERT_EQ(KvfsOk({"set", "a/b", "12345"}), "");
  ASSERT_EQ(KvfsOk({"set", "c", "x"}), "");
  const std::string out = KvfsOk({"check"});
  EXPECT_NE(out.find(store_dir() + ": sound: 2 files, 2 directories"), std::string::npos) << out;
  EXPECT_NE(out.find("3 names, 2 content chunks (6 bytes)"), std::string::npos) << out;
}

TEST_F(StoreTest, CheckNotesARedoLogThatCouldNotBeReplayed) {
  ASSERT_EQ(KvfsOk({"set", "a", "hello"}), "");
  EXPECT_EQ(KvfsOk({"check"}).find("unreplayed"), std::string::npos);
  const std::string path = store_dir() + "/db/redo.log.unreplayed";
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  const std::string out = KvfsOk({"check"});  // still exit 0: the store is sound
  EXPECT_NE(out.find(": sound: "), std::string::npos) << out;
  EXPECT_NE(out.find("note: " + path + " holds transactions"), std::string::npos) << out;
}

TEST_F(StoreTest, CheckOfADamagedStoreListsTheProblemAndExits2) {
  ASSERT_EQ(KvfsOk({"set", "a", "hello"}), "");
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), MDB_SUCCESS);
  mdb_env_set_maxdbs(env, 16);
  ASSERT_EQ(mdb_env_open(env, (store_dir() + "/db").c_str(), 0, 0600), MDB_SUCCESS);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), MDB_SUCCESS);
  MDB_dbi dirents;
  ASSERT_EQ(mdb_dbi_open(txn, "dirents", 0, &dirents), MDB_SUCCESS);
  std::string key(8, '\0');  // the root's entry "a": root ino 1, big-endian, then the name
  key[7] = 1;
  key += "a";
  MDB_val k{key.size(), key.data()};
  ASSERT_EQ(mdb_del(txn, dirents, &k, nullptr), MDB_SUCCESS);
  ASSERT_EQ(mdb_txn_commit(txn), MDB_SUCCESS);
  mdb_env_close(env);

  const RunResult r = Kvfs({"check"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("problem: inode "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("has the name 'a' in directory inode 1, which has no such entry"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("is damaged (1 problem, listed above)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line on stderr: " << r.err;
}

}  // namespace
}  // namespace kvfs::cli::testing
