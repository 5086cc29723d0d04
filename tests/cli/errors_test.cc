// Bad input: the exact exit code, one line on stderr, and an unchanged store.
#include <filesystem>

#include "cli_test.h"

namespace kvfs::cli::testing {
namespace {

TEST_F(CliTest, MissingStoreIsNotFoundAndMentionsInit) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"get", "k"},
                                             {"set", "k", "v"},
                                             {"ls"},
                                             {"count"},
                                             {"log"},
                                             {"rm", "k"},
                                             {"mkdir", "d"},
                                             {"stat", "k"}}) {
    ExpectError(Kvfs(args), 1, "kvfs init");
  }
  // set without VALUE looks for the store before it reads stdin.
  ExpectError(Kvfs({"set", "k"}, "value on stdin"), 1, "kvfs init");
  EXPECT_FALSE(std::filesystem::exists(store_dir())) << "a failed command created the store";
}

TEST_F(CliTest, DirectoryThatIsNotAStoreIsNotFound) {
  std::filesystem::create_directories(store_dir());
  ExpectError(Kvfs({"get", "k"}), 1, "kvfs init");
  EXPECT_TRUE(std::filesystem::is_empty(store_dir()));
}

class BadInputTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_EQ(KvfsOk({"set", "a/b", "value"}), "");
    ASSERT_EQ(KvfsOk({"set", "file", "x"}), "");
    before_ = Snapshot();
  }
  void TearDown() override {
    EXPECT_EQ(Snapshot(), before_) << "bad input changed the store";
    StoreTest::TearDown();
  }
  std::string before_;
};

TEST_F(BadInputTest, EmptyPathComponent) {
  ExpectError(Kvfs({"set", "a//b", "v"}), 2, "empty path component");
  ExpectError(Kvfs({"get", "a//b"}), 2, "empty path component");
  ExpectError(Kvfs({"mkdir", "-p", "x//y"}), 2);
  ExpectError(Kvfs({"rm", "a//b"}), 2);
}

TEST_F(BadInputTest, NameOver255Bytes) {
  const std::string name(256, 'n');
  ExpectError(Kvfs({"set", name, "v"}), 2, "255");
  ExpectError(Kvfs({"set", "a/" + name + "/c", "v"}), 2, "255");
  ExpectError(Kvfs({"mkdir", name}), 2, "255");
  // 255 bytes is fine (and then removed, to leave the store as it was).
  EXPECT_EQ(KvfsOk({"set", std::string(255, 'n'), "v"}), "");
  EXPECT_EQ(KvfsOk({"get", std::string(255, 'n')}), "v");
  before_ = Snapshot();
}

TEST_F(BadInputTest, KeyOver4095Bytes) {
  std::string key;
  while (key.size() < 5000) key += "abcdefghi/";
  key.resize(5000);
  ExpectError(Kvfs({"set", key, "v"}), 2, "4095");
  ExpectError(Kvfs({"get", key}), 2, "4095");
  ExpectError(Kvfs({"set", key}, "from stdin"), 2, "4095");
}

TEST_F(BadInputTest, DotNames) {
  ExpectError(Kvfs({"set", "a/../b", "v"}), 2, "..");
  ExpectError(Kvfs({"set", "./b", "v"}), 2);
}

TEST_F(BadInputTest, GetOfMissingKey) {
  ExpectError(Kvfs({"get", "nope"}), 1, "nope");
  ExpectError(Kvfs({"get", "a/nope"}), 1, "a/nope");
  ExpectError(Kvfs({"get", "file/below"}), 1, "file/below");
  ExpectError(Kvfs({"stat", "nope"}), 1, "nope");
}

TEST_F(BadInputTest, GetOfDirectory) { ExpectError(Kvfs({"get", "a"}), 2, "a is a directory"); }

TEST_F(BadInputTest, BadMode) {
  ExpectError(Kvfs({"set", "--mode", "9", "new", "v"}), 2, "mode");
  ExpectError(Kvfs({"set", "--mode", "rw", "file", "v"}), 2, "mode");
  ExpectError(Kvfs({"set", "--mode", "17777", "file", "v"}), 2, "mode");
  ExpectError(Kvfs({"mkdir", "--mode", "abc", "d"}), 2, "mode");
}

TEST_F(BadInputTest, UnknownSubcommand) {
  ExpectError(Kvfs({"frobnicate", "k"}), 2, "unknown command");
}

TEST_F(BadInputTest, UsageErrors) {
  ExpectError(Kvfs({}), 2, "subcommand");
  ExpectError(Kvfs({"get"}), 2, "KEY");
  ExpectError(Kvfs({"get", "a", "b"}), 2);
  ExpectError(Kvfs({"set"}), 2, "KEY");
  ExpectError(Kvfs({"ls", "--bogus"}), 2, "--bogus");
  ExpectError(Kvfs({"--store"}), 2);
  ExpectError(Kvfs({"log", "-n", "-3"}), 2);
}

TEST_F(BadInputTest, ControlBytesInKeysStayOnOneLine) {
  ExpectError(Kvfs({"get", "line1\nline2"}), 1, "line1\\x0aline2");
}

}  // namespace
}  // namespace kvfs::cli::testing
