// `kvfs mkdir [-p]` and `kvfs rm [-r]`.
#include "cli_test.h"

namespace kvfs::cli::testing {
namespace {

TEST_F(StoreTest, MkdirCreatesDirectory) {
  EXPECT_EQ(KvfsOk({"mkdir", "d"}), "");
  EXPECT_EQ(StatField(KvfsOk({"stat", "d"}), "type"), "dir");
  EXPECT_EQ(StatField(KvfsOk({"stat", "d"}), "mode"), "0755 (drwxr-xr-x)");
  EXPECT_EQ(KvfsOk({"mkdir", "--mode", "700", "d/private"}), "");
  EXPECT_EQ(StatField(KvfsOk({"stat", "d/private"}), "mode"), "0700 (drwx------)");
  EXPECT_EQ(KvfsOk({"ls", "-r"}), "d/\nd/private/\n");
}

TEST_F(StoreTest, MkdirWithoutParentsNeedsTheParent) {
  const std::string before = Snapshot();
  ExpectError(Kvfs({"mkdir", "x/y/z"}), 1, "mkdir -p");
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(StoreTest, MkdirOfExistingKeyFails) {
  ASSERT_EQ(KvfsOk({"mkdir", "d"}), "");
  ASSERT_EQ(KvfsOk({"set", "f", "v"}), "");
  const std::string before = Snapshot();
  ExpectError(Kvfs({"mkdir", "d"}), 2, "already exists");
  ExpectError(Kvfs({"mkdir", "f"}), 2, "already exists");
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(StoreTest, MkdirParentsCreatesChainAndAcceptsExisting) {
  EXPECT_EQ(KvfsOk({"mkdir", "-p", "x/y/z"}), "");
  EXPECT_EQ(KvfsOk({"ls", "-r"}), "x/\nx/y/\nx/y/z/\n");
  const std::string before = Snapshot();
  EXPECT_EQ(KvfsOk({"mkdir", "-p", "x/y"}), "");  // nothing to do, nothing written
  EXPECT_EQ(Snapshot(), before);
  ASSERT_EQ(KvfsOk({"set", "x/file", "v"}), "");
  const std::string with_file = Snapshot();
  ExpectError(Kvfs({"mkdir", "-p", "x/file/sub"}), 2, "x/file");
  EXPECT_EQ(Snapshot(), with_file);
}

TEST_F(StoreTest, RmRemovesFile) {
  ASSERT_EQ(KvfsOk({"set", "d/f", "12345"}), "");
  ASSERT_EQ(KvfsOk({"set", "d/g", "6"}), "");
  EXPECT_EQ(KvfsOk({"rm", "d/f"}), "");
  ExpectError(Kvfs({"get", "d/f"}), 1);
  EXPECT_EQ(KvfsOk({"ls", "d"}), "g\n");
  EXPECT_EQ(KvfsOk({"count"}), "files: 1\ndirs: 1\nsymlinks: 0\nbytes: 1\n");
  // The name is free again.
  ASSERT_EQ(KvfsOk({"set", "d/f", "new"}), "");
  EXPECT_EQ(KvfsOk({"get", "d/f"}), "new");
}

TEST_F(StoreTest, RmOfMissingKeyIsNotFound) {
  ASSERT_EQ(KvfsOk({"set", "f", "v"}), "");
  const std::string before = Snapshot();
  ExpectError(Kvfs({"rm", "nope"}), 1, "nope");
  ExpectError(Kvfs({"rm", "-r", "nope/deeper"}), 1);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(StoreTest, RmOfNonEmptyDirectoryNeedsRecursive) {
  ASSERT_EQ(KvfsOk({"set", "d/f", "v"}), "");
  const std::string before = Snapshot();
  ExpectError(Kvfs({"rm", "d"}), 2, "kvfs rm -r d");
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(KvfsOk({"get", "d/f"}), "v");
}

TEST_F(StoreTest, RmOfEmptyDirectory) {
  ASSERT_EQ(KvfsOk({"mkdir", "-p", "d/e"}), "");
  EXPECT_EQ(KvfsOk({"rm", "d/e"}), "");
  EXPECT_EQ(KvfsOk({"ls", "-r"}), "d/\n");
}

TEST_F(StoreTest, RmRecursiveRemovesSubtree) {
  ASSERT_EQ(KvfsOk({"set", "keep", "k"}), "");
  ASSERT_EQ(KvfsOk({"set", "tree/a", "1"}), "");
  ASSERT_EQ(KvfsOk({"set", "tree/sub/b", "22"}), "");
  ASSERT_EQ(KvfsOk({"set", "tree/sub/deeper/c", "333"}), "");
  ASSERT_EQ(KvfsOk({"mkdir", "tree/empty"}), "");
  EXPECT_EQ(KvfsOk({"rm", "-r", "tree"}), "");
  EXPECT_EQ(KvfsOk({"ls", "-r"}), "keep\n");
  EXPECT_EQ(KvfsOk({"count"}), "files: 1\ndirs: 0\nsymlinks: 0\nbytes: 1\n");
  ExpectError(Kvfs({"stat", "tree"}), 1);
  // Every removed object is a delete in the feed.
  const std::string log = KvfsOk({"log", "-n", "1000"});
  size_t deletes = 0;
  for (size_t pos = 0; (pos = log.find("\tdelete\t", pos)) != std::string::npos; ++pos) ++deletes;
  EXPECT_EQ(deletes, 7u) << log;  // tree, a, sub, b, deeper, c, empty
  // A recreated tree starts empty.
  ASSERT_EQ(KvfsOk({"set", "tree/a", "again"}), "");
  EXPECT_EQ(KvfsOk({"ls", "-r", "tree"}), "a\n");
}

TEST_F(StoreTest, RmRecursiveOfFileWorks) {
  ASSERT_EQ(KvfsOk({"set", "f", "v"}), "");
  EXPECT_EQ(KvfsOk({"rm", "-r", "f"}), "");
  EXPECT_EQ(KvfsOk({"ls"}), "");
}

TEST_F(StoreTest, RmOfRootIsRefused) {
  ASSERT_EQ(KvfsOk({"set", "f", "v"}), "");
  const std::string before = Snapshot();
  ExpectError(Kvfs({"rm", "-r", "/"}), 2, "root");
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace kvfs::cli::testing
