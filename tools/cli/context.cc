#include "context.h"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fs/mount_notify.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace kvfs::cli {
namespace {

constexpr const char* kDefaultStoreSuffix = "/.local/share/kvfs/default";
constexpr const char* kDefaultLogLevel = "warn";

std::string EnvOr(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : std::move(fallback);
}

std::string HomeDir() {
  if (const char* home = std::getenv("HOME"); home && *home) return home;
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return ".";
}

// What to do, by kind of failure, when the message does not already say.
std::string_view DefaultHint(Code code) {
  switch (code) {
    case Code::kNotFound:
      return "list the keys with: kvfs ls";
    case Code::kExists:
      return "remove it first or choose another key";
    case Code::kNameTooLong:
      return "use names of at most 255 bytes and keys of at most 4095 bytes";
    case Code::kInvalid:
      return "run 'kvfs --help' for usage";
    case Code::kNoSpace:
      return "free disk space and retry";
    case Code::kAccess:
    case Code::kPermission:
      return "check the permissions of the store directory";
    case Code::kCorruption:
      return "restore the store from a peer or a backup";
    case Code::kBusy:
      return "retry in a moment";
    default:
      return "run with --log-level debug for details";
  }
}

}  // namespace

std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      std::array<char, 5> buf;
      std::snprintf(buf.data(), buf.size(), "\\x%02x", byte);
      out += buf.data();
    } else {
      out += c;
    }
  }
  return out;
}

std::string StoreKeyPath(const std::string& store_dir) { return store_dir + "/store.key"; }

Status WriteStdout(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Status(Code::kIo, std::string("cannot write to standard output: ") +
                                   std::strerror(errno) + "; check where the output goes");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

std::string CliContext::StoreDir() const {
  if (!globals_.store.empty()) return globals_.store;
  return EnvOr("KVFS_STORE", HomeDir() + kDefaultStoreSuffix);
}

Status CliContext::ConfigureLogging() const {
  const std::string name =
      globals_.log_level.empty() ? EnvOr("KVFS_LOG", kDefaultLogLevel) : globals_.log_level;
  const spdlog::level::level_enum level = spdlog::level::from_str(name);
  // from_str() answers "off" for any name it does not know.
  if (level == spdlog::level::off && name != "off") {
    return Status(Code::kInvalid, "unknown log level '" + name +
                                      "'; use one of trace, debug, info, warn, error, "
                                      "critical, off");
  }
  auto logger = spdlog::get("kvfs");
  if (!logger) logger = spdlog::stderr_logger_st("kvfs");
  logger->set_pattern("kvfs: [%l] %v");
  logger->set_level(level);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

Result<store::Store*> CliContext::OpenStore(bool read_only) {
  if (store_ && (store_read_only_ == read_only || !store_read_only_)) return store_.get();
  store_.reset();  // LMDB forbids opening one environment twice in a process
  const std::string dir = StoreDir();
  store::StoreOptions options;
  options.read_only = read_only;
  spdlog::debug("opening store {} ({})", dir, read_only ? "read-only" : "read-write");
  KVFS_ASSIGN_OR_RETURN(store_, store::Store::Open(dir, options));
  store_read_only_ = read_only;
  return store_.get();
}

void CliContext::SettleMounts(const store::Store& store) {
  if (mounts_settled_) return;
  fs::NotifyMounts(store.dir());  // each mount acks once its answered unlinks landed
  mounts_settled_ = true;
}

Status CliContext::Read(const std::function<Status(store::ReadTxn&)>& fn) {
  KVFS_ASSIGN_OR_RETURN(store::Store * store, OpenStore(/*read_only=*/true));
  SettleMounts(*store);
  return store->View(fn);
}

Status CliContext::Write(const std::function<Status(store::WriteTxn&)>& fn) {
  KVFS_ASSIGN_OR_RETURN(store::Store * store, OpenStore(/*read_only=*/false));
  // Else `rm f` on a mount then `kvfs set f v` could write into the old f, which the
  // mount's unlink, committed after, then removes with the new value.
  SettleMounts(*store);
  KVFS_RETURN_IF_ERROR(store->Update(fn));
  // Tell running mounts of this store what changed, right after the commit, so a
  // mount sees CLI writes at once.
  fs::NotifyMounts(store->dir());
  // CLI writes are durable when the command returns.
  return store->Sync();
}

int CliContext::ExitCodeFor(Code code) {
  switch (code) {
    case Code::kOk:
      return kExitOk;
    case Code::kNotFound:
      return kExitNotFound;
    default:
      return kExitError;
  }
}

int CliContext::Fail(const Status& status, std::string_view hint) const {
  std::string line = status.message().empty() ? "failed" : status.message();
  if (line.find("; ") == std::string::npos) {
    line += "; ";
    line += hint.empty() ? DefaultHint(status.code()) : hint;
  }
  spdlog::debug("failing with status code {}", static_cast<int>(status.code()));
  std::fprintf(stderr, "kvfs: %s\n", OneLine(line).c_str());
  std::fflush(stderr);
  return status.ok() ? kExitError : ExitCodeFor(status.code());
}

int CliContext::Run() {
  if (Status st = ConfigureLogging(); !st.ok()) return Fail(st);
  if (!action_) {
    return Fail(Status(Code::kInvalid, "no command given; run 'kvfs --help' to see the commands"));
  }
  return action_();
}

}  // namespace kvfs::cli
