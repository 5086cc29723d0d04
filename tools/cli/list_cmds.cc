// `kvfs ls [PREFIX] [-r] [-l]` and `kvfs log [-n N]`: commands that print many
// entries, each from one read transaction so the listing is one consistent version.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "context.h"
#include "format.h"
#include "keys.h"

namespace kvfs::cli {
namespace {

using store::Inode;
using store::ReadTxn;

struct LsOptions {
  std::string prefix;
  bool recursive = false;
  bool long_format = false;
};

// One output line. Names are relative to the listed prefix; directories end in '/'.
std::string LsLine(const std::string& rel, const Inode& node, bool long_format) {
  std::string name = rel + (node.is_dir() ? "/" : "");
  if (!long_format) return name + "\n";
  char head[128];
  std::snprintf(head, sizeof head, "%s %5u %5u %12llu %s ", ModeString(node).c_str(), node.uid,
                node.gid, static_cast<unsigned long long>(node.size),
                FormatTime(node.mtime, /*with_nanos=*/false).c_str());
  if (node.is_symlink()) name += " -> " + node.symlink_target;
  return head + name + "\n";
}

// Appends the entries of `dir` in name order, and with -r each subdirectory's right
// after its own line (depth first), so the output reads like `find`.
Status ListInto(ReadTxn& txn, store::Ino dir, const std::string& rel_prefix, const LsOptions& opts,
                std::string& out) {
  KVFS_ASSIGN_OR_RETURN(auto entries, txn.ListDir(dir));
  for (const store::DirEntry& entry : entries) {
    const std::string rel = rel_prefix + entry.name;
    Inode node;
    node.ino = entry.ino;
    node.type = entry.type;
    if (opts.long_format) {
      KVFS_ASSIGN_OR_RETURN(node, txn.Get(entry.ino));
    }
    out += LsLine(rel, node, opts.long_format);
    if (opts.recursive && entry.type == store::FileType::kDirectory) {
      KVFS_RETURN_IF_ERROR(ListInto(txn, entry.ino, rel + "/", opts, out));
    }
  }
  return Status::Ok();
}

int RunLs(CliContext& ctx, const LsOptions& opts) {
  auto key = ParseKey(opts.prefix);
  if (!key.ok()) return ctx.Fail(key.status());
  std::string out;
  Status st = ctx.Read([&](ReadTxn& txn) -> Status {
    out.clear();
    KVFS_ASSIGN_OR_RETURN(Inode node, ResolveKey(txn, *key));
    if (!node.is_dir()) {  // like ls(1): a file lists as itself
      out = LsLine(key->leaf(), node, opts.long_format);
      return Status::Ok();
    }
    return ListInto(txn, node.ino, "", opts, out);
  });
  if (st.ok()) st = WriteStdout(out);
  return st.ok() ? kExitOk : ctx.Fail(st);
}

// The last `n` feed entries, oldest first. Sequence numbers have gaps (an object
// keeps only its latest entry), so the window below the last seq doubles until it
// holds `n` entries or reaches the start: small stores and large ones both read
// little more than they print.
Result<std::vector<store::Change>> LastChanges(ReadTxn& txn, uint64_t n) {
  std::vector<store::Change> changes;
  if (n == 0) return changes;
  KVFS_ASSIGN_OR_RETURN(uint64_t last, txn.LastSeq());
  for (uint64_t window = n;; window = window >= last / 2 ? last : window * 2) {
    const uint64_t after = last > window ? last - window : 0;
    KVFS_ASSIGN_OR_RETURN(changes, txn.ChangesSince(after));
    if (changes.size() >= n || after == 0) break;
  }
  if (changes.size() > n) changes.erase(changes.begin(), changes.end() - static_cast<long>(n));
  return changes;
}

// The key of a live object ("/" for the root). A tombstone keeps its last name for
// sync, but that key may hold something else now, so it prints by inode instead.
Result<std::string> PathForLog(ReadTxn& txn, store::Ino ino) {
  const std::string deleted = "(deleted ino " + std::to_string(ino) + ")";
  auto node = txn.Get(ino);
  if (!node.ok() && node.status().code() == Code::kNotFound) return deleted;
  KVFS_RETURN_IF_ERROR(node.status());
  if (node->deleted) return deleted;
  auto path = txn.PathOf(ino);
  if (!path.ok() && path.status().code() == Code::kNotFound) return deleted;
  KVFS_RETURN_IF_ERROR(path.status());
  return path->empty() ? std::string("/") : *path;
}

int RunLog(CliContext& ctx, uint64_t n) {
  std::string out;
  Status st = ctx.Read([&](ReadTxn& txn) -> Status {
    out.clear();
    KVFS_ASSIGN_OR_RETURN(auto changes, LastChanges(txn, n));
    for (const store::Change& c : changes) {
      KVFS_ASSIGN_OR_RETURN(std::string path, PathForLog(txn, c.ino));
      out += std::to_string(c.seq) + "\t" + c.stamp.ToString() + "\t" + store::ChangeOpName(c.op) +
             "\t" + path + "\n";
    }
    return Status::Ok();
  });
  if (st.ok()) st = WriteStdout(out);
  return st.ok() ? kExitOk : ctx.Fail(st);
}

}  // namespace

void AddListCommands(CLI::App& app, CliContext& ctx) {
  auto ls_opts = std::make_shared<LsOptions>();
  CLI::App* ls = app.add_subcommand(
      "ls", "List the keys under PREFIX, one a line, relative to it; directories end in '/'");
  ls->add_option("PREFIX", ls_opts->prefix, "A directory key; the root when omitted");
  ls->add_flag("-r,--recursive", ls_opts->recursive, "List subdirectories too, depth first");
  ls->add_flag("-l,--long", ls_opts->long_format, "Show mode, uid, gid, size and mtime (UTC)");
  ls->callback(
      [&ctx, ls_opts] { ctx.SetAction([&ctx, ls_opts] { return RunLs(ctx, *ls_opts); }); });

  auto log_n = std::make_shared<uint64_t>(20);
  CLI::App* log = app.add_subcommand(
      "log", "Show the change feed, newest last: seq, HLC stamp, operation, key");
  // The check runs on the text: CLI11 would otherwise wrap "-3" into a huge count.
  log->add_option("-n,--lines", *log_n, "How many of the latest changes to show")
      ->check(
          [](const std::string& text) -> std::string {
            const bool digits =
                !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
            return digits ? "" : "give a whole number, 0 or more, not '" + text + "'";
          },
          "COUNT")
      ->capture_default_str();
  log->callback([&ctx, log_n] { ctx.SetAction([&ctx, log_n] { return RunLog(ctx, *log_n); }); });
}

}  // namespace kvfs::cli
