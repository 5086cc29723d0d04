#pragma once
// Fixtures for the CLI tests: each test gets a fresh temporary directory and runs the
// real `kvfs` binary on a store inside it.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kvfs_runner.h"

namespace kvfs::cli::testing {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs kvfs with `--store <store_dir()>` in front of `args`.
  RunResult Kvfs(const std::vector<std::string>& args, const std::string& stdin_data = {});
  // Like Kvfs(), and expects exit 0 with an empty stderr; returns stdout.
  std::string KvfsOk(const std::vector<std::string>& args, const std::string& stdin_data = {});

  // Everything a failed write could have changed, as text: counts, the whole change
  // feed (seqs and HLC stamps) and a long recursive listing.
  std::string Snapshot();

  const std::string& dir() const { return dir_; }
  const std::string& store_dir() const { return store_; }

 private:
  std::string dir_;
  std::string store_;
};

// A CliTest whose store is already initialised.
class StoreTest : public CliTest {
 protected:
  void SetUp() override;
};

// The exit code is `code`, stdout is empty and stderr is exactly one line of the
// form "kvfs: <what>; <what to do>" that contains `mention` (when given).
void ExpectError(const RunResult& r, int code, const std::string& mention = {});

// The value of "field: value" in `stat` output ("" when absent).
std::string StatField(const std::string& stat_out, const std::string& field);

}  // namespace kvfs::cli::testing
