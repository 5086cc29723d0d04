// `kvfs init`, global options (--store, $KVFS_STORE, the default under $HOME),
// --version and --help.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "cli_test.h"

namespace kvfs::cli::testing {
namespace {

mode_t PermBits(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(CliTest, InitCreatesPrivateStoreAndKey) {
  RunResult r = RunKvfs({"init", store_dir()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(PermBits(store_dir()), 0700u);
  EXPECT_EQ(PermBits(store_dir() + "/store.key"), 0600u);
  const std::string key = ReadFile(store_dir() + "/store.key");
  EXPECT_EQ(key.rfind("kvfs1-", 0), 0u);
  EXPECT_EQ(key.size(), 50u);  // "kvfs1-" + 43 base64url characters + '\n'
  // The key itself is never printed; init reports the store, not the secret.
  EXPECT_EQ(r.out.find(key.substr(6, 20)), std::string::npos);
  EXPECT_EQ(KvfsOk({"count"}), "files: 0\ndirs: 0\nsymlinks: 0\nbytes: 0\n");
}

TEST_F(CliTest, InitTwiceFailsAndKeepsKey) {
  ASSERT_EQ(RunKvfs({"init", store_dir()}).exit_code, 0);
  const std::string key = ReadFile(store_dir() + "/store.key");
  ASSERT_EQ(KvfsOk({"set", "k", "v"}), "");
  ExpectError(RunKvfs({"init", store_dir()}), 2, "already exists");
  EXPECT_EQ(ReadFile(store_dir() + "/store.key"), key);
  EXPECT_EQ(KvfsOk({"get", "k"}), "v");
}

TEST_F(CliTest, InitRefusesNonEmptyDirectory) {
  std::filesystem::create_directories(store_dir());
  std::ofstream(store_dir() + "/precious") << "data";
  ExpectError(RunKvfs({"init", store_dir()}), 2, "not empty");
  EXPECT_EQ(ReadFile(store_dir() + "/precious"), "data");
  EXPECT_FALSE(std::filesystem::exists(store_dir() + "/store.key"));
}

TEST_F(CliTest, InitUsesStoreFlagWithoutPositional) {
  RunResult r = RunKvfs({"--store", store_dir(), "init"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(store_dir() + "/store.key"));
}

TEST_F(CliTest, DefaultStoreLivesUnderHome) {
  RunOptions opts;
  opts.env = {{"HOME", dir()}};
  RunResult init = RunKvfs({"init"}, opts);
  ASSERT_EQ(init.exit_code, 0) << init.err;
  const std::string store = dir() + "/.local/share/kvfs/default";
  EXPECT_EQ(PermBits(store), 0700u);
  EXPECT_EQ(PermBits(store + "/store.key"), 0600u);
  ASSERT_EQ(RunKvfs({"set", "where", "home"}, opts).exit_code, 0);
  RunResult get = RunKvfs({"get", "where"}, opts);
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "home");
  // And the explicit store knows nothing of it.
  ASSERT_EQ(RunKvfs({"init", store_dir()}).exit_code, 0);
  ExpectError(Kvfs({"get", "where"}), 1);
}

TEST_F(StoreTest, KvfsStoreVariableSelectsStore) {
  ASSERT_EQ(KvfsOk({"set", "k", "from-flag"}), "");
  RunOptions opts;
  opts.env = {{"KVFS_STORE", store_dir()}, {"HOME", dir()}};
  RunResult r = RunKvfs({"get", "k"}, opts);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "from-flag");
  // --store wins over $KVFS_STORE.
  opts.env = {{"KVFS_STORE", dir() + "/elsewhere"}, {"HOME", dir()}};
  r = RunKvfs({"--store", store_dir(), "get", "k"}, opts);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ExpectError(RunKvfs({"get", "k"}, opts), 1, "kvfs init");
}

TEST_F(StoreTest, GlobalOptionsMayFollowTheSubcommand) {
  ASSERT_EQ(KvfsOk({"set", "k", "v"}), "");
  RunResult r = RunKvfs({"get", "k", "--store", store_dir()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "v");
}

TEST_F(StoreTest, LogLevelFlagAndVariable) {
  ASSERT_EQ(KvfsOk({"set", "k", "v"}), "");
  // Debug logging goes to stderr and leaves stdout (the value) alone.
  RunResult r = Kvfs({"--log-level", "debug", "get", "k"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "v");
  EXPECT_NE(r.err.find("opening store"), std::string::npos) << r.err;
  RunOptions opts;
  opts.env = {{"KVFS_LOG", "debug"}};
  r = RunKvfs({"--store", store_dir(), "get", "k"}, opts);
  EXPECT_EQ(r.out, "v");
  EXPECT_NE(r.err.find("opening store"), std::string::npos) << r.err;
  ExpectError(Kvfs({"--log-level", "loud", "get", "k"}), 2, "loud");
}

TEST(CliBasics, VersionPrintsVersion) {
  RunResult r = RunKvfs({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "kvfs 0.1.0\n");
  EXPECT_EQ(r.err, "");
}

TEST(CliBasics, HelpExitsZeroAndListsCommands) {
  RunResult r = RunKvfs({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* cmd : {"init", "get", "set", "ls", "rm", "mkdir", "stat", "count", "log"}) {
    EXPECT_NE(r.out.find(std::string("\n  ") + cmd + " "), std::string::npos) << cmd;
  }
  r = RunKvfs({"set", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--mode"), std::string::npos);
}

}  // namespace
}  // namespace kvfs::cli::testing
