// `kvfs check`: reads the whole store and checks its tables against each other
// (store/check.h). Read-only, so it runs beside a mount or a sync server.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "commands.h"
#include "context.h"
#include "format.h"
#include "store/redo_log.h"
#include "store/store.h"

namespace kvfs::cli {
namespace {

// Problems listed one per line; the rest are only counted.
constexpr size_t kListedProblems = 50;

std::string Summary(const store::CheckReport& r) {
  return std::to_string(r.files) + " files, " + std::to_string(r.dirs) + " directories, " +
         std::to_string(r.symlinks) + " symlinks, " + std::to_string(r.tombstones) +
         " deleted; " + std::to_string(r.names) + " names, " + std::to_string(r.chunks) +
         " content chunks (" + std::to_string(r.content_bytes) + " bytes), " +
         std::to_string(r.xattrs) + " extended attributes, " + std::to_string(r.feed_entries) +
         " feed entries";
}

int RunCheck(CliContext& ctx) {
  store::CheckReport report;
  Status st = ctx.Read([&](store::ReadTxn& txn) -> Status {
    KVFS_ASSIGN_OR_RETURN(report, txn.Check(kListedProblems));
    return Status::Ok();
  });
  if (!st.ok()) return ctx.Fail(st);
  std::string out;
  for (const std::string& p : report.problems) out += "problem: " + p + "\n";
  if (report.problem_count > report.problems.size()) {
    out += "... and " + std::to_string(report.problem_count - report.problems.size()) +
           " more problems\n";
  }
  if (report.sound()) out += ctx.StoreDir() + ": sound: " + Summary(report) + "\n";
  // Left by an open whose replay did not fit the store (store/redo_log.h): the store
  // is as it was before those transactions, which is not damage, but worth saying.
  const std::string unreplayed =
      store::RedoLogPath(store::StoreDbDir(ctx.StoreDir())) + ".unreplayed";
  std::error_code ec;
  if (std::filesystem::exists(unreplayed, ec)) {
    out += "note: " + unreplayed +
           " holds transactions that fsync made durable but that could not be redone after"
           " a crash (the store did not continue from them), so the store lacks them; keep"
           " the file for a bug report, then delete it\n";
  }
  st = WriteStdout(out);
  if (!st.ok()) return ctx.Fail(st);
  if (report.sound()) return kExitOk;
  return ctx.Fail(Status(Code::kCorruption,
                         "the store " + ctx.StoreDir() + " is damaged (" +
                             std::to_string(report.problem_count) +
                             (report.problem_count == 1 ? " problem" : " problems") +
                             ", listed above); keep a copy of it, then restore it from "
                             "a peer (a new store with the same key, `kvfs sync`) or a backup"));
}

}  // namespace

void AddCheckCommands(CLI::App& app, CliContext& ctx) {
  CLI::App* check = app.add_subcommand(
      "check", "Read the whole store and check its tables against each other (read-only)");
  check->callback([&ctx] { ctx.SetAction([&ctx] { return RunCheck(ctx); }); });
}

}  // namespace kvfs::cli
