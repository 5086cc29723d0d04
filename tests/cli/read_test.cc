// `kvfs ls`, `stat`, `count` and `log`: what scripts parse.
#include <unistd.h>

#include <sstream>
#include <tuple>

#include "cli_test.h"

namespace kvfs::cli::testing {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// "2026-11-22T17:18:00.123Z/5/00000000deadbeef" -> (time text, logical, node): the
// ISO time sorts as text, the logical counter as a number.
std::tuple<std::string, long, std::string> ParseStamp(const std::string& stamp) {
  const size_t a = stamp.find('/');
  const size_t b = stamp.find('/', a + 1);
  EXPECT_NE(b, std::string::npos) << stamp;
  if (b == std::string::npos) return {};
  return {stamp.substr(0, a), std::stol(stamp.substr(a + 1, b - a - 1)), stamp.substr(b + 1)};
}

class ListTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_EQ(KvfsOk({"set", "b/x", "12345"}), "");
    ASSERT_EQ(KvfsOk({"set", "b/sub/y", "1"}), "");
    ASSERT_EQ(KvfsOk({"set", "a", "hello"}), "");
    ASSERT_EQ(KvfsOk({"mkdir", "c"}), "");
  }
};

TEST_F(ListTest, LsListsNamesInOrderWithDirsMarked) {
  EXPECT_EQ(KvfsOk({"ls"}), "a\nb/\nc/\n");
  EXPECT_EQ(KvfsOk({"ls", "b"}), "sub/\nx\n");
  EXPECT_EQ(KvfsOk({"ls", "c"}), "");
  EXPECT_EQ(KvfsOk({"ls", "a"}), "a\n");  // a file lists as itself
}

TEST_F(ListTest, LsRecursiveListsDepthFirst) {
  EXPECT_EQ(KvfsOk({"ls", "-r"}), "a\nb/\nb/sub/\nb/sub/y\nb/x\nc/\n");
  EXPECT_EQ(KvfsOk({"ls", "b", "-r"}), "sub/\nsub/y\nx\n");
}

TEST_F(ListTest, LsLongShowsModeOwnerSizeAndTime) {
  ASSERT_EQ(KvfsOk({"set", "--mode", "600", "b/x", "123456"}), "");
  const auto lines = Lines(KvfsOk({"ls", "-l", "b"}));
  ASSERT_EQ(lines.size(), 2u);
  std::istringstream x(lines[1]);
  std::string mode, time, name;
  unsigned uid = 0, gid = 0;
  unsigned long long size = 0;
  x >> mode >> uid >> gid >> size >> time >> name;
  EXPECT_EQ(mode, "-rw-------");
  EXPECT_EQ(uid, getuid());
  EXPECT_EQ(gid, getgid());
  EXPECT_EQ(size, 6u);
  EXPECT_EQ(time.size(), 20u) << time;  // 2026-11-22T17:18:00Z
  EXPECT_EQ(time.back(), 'Z');
  EXPECT_EQ(name, "x");
  EXPECT_EQ(lines[0].substr(0, 10), "drwxr-xr-x");
  EXPECT_EQ(lines[0].substr(lines[0].size() - 5), " sub/");
  EXPECT_EQ(Lines(KvfsOk({"ls", "-r", "-l"})).size(), 6u);
}

TEST_F(ListTest, LsOfMissingPrefixIsNotFound) {
  ExpectError(Kvfs({"ls", "nope"}), 1, "nope");
  ExpectError(Kvfs({"ls", "a/below"}), 1);
}

TEST_F(ListTest, StatShowsEveryField) {
  const std::string out = KvfsOk({"stat", "b/x"});
  EXPECT_EQ(StatField(out, "key"), "b/x");
  EXPECT_EQ(StatField(out, "type"), "file");
  EXPECT_EQ(StatField(out, "size"), "5");
  EXPECT_EQ(StatField(out, "mode"), "0644 (-rw-r--r--)");
  EXPECT_EQ(StatField(out, "uid"), std::to_string(getuid()));
  EXPECT_EQ(StatField(out, "gid"), std::to_string(getgid()));
  EXPECT_EQ(StatField(out, "links"), "1");
  EXPECT_EQ(StatField(out, "mtime").size(), 30u) << out;  // with nanoseconds
  const std::string stamp = StatField(out, "stamp");
  const std::string origin = StatField(out, "origin");
  ASSERT_EQ(origin.size(), 16u) << out;
  EXPECT_EQ(std::get<2>(ParseStamp(stamp)), origin);  // the stamp's node is the origin
  const std::string object = StatField(out, "object");
  EXPECT_EQ(object.substr(0, 17), origin + "-") << out;  // minted by this node
  EXPECT_NE(StatField(out, "inode"), "");
  EXPECT_EQ(StatField(out, "versions").substr(0, 17), origin + ":") << out;
  EXPECT_EQ(StatField(KvfsOk({"stat", "b"}), "type"), "dir");
  EXPECT_EQ(StatField(KvfsOk({"stat", "/"}), "inode"), "1");
}

