// kvfs: the command-line tool. This file only parses (CLI11) and dispatches; the
// commands live in tools/cli/, one file per family (see cli/commands.h), and the
// exit-code and error-line contract in cli/context.h.
#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/version.h"

namespace {

using kvfs::cli::CliContext;
using kvfs::cli::kExitError;
using kvfs::cli::OneLine;

// The first word on the command line that is not a global option or its value: what
// the user meant as the command ("" when there is none).
std::string FirstCommandWord(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--store" || arg == "--log-level") {
      ++i;  // skip its value
    } else if (arg.empty() || arg[0] != '-') {
      return arg;
    }
  }
  return "";
}

// CLI11 reports a usage error over two lines; scripts get one, in kvfs's own form.
// --help and --version are "errors" with exit code 0 and print as CLI11 intends.
int ReportParseError(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  if (e.get_exit_code() == 0) return app.exit(e);
  std::string what = e.what();
  // "A subcommand is required" reads better mid-line in lower case; "KEY is
  // required" keeps its capitals.
  if (what.size() > 1 && !std::isupper(static_cast<unsigned char>(what[1]))) {
    what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
  }
  const auto parsed = app.get_subcommands();
  std::string help = "kvfs --help";
  if (!parsed.empty()) {
    help = "kvfs " + parsed.front()->get_name() + " --help";
  } else if (const std::string word = FirstCommandWord(argc, argv); !word.empty()) {
    what = "unknown command '" + word + "'";
  }
  std::fprintf(stderr, "kvfs: %s; run '%s' for usage\n", OneLine(what).c_str(), help.c_str());
  return kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  CliContext ctx;
  CLI::App app("kvfs: a replicated key-value store you also use as a filesystem", "kvfs");
  app.set_version_flag("--version", std::string("kvfs ") + kvfs::cli::kVersion);
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the subcommand
  app.add_option("--store", ctx.globals().store,
                 "Store directory (default: $KVFS_STORE, else ~/.local/share/kvfs/default)")
      ->type_name("DIR");
  app.add_option("--log-level", ctx.globals().log_level,
                 "trace, debug, info, warn, error, critical or off (default: $KVFS_LOG, else warn)")
      ->type_name("LEVEL");

  kvfs::cli::AddInitCommands(app, ctx);
  kvfs::cli::AddReadCommands(app, ctx);
  kvfs::cli::AddListCommands(app, ctx);
  kvfs::cli::AddCheckCommands(app, ctx);
  kvfs::cli::AddWriteCommands(app, ctx);
  kvfs::cli::AddMountCommands(app, ctx);
  kvfs::cli::AddSyncCommands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return ReportParseError(app, e, argc, argv);
  }
  // Exceptions are for libraries that throw; none may reach the user as a trace.
  try {
    return ctx.Run();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "kvfs: out of memory; free memory or give a smaller value\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kvfs: unexpected error: %s; please report it\n",
                 OneLine(e.what()).c_str());
  }
  return kExitError;
}
