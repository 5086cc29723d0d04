// `kvfs init [STORE]`: creates a store — the LMDB environment with a fresh node
// identity (store::Store::Create), then a new random store key in STORE/store.key.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "commands.h"
#include "context.h"
#include "crypto/init.h"
#include "crypto/store_key.h"
#include "format.h"
#include "spdlog/spdlog.h"

namespace kvfs::cli {
namespace {

namespace fs = std::filesystem;

// Undoes a half-made store: a store without its key must not be left behind, or a
// second `kvfs init` would refuse the directory. Store::Create accepts only a new or
// empty directory, so everything inside it is ours to remove.
void RemovePartialStore(const std::string& dir, bool dir_existed) {
  std::error_code ec;
  if (!dir_existed) {
    fs::remove_all(dir, ec);
    return;
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) fs::remove_all(entry.path(), ec);
}

int RunInit(CliContext& ctx, const std::string& positional) {
  const std::string dir = positional.empty() ? ctx.StoreDir() : positional;
  if (Status st = crypto::Init(); !st.ok()) return ctx.Fail(st);
  std::error_code ec;
  const bool dir_existed = fs::exists(dir, ec);
  if (Status st = store::Store::Create(dir); !st.ok()) {
    if (st.code() == Code::kExists) {
      return ctx.Fail(st, "use it with --store " + dir + ", or choose another directory");
    }
    return ctx.Fail(st);
  }
  const crypto::StoreKey key = crypto::GenerateStoreKey();
  if (Status st = crypto::WriteStoreKeyFile(StoreKeyPath(dir), key); !st.ok()) {
    RemovePartialStore(dir, dir_existed);
    return ctx.Fail(st, "check that " + dir + " is writable, then run kvfs init again");
  }
  auto opened = store::Store::Open(dir);
  if (!opened.ok()) return ctx.Fail(opened.status());
  spdlog::info("created store {} (node {}, key {})", dir, Hex64((*opened)->node_id()),
               crypto::KeyFingerprint(key));
  Status st = WriteStdout("created kvfs store " + dir + " (node " + Hex64((*opened)->node_id()) +
                          ", key fingerprint " + crypto::KeyFingerprint(key) + ")\n");
  return st.ok() ? kExitOk : ctx.Fail(st);
}

}  // namespace

void AddInitCommands(CLI::App& app, CliContext& ctx) {
  auto dir = std::make_shared<std::string>();
  CLI::App* init = app.add_subcommand(
      "init", "Create a store: a 0700 directory with the database, a node id and a 0600 key");
  init->add_option("STORE", *dir,
                   "Where to create it (default: --store, $KVFS_STORE, "
                   "else ~/.local/share/kvfs/default)");
  init->callback([&ctx, dir] { ctx.SetAction([&ctx, dir] { return RunInit(ctx, *dir); }); });
}

}  // namespace kvfs::cli
