#pragma once
// CliContext: what every `kvfs` command shares for one run of the tool — the global
// options, the store (opened once, on first use), the single path for write
// transactions, and the error and exit-code contract scripts rely on:
//
//   exit 0  success
//   exit 1  not found: a missing key, or no store at the chosen directory
//   exit 2  usage error, bad input, or any other failure
//
// An error is exactly one line on stderr, "kvfs: <what was wrong>; <what to do>".
// Control bytes of keys or messages are escaped so the line stays one line.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/store.h"

namespace kvfs::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotFound = 1;
inline constexpr int kExitError = 2;

// Options that apply to every command; main() binds them to CLI11 flags.
struct GlobalOptions {
  std::string store;      // --store DIR; empty means $KVFS_STORE, else the default
  std::string log_level;  // --log-level; empty means $KVFS_LOG, else "warn"
};

class CliContext {
 public:
  GlobalOptions& globals() { return globals_; }
  const GlobalOptions& globals() const { return globals_; }

  // The store directory for this run: --store, else $KVFS_STORE, else
  // ~/.local/share/kvfs/default.
  std::string StoreDir() const;

  // Points spdlog's default logger at stderr with the level from --log-level or
  // $KVFS_LOG (default warn). kInvalid for an unknown level name.
  Status ConfigureLogging() const;

  // Opens the store on first use. A read-only open is enough for commands that only
  // read; a later Write() reopens it for writing.
  Result<store::Store*> OpenStore(bool read_only);

  // One read transaction over the store. The first Read or Write first has the
  // store's mounts commit the unlinks they answered already (fs/deferred_unlinks.h),
  // so a command after `rm` on a mount returned never sees the name.
  Status Read(const std::function<Status(store::ReadTxn&)>& fn);
  // The only way a command writes: one Update() transaction, made durable (Sync)
  // before returning. `fn` may run more than once (see Store::Update).
  Status Write(const std::function<Status(store::WriteTxn&)>& fn);

  // Prints the one-line error for `status` and returns its exit code. `hint` (what
  // to do) is appended unless the message already carries one after a "; ".
  int Fail(const Status& status, std::string_view hint = {}) const;
  static int ExitCodeFor(Code code);

  // Set by the chosen subcommand while CLI11 parses; Run() configures logging and
  // runs it. Exits 2 when no action was set.
  void SetAction(std::function<int()> action) { action_ = std::move(action); }
  int Run();

 private:
  // Nudges the store's mounts, once per command; see Read().
  void SettleMounts(const store::Store& store);

  GlobalOptions globals_;
  std::unique_ptr<store::Store> store_;
  bool store_read_only_ = false;
  bool mounts_settled_ = false;  // SettleMounts has run
  std::function<int()> action_;
};

// `text` with control bytes (newlines, tabs, escapes) written as \xNN, so it fits on
// one line of a terminal or a log.
std::string OneLine(std::string_view text);

// The store key file inside a store directory: "<dir>/store.key" (mode 0600).
std::string StoreKeyPath(const std::string& store_dir);

// Writes all of `bytes` to stdout (fd 1), retrying short writes. kIo on failure.
Status WriteStdout(std::string_view bytes);

}  // namespace kvfs::cli
