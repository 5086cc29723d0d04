#include "cli_test.h"

#include <stdlib.h>

#include <filesystem>

namespace kvfs::cli::testing {

void CliTest::SetUp() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/kvfs-cli-XXXXXX";
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  dir_ = templ;
  store_ = dir_ + "/store";
}

void CliTest::TearDown() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

RunResult CliTest::Kvfs(const std::vector<std::string>& args, const std::string& stdin_data) {
  std::vector<std::string> full{"--store", store_};
  full.insert(full.end(), args.begin(), args.end());
  RunOptions options;
  options.stdin_data = stdin_data;
  RunResult r = RunKvfs(full, options);
  EXPECT_FALSE(r.timed_out) << "kvfs timed out";
  return r;
}

std::string CliTest::KvfsOk(const std::vector<std::string>& args, const std::string& stdin_data) {
  RunResult r = Kvfs(args, stdin_data);
  std::string cmd;
  for (const auto& a : args) cmd += " " + a.substr(0, 40);
  EXPECT_EQ(r.exit_code, 0) << "kvfs" << cmd << " failed: " << r.err;
  EXPECT_EQ(r.err, "") << "kvfs" << cmd;
  return r.out;
}

std::string CliTest::Snapshot() {
  return "count:\n" + KvfsOk({"count"}) + "log:\n" + KvfsOk({"log", "-n", "1000000"}) + "ls:\n" +
         KvfsOk({"ls", "-r", "-l"});
}

void StoreTest::SetUp() {
  CliTest::SetUp();
  RunResult r = RunKvfs({"init", store_dir()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

void ExpectError(const RunResult& r, int code, const std::string& mention) {
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, code) << "stderr: " << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(LineCount(r.err), 1) << "stderr: " << r.err;
  EXPECT_TRUE(r.err.rfind("kvfs: ", 0) == 0) << "stderr: " << r.err;
  EXPECT_NE(r.err.find("; "), std::string::npos) << "no hint in: " << r.err;
  EXPECT_TRUE(!r.err.empty() && r.err.back() == '\n') << "stderr: " << r.err;
  for (const char* leak : {"terminate", "what()", "CLI::", "Run with --help"}) {
    EXPECT_EQ(r.err.find(leak), std::string::npos) << "leaked '" << leak << "': " << r.err;
  }
  if (!mention.empty()) {
    EXPECT_NE(r.err.find(mention), std::string::npos) << "'" << mention << "' not in: " << r.err;
  }
}

std::string StatField(const std::string& stat_out, const std::string& field) {
  const std::string prefix = field + ": ";
  size_t pos = 0;
  while (pos < stat_out.size()) {
    size_t end = stat_out.find('\n', pos);
    if (end == std::string::npos) end = stat_out.size();
    if (stat_out.compare(pos, prefix.size(), prefix) == 0) {
      return stat_out.substr(pos + prefix.size(), end - pos - prefix.size());
    }
    pos = end + 1;
  }
  return "";
}

}  // namespace kvfs::cli::testing
