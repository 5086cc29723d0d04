// `kvfs get KEY`, `kvfs stat KEY`, `kvfs count [PREFIX]`: commands that read one
// object (or one subtree's totals) in one read transaction.
#include <CLI/CLI.hpp>
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

// `get` streams the value in pieces of this size, all inside one read transaction
// (one consistent version), so a file of several GiB never sits in memory at once.
constexpr size_t kReadStep = size_t{1} << 20;

int RunGet(CliContext& ctx, const std::string& text) {
  auto key = ParseKey(text);
  if (!key.ok()) return ctx.Fail(key.status());
  Status st = ctx.Read([&](ReadTxn& txn) -> Status {
    KVFS_ASSIGN_OR_RETURN(Inode node, ResolveKey(txn, *key));
    const std::string shown = key->Display();
    if (node.is_dir()) {
      return Status(Code::kIsDir, shown + " is a directory; use kvfs ls " + shown);
    }
    if (node.is_symlink()) {
      return Status(Code::kInvalid, shown + " is a symlink to '" + node.symlink_target +
                                        "'; get the key it points to instead");
    }
    for (uint64_t offset = 0; offset < node.size; offset += kReadStep) {
      KVFS_ASSIGN_OR_RETURN(std::string part, txn.Read(node.ino, offset, kReadStep));
      if (part.empty()) break;
      // The disk reads the next step while this one goes out; only a hint.
      (void)txn.PrefetchRange(node.ino, offset + kReadStep, offset + 2 * kReadStep);
      KVFS_RETURN_IF_ERROR(WriteStdout(part));
    }
    return Status::Ok();
  });
  return st.ok() ? kExitOk : ctx.Fail(st);
}

std::string StatText(const Key& key, const Inode& n) {
  std::string out;
  auto line = [&out](const char* field, const std::string& value) {
    out.append(field).append(": ").append(value).append("\n");
  };
  line("key", key.Display());
  line("type", TypeName(n.type));
  line("size", std::to_string(n.size));
  line("mode", OctalMode(n.mode) + " (" + ModeString(n) + ")");
  line("uid", std::to_string(n.uid));
  line("gid", std::to_string(n.gid));
  line("links", std::to_string(n.nlink));
  line("mtime", FormatTime(n.mtime, /*with_nanos=*/true));
  line("ctime", FormatTime(n.ctime, /*with_nanos=*/true));
  line("stamp", n.stamp.ToString());
  line("origin", Hex64(n.stamp.node));
  line("object", n.oid.ToString());
  line("inode", std::to_string(n.ino));
  line("versions", FormatVersions(n.versions));
  if (n.is_symlink()) line("target", n.symlink_target);
  return out;
}

int RunStat(CliContext& ctx, const std::string& text) {
  auto key = ParseKey(text);
  if (!key.ok()) return ctx.Fail(key.status());
  std::string out;
  Status st = ctx.Read([&](ReadTxn& txn) -> Status {
    KVFS_ASSIGN_OR_RETURN(Inode node, ResolveKey(txn, *key));
    out = StatText(*key, node);
    return Status::Ok();
  });
  if (st.ok()) st = WriteStdout(out);
  return st.ok() ? kExitOk : ctx.Fail(st);
}

int RunCount(CliContext& ctx, const std::string& text) {
  auto key = ParseKey(text);
  if (!key.ok()) return ctx.Fail(key.status());
  ReadTxn::Counts counts;
  Status st = ctx.Read([&](ReadTxn& txn) -> Status {
    KVFS_ASSIGN_OR_RETURN(Inode node, ResolveKey(txn, *key));
    if (node.is_dir()) {
      KVFS_ASSIGN_OR_RETURN(counts, txn.CountUnder(node.ino));
    } else if (node.is_symlink()) {
      counts.symlinks = 1;
    } else {
      counts.files = 1;
      counts.bytes = node.size;
    }
    return Status::Ok();
  });
  if (st.ok()) {
    st = WriteStdout("files: " + std::to_string(counts.files) +
                     "\ndirs: " + std::to_string(counts.dirs) +
                     "\nsymlinks: " + std::to_string(counts.symlinks) +
                     "\nbytes: " + std::to_string(counts.bytes) + "\n");
  }
  return st.ok() ? kExitOk : ctx.Fail(st);
}

}  // namespace

void AddReadCommands(CLI::App& app, CliContext& ctx) {
  auto get_key = std::make_shared<std::string>();
  CLI::App* get = app.add_subcommand("get", "Print the value of KEY to stdout, byte for byte");
  get->add_option("KEY", *get_key, "The key, e.g. ssh/config")->required();
  get->callback(
      [&ctx, get_key] { ctx.SetAction([&ctx, get_key] { return RunGet(ctx, *get_key); }); });

  auto stat_key = std::make_shared<std::string>();
  CLI::App* stat = app.add_subcommand(
      "stat", "Show KEY's type, size, mode, owner, mtime, HLC stamp, origin node and versions");
  stat->add_option("KEY", *stat_key, "The key; '/' is the root")->required();
  stat->callback(
      [&ctx, stat_key] { ctx.SetAction([&ctx, stat_key] { return RunStat(ctx, *stat_key); }); });

  auto count_prefix = std::make_shared<std::string>();
  CLI::App* count = app.add_subcommand(
      "count", "Count files, directories, symlinks and bytes under PREFIX (default: all)");
  count->add_option("PREFIX", *count_prefix, "A directory key; the whole store when omitted");
  count->callback([&ctx, count_prefix] {
    ctx.SetAction([&ctx, count_prefix] { return RunCount(ctx, *count_prefix); });
  });
}

}  // namespace kvfs::cli
