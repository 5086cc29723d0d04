// `kvfs set` and `kvfs get`: values are bytes, exactly; set creates what it needs.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "cli_test.h"

namespace kvfs::cli::testing {
namespace {

TEST_F(StoreTest, SetThenGetPrintsValue) {
  EXPECT_EQ(KvfsOk({"set", "hello", "world"}), "");
  EXPECT_EQ(KvfsOk({"get", "hello"}), "world");
}

TEST_F(StoreTest, AllByteValuesRoundTripThroughStdin) {
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i));
  value += value;  // and again, reversed, so order matters too
  std::reverse(value.begin() + 256, value.end());
  EXPECT_EQ(KvfsOk({"set", "bytes"}, value), "");
  const std::string got = KvfsOk({"get", "bytes"});
  EXPECT_EQ(got.size(), value.size());
  EXPECT_TRUE(got == value);
  EXPECT_EQ(StatField(KvfsOk({"stat", "bytes"}), "size"), "512");
}

TEST_F(StoreTest, EmptyValueFromArgumentAndFromStdin) {
  EXPECT_EQ(KvfsOk({"set", "from-arg", ""}), "");
  EXPECT_EQ(KvfsOk({"set", "from-stdin"}, ""), "");
  for (const char* key : {"from-arg", "from-stdin"}) {
    RunResult r = Kvfs({"get", key});
    EXPECT_EQ(r.exit_code, 0) << key << ": " << r.err;
    EXPECT_EQ(r.out, "") << key;
    EXPECT_EQ(StatField(KvfsOk({"stat", key}), "type"), "file") << key;
    EXPECT_EQ(StatField(KvfsOk({"stat", key}), "size"), "0") << key;
  }
  // Replacing a value with an empty one leaves nothing of the old bytes.
  EXPECT_EQ(KvfsOk({"set", "from-arg", "something"}), "");
  EXPECT_EQ(KvfsOk({"set", "from-arg"}, ""), "");
  EXPECT_EQ(KvfsOk({"get", "from-arg"}), "");
}

TEST_F(StoreTest, LargeRandomValueRoundTrips) {
  constexpr size_t kSize = size_t{50} << 20;  // 50 MiB: many 64 KiB chunks, odd tail
  std::mt19937_64 rng(20261122);
  std::string value(kSize + 12345, '\0');
  for (size_t i = 0; i + 8 <= value.size(); i += 8) {
    const uint64_t word = rng();
    std::memcpy(&value[i], &word, 8);
  }
  EXPECT_EQ(KvfsOk({"set", "big/blob"}, value), "");
  const std::string got = KvfsOk({"get", "big/blob"});
  ASSERT_EQ(got.size(), value.size());
  const auto diff = std::mismatch(got.begin(), got.end(), value.begin());
  EXPECT_TRUE(diff.first == got.end()) << "first difference at byte " << (diff.first - got.begin());
  EXPECT_EQ(KvfsOk({"count"}),
            "files: 1\ndirs: 1\nsymlinks: 0\nbytes: " + std::to_string(value.size()) + "\n");
}

TEST_F(StoreTest, ValueArgumentWinsOverStdin) {
  EXPECT_EQ(KvfsOk({"set", "k", "argument"}, "stdin bytes"), "");
  EXPECT_EQ(KvfsOk({"get", "k"}), "argument");
  EXPECT_EQ(KvfsOk({"set", "k"}, "stdin bytes"), "");
  EXPECT_EQ(KvfsOk({"get", "k"}), "stdin bytes");
}

TEST_F(StoreTest, SetReplacesWholeValue) {
  const std::string long_value(200000, 'x');  // spans several chunks
  EXPECT_EQ(KvfsOk({"set", "k"}, long_value), "");
  EXPECT_EQ(KvfsOk({"set", "k", "short"}), "");
  EXPECT_EQ(KvfsOk({"get", "k"}), "short");
  EXPECT_EQ(StatField(KvfsOk({"stat", "k"}), "size"), "5");
  EXPECT_EQ(KvfsOk({"count"}), "files: 1\ndirs: 0\nsymlinks: 0\nbytes: 5\n");
}

TEST_F(StoreTest, SetCreatesMissingParents) {
  EXPECT_EQ(KvfsOk({"set", "a/b/c", "deep"}), "");
  EXPECT_EQ(KvfsOk({"get", "a/b/c"}), "deep");
  EXPECT_EQ(StatField(KvfsOk({"stat", "a"}), "type"), "dir");
  EXPECT_EQ(StatField(KvfsOk({"stat", "a/b"}), "type"), "dir");
  EXPECT_EQ(StatField(KvfsOk({"stat", "a/b"}), "mode"), "0755 (drwxr-xr-x)");
  // Leading and trailing slashes name the same key.
  EXPECT_EQ(KvfsOk({"get", "/a/b/c"}), "deep");
  EXPECT_EQ(KvfsOk({"set", "a/b/d", "more"}), "");
  EXPECT_EQ(KvfsOk({"count"}), "files: 2\ndirs: 2\nsymlinks: 0\nbytes: 8\n");
}

TEST_F(StoreTest, SetModeAndOwner) {
  EXPECT_EQ(KvfsOk({"set", "plain", "x"}), "");
  EXPECT_EQ(StatField(KvfsOk({"stat", "plain"}), "mode"), "0644 (-rw-r--r--)");
  EXPECT_EQ(KvfsOk({"set", "--mode", "600", "secret", "x"}), "");
  EXPECT_EQ(StatField(KvfsOk({"stat", "secret"}), "mode"), "0600 (-rw-------)");
  // Replacing the value keeps the mode unless --mode is given.
  EXPECT_EQ(KvfsOk({"set", "secret", "y"}), "");
  EXPECT_EQ(StatField(KvfsOk({"stat", "secret"}), "mode"), "0600 (-rw-------)");
  EXPECT_EQ(KvfsOk({"set", "secret", "z", "--mode", "0640"}), "");
  EXPECT_EQ(StatField(KvfsOk({"stat", "secret"}), "mode"), "0640 (-rw-r-----)");
  const std::string stat = KvfsOk({"stat", "secret"});
  EXPECT_EQ(StatField(stat, "uid"), std::to_string(getuid()));
  EXPECT_EQ(StatField(stat, "gid"), std::to_string(getgid()));
}

TEST_F(StoreTest, GetOfDirectoryFails) {
  EXPECT_EQ(KvfsOk({"set", "dir/file", "x"}), "");
  ExpectError(Kvfs({"get", "dir"}), 2, "dir is a directory; use kvfs ls dir");
}

TEST_F(StoreTest, SetOverDirectoryFailsAndChangesNothing) {
  EXPECT_EQ(KvfsOk({"set", "dir/file", "x"}), "");
  const std::string before = Snapshot();
  ExpectError(Kvfs({"set", "dir", "value"}), 2, "is a directory");
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(StoreTest, SetBelowFileFailsAndChangesNothing) {
  EXPECT_EQ(KvfsOk({"set", "file", "x"}), "");
  const std::string before = Snapshot();
  ExpectError(Kvfs({"set", "file/below", "value"}), 2, "file");
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(KvfsOk({"get", "file"}), "x");
}

TEST_F(StoreTest, KeysMayHoldUnusualBytes) {
  const std::string name = "spaces and\ttabs \xc3\xa9 -dash";
  EXPECT_EQ(KvfsOk({"set", name, "odd"}), "");
  EXPECT_EQ(KvfsOk({"get", name}), "odd");
  EXPECT_EQ(KvfsOk({"ls"}), name + "\n");
}

}  // namespace
}  // namespace kvfs::cli::testing
