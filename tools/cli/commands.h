#pragma once
// The command families of the `kvfs` tool. main() calls each Add*Commands once; each
// adds its subcommands to `app` and, when one of them is chosen on the command line,
// hands `ctx` the action that runs it (CliContext::SetAction). Parsing happens
// entirely in CLI11 before any action touches a store.

namespace CLI {
class App;
}  // namespace CLI

namespace kvfs::cli {

class CliContext;

// init_cmd.cc: `init [STORE]`.
void AddInitCommands(CLI::App& app, CliContext& ctx);
// read_cmds.cc: `get KEY`, `stat KEY`, `count [PREFIX]`.
void AddReadCommands(CLI::App& app, CliContext& ctx);
// check_cmd.cc: `check`.
void AddCheckCommands(CLI::App& app, CliContext& ctx);
// list_cmds.cc: `ls [PREFIX] [-r] [-l]`, `log [-n N]`.
void AddListCommands(CLI::App& app, CliContext& ctx);
// write_cmds.cc: `set KEY [VALUE]`, `rm KEY [-r]`, `mkdir KEY [-p]`.
void AddWriteCommands(CLI::App& app, CliContext& ctx);
// mount_cmds.cc: `mount`, `umount` (filled in by the FUSE layer).
void AddMountCommands(CLI::App& app, CliContext& ctx);
// sync_cmds.cc: `serve`, `sync`, `status`, `key`, `conflicts` (filled in by the sync layer).
void AddSyncCommands(CLI::App& app, CliContext& ctx);

}  // namespace kvfs::cli
