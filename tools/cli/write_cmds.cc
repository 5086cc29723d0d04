// `kvfs set KEY [VALUE]`, `kvfs rm KEY [-r]`, `kvfs mkdir KEY [-p]`. Each command is
// one write transaction through CliContext::Write: it either happens completely and
// durably, or (on any error) not at all.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "context.h"
#include "keys.h"

namespace kvfs::cli {
namespace {

using store::FileType;
using store::Inode;
using store::WriteTxn;

constexpr uint32_t kDefaultFileMode = 0644;
constexpr uint32_t kDefaultDirMode = 0755;

struct SetOptions {
  std::string key;
  std::string value;
  CLI::Option* value_opt = nullptr;  // tells "no VALUE" (read stdin) from an empty one
  std::string mode;                  // empty: 0644 for a new file, unchanged otherwise
};

struct RmOptions {
  std::string key;
  bool recursive = false;
};

struct MkdirOptions {
  std::string key;
  bool parents = false;
  std::string mode;
};

Result<std::string> ReadStdin() {
  std::string data;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status(Code::kIo, std::string("cannot read standard input: ") + std::strerror(errno) +
                                   "; pass the value as an argument");
    }
    if (n == 0) return data;
    data.append(buf, static_cast<size_t>(n));
  }
}

Status NeedsKey(const Key& key, const char* what) {
  if (!key.is_root()) return Status::Ok();
  return Status(Code::kInvalid,
                std::string("the root cannot be ") + what + "; give a key such as notes/todo");
}

int RunSet(CliContext& ctx, const SetOptions& opts) {
  auto key = ParseKey(opts.key);
  if (!key.ok()) return ctx.Fail(key.status());
  if (Status st = NeedsKey(*key, "set"); !st.ok()) return ctx.Fail(st);
  std::optional<uint32_t> mode;
  if (!opts.mode.empty()) {
    auto parsed = ParseMode(opts.mode);
    if (!parsed.ok()) return ctx.Fail(parsed.status());
    mode = *parsed;
  }
  // Find the store before waiting on stdin: a missing store fails at once.
  if (auto store = ctx.OpenStore(/*read_only=*/false); !store.ok()) {
    return ctx.Fail(store.status());
  }
  std::string stdin_value;
  if (opts.value_opt->count() == 0) {
    auto read = ReadStdin();
    if (!read.ok()) return ctx.Fail(read.status());
    stdin_value = std::move(read).value();
  }
  const std::string& value = opts.value_opt->count() ? opts.value : stdin_value;

  Status st = ctx.Write([&](WriteTxn& txn) -> Status {
    const size_t depth = key->names.size();
    KVFS_ASSIGN_OR_RETURN(Inode dir, MakeDirs(txn, *key, depth - 1, kDefaultDirMode));
    store::Ino ino = 0;
    auto existing = txn.Lookup(dir.ino, key->leaf());
    if (existing.ok()) {
      if (existing->is_dir()) {
        return Status(Code::kIsDir, key->Display() +
                                        " is a directory; a value needs a key "
                                        "of its own, e.g. " +
                                        key->Display() + "/value");
      }
      if (existing->is_symlink()) {
        return Status(Code::kInvalid, key->Display() + " is a symlink; set the key it points to");
      }
      ino = existing->ino;
      if (mode) {
        store::AttrChange change;
        change.mode = *mode;
        KVFS_RETURN_IF_ERROR(txn.SetAttr(ino, change).status());
      }
    } else if (existing.status().code() == Code::kNotFound) {
      KVFS_ASSIGN_OR_RETURN(
          Inode created,
          txn.Create(dir.ino, key->leaf(),
                     OwnedObject(FileType::kRegular, mode.value_or(kDefaultFileMode))));
      ino = created.ino;
    } else {
      return existing.status();
    }
    return txn.Replace(ino, value).status();
  });
  return st.ok() ? kExitOk : ctx.Fail(st);
}

// Removes `node` (named `name` in `parent`) and, for a directory, everything below
// it, children first. Files whose last name went are collected for Purge().
Status RemoveTree(WriteTxn& txn, store::Ino parent, const std::string& name, const Inode& node,
                  std::vector<store::Ino>& unlinked) {
  if (!node.is_dir()) {
    KVFS_ASSIGN_OR_RETURN(Inode gone, txn.Unlink(parent, name));
    if (gone.deleted) unlinked.push_back(gone.ino);
    return Status::Ok();
  }
  KVFS_ASSIGN_OR_RETURN(auto entries, txn.ListDir(node.ino));
  for (const store::DirEntry& entry : entries) {
    KVFS_ASSIGN_OR_RETURN(Inode child, txn.Get(entry.ino));
    KVFS_RETURN_IF_ERROR(RemoveTree(txn, node.ino, entry.name, child, unlinked));
  }
  return txn.Rmdir(parent, name);
}