TEST_F(ListTest, StatStampIncreasesWithEveryWrite) {
  auto stamp_of = [&] { return ParseStamp(StatField(KvfsOk({"stat", "a"}), "stamp")); };
  auto versions_of = [&] { return StatField(KvfsOk({"stat", "a"}), "versions"); };
  const auto first = stamp_of();
  const std::string v1 = versions_of();
  ASSERT_EQ(KvfsOk({"set", "a", "again"}), "");
  const auto second = stamp_of();
  EXPECT_LT(first, second);
  EXPECT_NE(versions_of(), v1);
  ASSERT_EQ(KvfsOk({"set", "a", "and again"}), "");
  EXPECT_LT(second, stamp_of());
}

TEST_F(ListTest, CountTotalsFilesDirsAndBytes) {
  EXPECT_EQ(KvfsOk({"count"}), "files: 3\ndirs: 3\nsymlinks: 0\nbytes: 11\n");
  EXPECT_EQ(KvfsOk({"count", "b"}), "files: 2\ndirs: 1\nsymlinks: 0\nbytes: 6\n");
  EXPECT_EQ(KvfsOk({"count", "c"}), "files: 0\ndirs: 0\nsymlinks: 0\nbytes: 0\n");
  EXPECT_EQ(KvfsOk({"count", "a"}), "files: 1\ndirs: 0\nsymlinks: 0\nbytes: 5\n");
  ExpectError(Kvfs({"count", "nope"}), 1);
}

TEST_F(StoreTest, LogShowsNewestLast) {
  ASSERT_EQ(KvfsOk({"set", "first", "1"}), "");
  ASSERT_EQ(KvfsOk({"set", "second", "2"}), "");
  auto lines = Lines(KvfsOk({"log"}));
  ASSERT_GE(lines.size(), 2u);
  const std::string& last = lines.back();
  EXPECT_EQ(last.substr(last.rfind('\t') + 1), "second") << last;
  // Every line: seq, stamp, op, key; seqs strictly increase.
  long prev_seq = 0;
  for (const std::string& line : lines) {
    std::vector<std::string> cols;
    std::istringstream in(line);
    for (std::string col; std::getline(in, col, '\t');) cols.push_back(col);
    ASSERT_EQ(cols.size(), 4u) << line;
    EXPECT_GT(std::stol(cols[0]), prev_seq) << line;
    prev_seq = std::stol(cols[0]);
    EXPECT_EQ(cols[1].find('/'), 24u) << line;  // "....T..:..:..mmmZ/" stamp shape
  }
  ASSERT_EQ(KvfsOk({"set", "first", "one"}), "");
  lines = Lines(KvfsOk({"log"}));
  EXPECT_EQ(lines.back().substr(lines.back().rfind('\t') + 1), "first");
  EXPECT_NE(lines.back().find("\twrite\t"), std::string::npos) << lines.back();
}

TEST_F(StoreTest, LogLimitsToTheLastN) {
  for (const char* key : {"k1", "k2", "k3", "k4", "k5"}) ASSERT_EQ(KvfsOk({"set", key, "v"}), "");
  const auto all = Lines(KvfsOk({"log", "-n", "1000"}));
  const auto two = Lines(KvfsOk({"log", "-n", "2"}));
  ASSERT_EQ(two.size(), 2u);
  ASSERT_GE(all.size(), 5u);
  EXPECT_EQ(two[0], all[all.size() - 2]);
  EXPECT_EQ(two[1], all.back());
  EXPECT_EQ(KvfsOk({"log", "-n", "0"}), "");
  ExpectError(Kvfs({"log", "-n", "many"}), 2);
}

TEST_F(StoreTest, LogNamesDeletedObjectsByInode) {
  ASSERT_EQ(KvfsOk({"set", "gone", "v"}), "");
  const std::string ino = StatField(KvfsOk({"stat", "gone"}), "inode");
  ASSERT_EQ(KvfsOk({"rm", "gone"}), "");
  const std::string log = KvfsOk({"log"});
  EXPECT_NE(log.find("\tdelete\t(deleted ino " + ino + ")\n"), std::string::npos) << log;
}

}  // namespace
}  // namespace kvfs::cli::testing
