#pragma once
// What the sync command files of the `kvfs` tool share (sync_cmds.cc registers them):
//   sync_cmds.cc         serve, sync
//   sync_status_cmds.cc  status, conflicts
//   sync_config_cmds.cc  peer add|rm|ls, key show|set
#include <string>
#include <vector>

#include "context.h"

namespace kvfs::cli {

struct ServeArgs {
  std::string store;
  std::string listen;
  std::vector<std::string> peers;
};
struct SyncArgs {
  std::string store;
  std::vector<std::string> peers;
  int timeout_s = 300;
  bool quiet = false;
};
struct PeerArgs {
  std::vector<std::string> positionals;  // [STORE] HOST:PORT (ls: [STORE])
};
struct KeySetArgs {
  std::vector<std::string> positionals;  // [STORE] KEY ("-": read stdin)
};

// A command's STORE positional, when given, replaces --store for this run.
void UseStore(CliContext& ctx, const std::string& positional);
// Opens the store read-only to check it exists (clear error otherwise); returns its dir.
Result<std::string> CheckedStoreDir(CliContext& ctx);

int RunServe(CliContext& ctx, const ServeArgs& args);
int RunSync(CliContext& ctx, const SyncArgs& args);
int RunStatus(CliContext& ctx, const std::string& store);
int RunConflicts(CliContext& ctx, const std::string& store);
int RunPeerAdd(CliContext& ctx, const PeerArgs& args);
int RunPeerRm(CliContext& ctx, const PeerArgs& args);
int RunPeerLs(CliContext& ctx, const std::string& store);
int RunKeyShow(CliContext& ctx, const std::string& store);
int RunKeySet(CliContext& ctx, const KeySetArgs& args);

}  // namespace kvfs::cli
