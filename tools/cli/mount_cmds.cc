// `kvfs mount [STORE] MOUNTPOINT [-f] [-o OPTS]...` and `kvfs umount MOUNTPOINT`.
// Parsing only; the daemon (src/fs/daemon.h) does the rest.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "context.h"
#include "fs/daemon.h"
#include "fs/mount_options.h"
#include "fs/unmount.h"
#include "sync_mount.h"

namespace kvfs::cli {
namespace {

struct MountArgs {
  std::vector<std::string> positionals;  // [STORE] MOUNTPOINT
  std::vector<std::string> options;      // each -o
  bool foreground = false;
};

int RunMount(CliContext& ctx, const MountArgs& args) {
  fs::MountConfig config;
  if (args.positionals.size() == 2) {
    config.store_dir = args.positionals[0];
    config.mountpoint = args.positionals[1];
  } else {
    config.store_dir = ctx.StoreDir();
    config.mountpoint = args.positionals.at(0);
  }
  for (const std::string& o : args.options) {
    if (Status st = fs::ParseMountOptions(o, &config.options); !st.ok()) {
      return ctx.Fail(st, "see 'kvfs mount --help'");
    }
  }
  // peer=/listen= (and those of STORE/kvfs.conf) start the sync layer in the daemon.
  if (Status st = AttachSyncToMount(&config); !st.ok()) return ctx.Fail(st);
  config.foreground = args.foreground;
  std::string level = ctx.globals().log_level;
  if (level.empty()) {
    const char* env = std::getenv("KVFS_LOG");
    level = env && *env ? env : "info";
  }
  config.log_level = level;
  return fs::RunDaemon(config) == 0 ? kExitOk : kExitError;
}

int RunUmount(CliContext& ctx, const std::string& mountpoint) {
  Status st = fs::Unmount(mountpoint);
  if (st.code() == Code::kNotFound) {
    return ctx.Fail(st, "'findmnt -t fuse.kvfs' lists kvfs mounts");
  }
  if (!st.ok()) return ctx.Fail(st);
  return kExitOk;
}

}  // namespace

void AddMountCommands(CLI::App& app, CliContext& ctx) {
  auto margs = std::make_shared<MountArgs>();
  CLI::App* mount = app.add_subcommand(
      "mount", "Mount a store as a folder (in the background; logs in STORE/log/mount.log)");
  mount
      ->add_option("STORE_AND_MOUNTPOINT", margs->positionals,
                   "[STORE] MOUNTPOINT (STORE defaults to --store, $KVFS_STORE, else "
                   "~/.local/share/kvfs/default)")
      ->required()
      ->expected(1, 2);
  mount->add_flag("-f,--foreground", margs->foreground,
                  "Stay in the foreground and log to stderr; Ctrl-C unmounts");
  mount
      ->add_option("-o", margs->options,
                   "Mount options, comma-separated (repeatable): ro, allow_other, "
                   "peer=HOST:PORT, listen=ADDR:PORT, fsname=, subtype=, readdirplus, "
                   "writeback_cache, and FUSE/mount "
                   "options such as noatime, nosuid, debug")
      ->type_name("OPTS")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  mount->callback(
      [&ctx, margs] { ctx.SetAction([&ctx, margs] { return RunMount(ctx, *margs); }); });

  auto mountpoint = std::make_shared<std::string>();
  CLI::App* umount = app.add_subcommand("umount", "Unmount a kvfs mount");
  umount->add_option("MOUNTPOINT", *mountpoint, "Where it is mounted")->required();
  umount->callback([&ctx, mountpoint] {
    ctx.SetAction([&ctx, mountpoint] { return RunUmount(ctx, *mountpoint); });
  });
}

}  // namespace kvfs::cli