int RunRm(CliContext& ctx, const RmOptions& opts) {
  auto key = ParseKey(opts.key);
  if (!key.ok()) return ctx.Fail(key.status());
  if (key->is_root()) {
    return ctx.Fail(Status(Code::kInvalid,
                           "refusing to remove the root of the store; remove the keys under it"));
  }
  Status st = ctx.Write([&](WriteTxn& txn) -> Status {
    KVFS_ASSIGN_OR_RETURN(Inode node, ResolveKey(txn, *key));
    KVFS_ASSIGN_OR_RETURN(Inode parent, ResolveKey(txn, *key, key->names.size() - 1));
    if (node.is_dir() && !opts.recursive) {
      KVFS_ASSIGN_OR_RETURN(auto first, txn.ListDir(node.ino, {}, 1));
      if (!first.empty()) {
        return Status(Code::kNotEmpty, key->Display() + " is a directory that is not empty; " +
                                           "remove it and its contents with: kvfs rm -r " +
                                           key->Display());
      }
    }
    std::vector<store::Ino> unlinked;
    KVFS_RETURN_IF_ERROR(RemoveTree(txn, parent.ino, key->leaf(), node, unlinked));
    // The CLI holds no open files, so removed content can go at once.
    for (store::Ino ino : unlinked) KVFS_RETURN_IF_ERROR(txn.Purge(ino));
    return Status::Ok();
  });
  return st.ok() ? kExitOk : ctx.Fail(st);
}

int RunMkdir(CliContext& ctx, const MkdirOptions& opts) {
  auto key = ParseKey(opts.key);
  if (!key.ok()) return ctx.Fail(key.status());
  uint32_t mode = kDefaultDirMode;
  if (!opts.mode.empty()) {
    auto parsed = ParseMode(opts.mode);
    if (!parsed.ok()) return ctx.Fail(parsed.status());
    mode = *parsed;
  }
  if (key->is_root()) {
    return opts.parents ? kExitOk
                        : ctx.Fail(Status(Code::kExists,
                                          "the root always exists; "
                                          "give a key such as notes"));
  }
  Status st = ctx.Write([&](WriteTxn& txn) -> Status {
    if (opts.parents) return MakeDirs(txn, *key, key->names.size(), mode).status();
    auto parent = ResolveKey(txn, *key, key->names.size() - 1);
    if (!parent.ok() && parent.status().code() == Code::kNotFound) {
      return Status(Code::kNotFound, "parent " + key->Join(key->names.size() - 1) + " of " +
                                         key->Display() + " does not exist; " +
                                         "create both with: kvfs mkdir -p " + key->Display());
    }
    KVFS_RETURN_IF_ERROR(parent.status());
    if (!parent->is_dir()) {
      return Status(Code::kNotDir, key->Join(key->names.size() - 1) +
                                       " is a file, not a "
                                       "directory; remove it or choose another key");
    }
    auto created = txn.Create(parent->ino, key->leaf(), OwnedObject(FileType::kDirectory, mode));
    if (!created.ok() && created.status().code() == Code::kExists) {
      return Status(Code::kExists, key->Display() +
                                       " already exists; use kvfs mkdir -p to "
                                       "accept an existing directory");
    }
    return created.status();
  });
  return st.ok() ? kExitOk : ctx.Fail(st);
}

}  // namespace

void AddWriteCommands(CLI::App& app, CliContext& ctx) {
  auto set_opts = std::make_shared<SetOptions>();
  CLI::App* set = app.add_subcommand(
      "set", "Store VALUE (or all of stdin, byte for byte) under KEY, creating its directories");
  set->add_option("KEY", set_opts->key, "The key, e.g. ssh/config")->required();
  set_opts->value_opt =
      set->add_option("VALUE", set_opts->value, "The value; read from stdin when omitted");
  set->add_option("--mode", set_opts->mode,
                  "Permission bits in octal (default 0644 for a new key; unchanged otherwise)")
      ->type_name("OCTAL");
  set->callback(
      [&ctx, set_opts] { ctx.SetAction([&ctx, set_opts] { return RunSet(ctx, *set_opts); }); });

  auto rm_opts = std::make_shared<RmOptions>();
  CLI::App* rm = app.add_subcommand("rm", "Remove KEY (a file, or an empty directory)");
  rm->add_option("KEY", rm_opts->key, "The key to remove")->required();
  rm->add_flag("-r,--recursive", rm_opts->recursive, "Remove a directory and everything under it");
  rm->callback(
      [&ctx, rm_opts] { ctx.SetAction([&ctx, rm_opts] { return RunRm(ctx, *rm_opts); }); });

  auto mkdir_opts = std::make_shared<MkdirOptions>();
  CLI::App* mkdir = app.add_subcommand("mkdir", "Create the directory KEY");
  mkdir->add_option("KEY", mkdir_opts->key, "The directory key")->required();
  mkdir->add_flag("-p,--parents", mkdir_opts->parents,
                  "Create missing parents too; an existing directory is not an error");
  mkdir->add_option("--mode", mkdir_opts->mode, "Permission bits in octal (default 0755)")
      ->type_name("OCTAL");
  mkdir->callback([&ctx, mkdir_opts] {
    ctx.SetAction([&ctx, mkdir_opts] { return RunMkdir(ctx, *mkdir_opts); });
  });
}

}  // namespace kvfs::cli
