// The sync surface of the `kvfs` tool: registration of every sync command, and the
// two that talk to peers, `kvfs serve` (until SIGINT/SIGTERM) and `kvfs sync` (one
// round with each peer, then exit). The rest: sync_status_cmds.cc, sync_config_cmds.cc.
#include <pthread.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "context.h"
#include "crypto/init.h"
#include "crypto/store_key.h"
#include "format.h"
#include "fs/mount_notify.h"
#include "spdlog/spdlog.h"
#include "sync/peer_manager.h"
#include "sync/service_runner.h"
#include "sync/socket.h"
#include "sync/sync_round.h"
#include "sync_cli.h"

namespace kvfs::cli {
namespace {

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

Status CheckAddresses(const std::vector<std::string>& peers, const std::string& listen) {
  for (const std::string& p : peers) KVFS_RETURN_IF_ERROR(sync::ParseHostPort(p).status());
  if (!listen.empty()) {
    KVFS_RETURN_IF_ERROR(sync::ParseHostPort(listen, /*allow_port_zero=*/true).status());
  }
  return Status::Ok();
}

Result<crypto::StoreKey> LoadKey(const std::string& dir) {
  auto key = crypto::ReadStoreKeyFile(sync::StoreKeyFile(dir));
  if (!key.ok() && key.status().code() == Code::kNotFound) {
    return Status(Code::kNotFound, "store " + dir + " has no key file " + sync::StoreKeyFile(dir) +
                                       "; set one with: kvfs key set " + dir + " KEY");
  }
  return key;
}

// Servers log what they do unless told otherwise (--log-level or $KVFS_LOG).
void DefaultToInfoLogs(const CliContext& ctx) {
  const char* env = std::getenv("KVFS_LOG");
  if (ctx.globals().log_level.empty() && !(env && *env)) {
    spdlog::default_logger()->set_level(spdlog::level::info);
  }
}

}  // namespace

void UseStore(CliContext& ctx, const std::string& positional) {
  if (!positional.empty()) ctx.globals().store = positional;
}

Result<std::string> CheckedStoreDir(CliContext& ctx) {
  KVFS_RETURN_IF_ERROR(ctx.OpenStore(/*read_only=*/true).status());
  return ctx.StoreDir();
}

int RunServe(CliContext& ctx, const ServeArgs& args) {
  UseStore(ctx, args.store);
  if (Status st = crypto::Init(); !st.ok()) return ctx.Fail(st);
  std::vector<std::string> peers = args.peers;
  std::string listen = args.listen;
  if (Status st = CheckAddresses(peers, listen); !st.ok()) return ctx.Fail(st);
  const std::string dir = ctx.StoreDir();
  if (Status st = sync::MergeStoreConfig(dir, &peers, &listen); !st.ok()) return ctx.Fail(st);
  if (peers.empty() && listen.empty()) {
    return ctx.Fail(Status(Code::kInvalid,
                           "nothing to serve; give --listen ADDR:PORT or --peer HOST:PORT, or "
                           "put 'listen = ADDR:PORT' or 'peer = HOST:PORT' in " +
                               dir + "/kvfs.conf"));
  }
  auto store = ctx.OpenStore(/*read_only=*/false);
  if (!store.ok()) return ctx.Fail(store.status());
  auto key = LoadKey(dir);
  if (!key.ok()) return ctx.Fail(key.status());
  DefaultToInfoLogs(ctx);

  // Signals are taken by sigwait below, so they must be blocked before any thread
  // starts (threads inherit the mask).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  sync::SyncServiceOptions options;
  options.peers = peers;
  options.listen = listen;
  // Mounts of this store see what peers send at once, not at their next feed poll.
  options.on_store_changed = [dir] { fs::NotifyMounts(dir, std::chrono::seconds(1)); };
  sync::SyncService service(**store, *key, options);
  if (Status st = service.Start(); !st.ok()) return ctx.Fail(st);
  std::string where = "not listening";
  if (!listen.empty()) {
    sync::HostPort bound = sync::ParseHostPort(listen, true).value();
    bound.port = service.listen_port();
    where = "listening on " + bound.ToString();
  }
  std::printf(
      "kvfs: serving %s (node %s, key fingerprint %s); %s; %zu peer(s) to dial; "
      "stop with Ctrl-C\n",
      dir.c_str(), Hex64((*store)->node_id()).c_str(), crypto::KeyFingerprint(*key).c_str(),
      where.c_str(), peers.size());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("stopping on signal {}", sig);
  service.Stop();
  return kExitOk;
}

int RunSync(CliContext& ctx, const SyncArgs& args) {
  UseStore(ctx, args.store);
  if (Status st = crypto::Init(); !st.ok()) return ctx.Fail(st);
  std::vector<std::string> peers = args.peers;
  if (Status st = CheckAddresses(peers, ""); !st.ok()) return ctx.Fail(st);
  const std::string dir = ctx.StoreDir();
  auto store = ctx.OpenStore(/*read_only=*/false);
  if (!store.ok()) return ctx.Fail(store.status());
  if (peers.empty()) {
    std::string unused_listen = "-";
    if (Status st = sync::MergeStoreConfig(dir, &peers, &unused_listen); !st.ok()) {
      return ctx.Fail(st);
    }
  }
  if (peers.empty()) {
    return ctx.Fail(Status(Code::kInvalid,
                           "no peer to sync with; give --peer HOST:PORT, or "
                           "add one with: kvfs peer add " +
                               dir + " HOST:PORT"));
  }
  auto key = LoadKey(dir);
  if (!key.ok()) return ctx.Fail(key.status());

  const bool tty = !args.quiet && isatty(STDERR_FILENO);
  bool failed = false, changed = false;
  for (const std::string& peer : peers) {
    sync::SyncRoundOptions options;
    options.timeout = std::chrono::seconds(args.timeout_s);
    if (tty) {
      options.progress = [&peer](const sync::SessionCounts& c) {
        std::fprintf(
            stderr, "\r\033[Ksync with %s: sent %llu objects, %s; received %llu objects, %s",
            peer.c_str(), static_cast<unsigned long long>(c.objects_sent),
            HumanBytes(c.bytes_sent).c_str(), static_cast<unsigned long long>(c.objects_received),
            HumanBytes(c.bytes_received).c_str());
        std::fflush(stderr);
      };
    }
    auto round = sync::SyncOnce(**store, *key, peer, options);
    if (tty) std::fprintf(stderr, "\r\033[K");
    if (!round.ok()) {
      ctx.Fail(round.status());
      failed = true;
      continue;
    }
    const sync::SessionCounts& c = round->counts;
    changed = changed || c.objects_changed > 0;
    std::printf(
        "synced with %s (node %s): sent %llu objects (%s), received %llu objects (%s), "
        "%llu changed here, %llu conflicts\n",
        peer.c_str(), Hex64(round->peer_node).c_str(),
        static_cast<unsigned long long>(c.objects_sent), HumanBytes(c.bytes_sent).c_str(),
        static_cast<unsigned long long>(c.objects_received), HumanBytes(c.bytes_received).c_str(),
        static_cast<unsigned long long>(c.objects_changed),
        static_cast<unsigned long long>(c.conflicts));
    std::fflush(stdout);
  }
  // Mounts of this store pick the changes up by themselves within 200 ms; this makes
  // it immediate for a script that reads the mount right after.
  if (changed) fs::NotifyMounts(dir);
  return failed ? kExitError : kExitOk;
}

void AddSyncCommands(CLI::App& app, CliContext& ctx) {
  // serve
  auto serve_args = std::make_shared<ServeArgs>();
  CLI::App* serve = app.add_subcommand(
      "serve", "Serve a store to peers without mounting it, until SIGINT/SIGTERM");
  serve->add_option("STORE", serve_args->store, "The store (default: --store)");
  serve
      ->add_option("--listen", serve_args->listen,
                   "Accept peers on ADDR:PORT (default: 'listen' of STORE/kvfs.conf)")
      ->type_name("ADDR:PORT");
  serve
      ->add_option("--peer", serve_args->peers,
                   "Also dial HOST:PORT (repeatable; added to the peers of STORE/kvfs.conf)")
      ->type_name("HOST:PORT");
  serve->callback([&ctx, serve_args] {
    ctx.SetAction([&ctx, serve_args] { return RunServe(ctx, *serve_args); });
  });

  // sync
  auto sync_args = std::make_shared<SyncArgs>();
  CLI::App* sync = app.add_subcommand(
      "sync", "One round of sync with each peer (both ways, until both are caught up)");
  sync->add_option("STORE", sync_args->store, "The store (default: --store)");
  sync->add_option("--peer", sync_args->peers,
                   "The peer, HOST:PORT (repeatable; default: the peers of STORE/kvfs.conf)")
      ->type_name("HOST:PORT");
  sync->add_option("--timeout", sync_args->timeout_s,
                   "Give up on a peer after this many seconds (default 300)")
      ->check(CLI::Range(1, 7 * 24 * 3600))
      ->type_name("SECONDS");
  sync->add_flag("-q,--quiet", sync_args->quiet, "No progress line on a terminal");
  sync->callback(
      [&ctx, sync_args] { ctx.SetAction([&ctx, sync_args] { return RunSync(ctx, *sync_args); }); });

  // status, conflicts
  auto status_store = std::make_shared<std::string>();
  CLI::App* status = app.add_subcommand(
      "status", "Node id, key fingerprint, peers, last contact, pending changes, conflicts");
  status->add_option("STORE", *status_store, "The store (default: --store)");
  status->callback([&ctx, status_store] {
    ctx.SetAction([&ctx, status_store] { return RunStatus(ctx, *status_store); });
  });
  auto conflicts_store = std::make_shared<std::string>();
  CLI::App* conflicts =
      app.add_subcommand("conflicts", "List conflict copies (names with .sync-conflict-)");
  conflicts->add_option("STORE", *conflicts_store, "The store (default: --store)");
  conflicts->callback([&ctx, conflicts_store] {
    ctx.SetAction([&ctx, conflicts_store] { return RunConflicts(ctx, *conflicts_store); });
  });

  // peer add|rm|ls
  CLI::App* peer = app.add_subcommand("peer", "Edit the peers of STORE/kvfs.conf");
  peer->require_subcommand(1);
  auto add_args = std::make_shared<PeerArgs>();
  CLI::App* add = peer->add_subcommand("add", "Add a peer: kvfs peer add [STORE] HOST:PORT");
  add->add_option("STORE_AND_PEER", add_args->positionals, "[STORE] HOST:PORT")
      ->required()
      ->expected(1, 2);
  add->callback(
      [&ctx, add_args] { ctx.SetAction([&ctx, add_args] { return RunPeerAdd(ctx, *add_args); }); });
  auto rm_args = std::make_shared<PeerArgs>();
  CLI::App* rm = peer->add_subcommand("rm", "Remove a peer: kvfs peer rm [STORE] HOST:PORT");
  rm->add_option("STORE_AND_PEER", rm_args->positionals, "[STORE] HOST:PORT")
      ->required()
      ->expected(1, 2);
  rm->callback(
      [&ctx, rm_args] { ctx.SetAction([&ctx, rm_args] { return RunPeerRm(ctx, *rm_args); }); });
  auto ls_store = std::make_shared<std::string>();
  CLI::App* ls = peer->add_subcommand("ls", "List the peers, one per line");
  ls->add_option("STORE", *ls_store, "The store (default: --store)");
  ls->callback(
      [&ctx, ls_store] { ctx.SetAction([&ctx, ls_store] { return RunPeerLs(ctx, *ls_store); }); });

  // key show|set
  CLI::App* key = app.add_subcommand("key", "Show or replace the store key");
  key->require_subcommand(1);
  auto show_store = std::make_shared<std::string>();
  CLI::App* show = key->add_subcommand(
      "show", "Print the store key (secret: give it only to your own machines)");
  show->add_option("STORE", *show_store, "The store (default: --store)");
  show->callback([&ctx, show_store] {
    ctx.SetAction([&ctx, show_store] { return RunKeyShow(ctx, *show_store); });
  });
  auto set_args = std::make_shared<KeySetArgs>();
  CLI::App* set =
      key->add_subcommand("set", "Replace the store key with another machine's, to sync with it");
  set->add_option("STORE_AND_KEY", set_args->positionals,
                  "[STORE] KEY (the text 'kvfs key show' prints; '-' reads it from stdin)")
      ->required()
      ->expected(1, 2);
  set->callback(
      [&ctx, set_args] { ctx.SetAction([&ctx, set_args] { return RunKeySet(ctx, *set_args); }); });
}

}  // namespace kvfs::cli
