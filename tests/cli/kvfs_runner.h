#pragma once
// Runs the real `kvfs` binary (the one the build just made) as a child process, the
// way a script would: arguments, optional stdin bytes, environment changes; it
// captures stdout and stderr byte for byte and the exit code. Every run is bounded:
// a child still running after the timeout is killed and the run reports timed_out.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kvfs::cli::testing {

struct RunOptions {
  std::string stdin_data;  // fed to the child's stdin (empty: /dev/null-like EOF)
  // Environment changes: a value sets the variable, std::nullopt unsets it.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  std::chrono::seconds timeout{60};
};

struct RunResult {
  int exit_code = -1;  // the exit status, or 128 + signal when killed by a signal
  bool timed_out = false;
  std::string out, err;
};

// Runs KVFS_BINARY with `args` (not including argv[0]). KVFS_STORE and KVFS_LOG are
// unset in the child unless `options.env` sets them, so the caller's shell cannot leak
// into a test.
RunResult RunKvfs(const std::vector<std::string>& args, const RunOptions& options = {});

// The number of lines in `text` (a last line without '\n' counts).
int LineCount(const std::string& text);

}  // namespace kvfs::cli::testing
