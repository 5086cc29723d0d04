#include "fs/daemon.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "fs/feed_watcher.h"
#include "fs/fuse_session.h"
#include "fs/ops.h"
#include "fs/unmount.h"
#include "store/compact.h"

namespace kvfs::fs {
namespace {

// Request threads. The kernel hands each request to the thread that has waited
// longest, so every thread libfuse ever started takes its turn, each with cold
// caches: 4 made metadata-heavy work 10-20 % faster than 16 on this 2-core machine
// (src/fs/README.md). The cost: 4 requests waiting for the store's write lock (a
// long purge or merge holds it) leave no thread for reads meanwhile.
constexpr unsigned kMaxThreads = 4;
constexpr auto kSyncInterval = std::chrono::seconds(1);

// True until a background daemon's mount is up: libfuse's own messages then also
// go to stderr, so the user sees why a mount failed.
std::atomic<bool> g_starting{true};

// libfuse logs some messages in pieces; they are gathered up to the newline.
void FuseLogToSpdlog(enum fuse_log_level level, const char* fmt, va_list ap) {
  thread_local std::string pending;
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  pending += buf;
  if (pending.empty() || pending.back() != '\n') return;
  std::string line = std::move(pending);
  pending.clear();
  std::string_view msg(line);
  while (!msg.empty() && msg.back() == '\n') msg.remove_suffix(1);
  const auto spd = level <= FUSE_LOG_ERR       ? spdlog::level::err
                   : level <= FUSE_LOG_WARNING ? spdlog::level::warn
                   : level <= FUSE_LOG_INFO    ? spdlog::level::info
                                               : spdlog::level::debug;
  spdlog::log(spd, "libfuse: {}", msg);
  if (g_starting && level <= FUSE_LOG_WARNING) {
    std::fprintf(stderr, "kvfs: %.*s\n", static_cast<int>(msg.size()), msg.data());
  }
}

// Startup of one daemon process: how it reports failure and readiness.
class Startup {
 public:
  Startup(const MountConfig& config, std::string log_path)
      : config_(config), log_path_(std::move(log_path)) {}

  // One line on stderr (and in the log); returns the exit code.
  int Fail(const std::string& what) const {
    spdlog::error("{}", what);
    if (!config_.foreground) {
      std::fprintf(stderr, "kvfs: %s (log: %s)\n", what.c_str(), log_path_.c_str());
    } else if (spdlog::default_logger()->level() > spdlog::level::err) {
      std::fprintf(stderr, "kvfs: %s\n", what.c_str());
    }
    return 1;
  }

  // Tells a waiting parent the mount is up and detaches from the terminal.
  void Ready() {
    g_starting = false;
    if (ready_fd_ < 0) return;
    const char ok = '0';
    if (write(ready_fd_, &ok, 1) != 1) spdlog::warn("cannot tell the parent the mount is up");
    close(ready_fd_);
    ready_fd_ = -1;
    const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
      dup2(null_fd, STDIN_FILENO);
      dup2(null_fd, STDOUT_FILENO);
      dup2(null_fd, STDERR_FILENO);
      close(null_fd);
    }
    if (chdir("/") != 0) spdlog::warn("cannot chdir to /");
  }

  void set_ready_fd(int fd) { ready_fd_ = fd; }

 private:
  const MountConfig& config_;
  const std::string log_path_;
  int ready_fd_ = -1;
};

// Forks. The child returns -1 (and goes on to mount, with `*ready_fd` to report
// on); the parent waits until the child is up or gone, and returns the exit code.
int ForkAndWait(int* ready_fd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "kvfs: cannot create a pipe: %s\n", std::strerror(errno));
    return 1;
  }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    std::fprintf(stderr, "kvfs: cannot fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (pid == 0) {
    close(fds[0]);
    setsid();
    *ready_fd = fds[1];
    return -1;
  }
  close(fds[1]);
  char verdict = 0;
  ssize_t n;
  do {
    n = read(fds[0], &verdict, 1);
  } while (n < 0 && errno == EINTR);
  close(fds[0]);
  if (n == 1 && verdict == '0') return 0;
  int status = 0;
  waitpid(pid, &status, 0);  // it failed and said why on stderr
  return 1;
}

Status SetUpLogging(const MountConfig& config, const std::string& log_path) {
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (config.foreground) {
      logger = std::make_shared<spdlog::logger>("kvfs-mount",
                                                std::make_shared<spdlog::sinks::stderr_sink_mt>());
    } else {
      const std::string dir = std::filesystem::path(log_path).parent_path();
      if (!dir.empty() && mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return IoError("cannot create " + dir);
      }
      logger = std::make_shared<spdlog::logger>(
          "kvfs-mount", std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_path));
    }
  } catch (const spdlog::spdlog_ex& e) {
    return Status(Code::kIo, std::string("cannot open the log: ") + e.what());
  }
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%P] [%l] %v");
  const auto level = spdlog::level::from_str(config.log_level);
  logger->set_level(level == spdlog::level::off && config.log_level != "off" ? spdlog::level::info
                                                                             : level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  g_starting = !config.foreground;  // in the foreground the log already is stderr
  fuse_set_log_func(FuseLogToSpdlog);
  return Status::Ok();
}

// About once a second: purges the queued tombstones when that is due
// (fs/purge_schedule.h), and, when something was committed, makes it durable: through
// the redo log (Filesystem::MakeDurable: one sequential write, which does not hold up
// an fsync running beside it), or with a full flush of the store when the flush
// schedule says so (fs/flush_schedule.h: every 10 s, or sooner when the log is half
// full, so a burst of writes does not fill it and make the next fsync pay the flush;
// later while applications are calling fsync).
class Syncer {
 public:
  explicit Syncer(Filesystem& fs)
      : thread_([&fs](std::stop_token stop) {
          std::mutex mu;
          std::condition_variable_any cv;
          std::unique_lock lock(mu);
          for (;;) {
            cv.wait_for(lock, stop, kSyncInterval, [] { return false; });
            if (stop.stop_requested()) break;
            fs.PurgeQueuedIfDue();
            if (!fs.TakeDirty()) continue;
            const auto start = std::chrono::steady_clock::now();
            const bool flush = fs.FlushDue();
            Status st = flush ? fs.FlushPaced([&] { return stop.stop_requested(); })
                              : fs.MakeDurable();
            if (!st.ok()) spdlog::warn("periodic sync failed: {}", st.message());
            spdlog::debug("periodic {}: {} us", flush ? "flush" : "sync",
                          std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count());
          }
        }) {}

 private:
  std::jthread thread_;
};

// Blocks SIGINT, SIGTERM and SIGHUP in this thread (and the threads it starts)
// for its lifetime.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

// A store that once held large files keeps LMDB's free pages, and every commit then
// writes cold, scattered pages (store/compact.h); compacting before serving makes
// commits fast again. Done only when no other kvfs process has the store open, and
// never fatal: the mount serves the store as it is. Returns the report (or why the
// compaction failed), which also says whether another process had the store open.
Result<store::CompactReport> CompactIfWorthIt(const std::string& store_dir) {
  const auto start = std::chrono::steady_clock::now();
  auto report = store::CompactIfWasteful(store_dir);
  if (!report.ok()) {
    spdlog::warn("the store was not compacted: {}; serving it as it is", report.status().message());
  } else if (!report->compacted) {
    spdlog::debug("the store was not compacted: {}", report->skipped);
  } else {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    spdlog::info("compacted the store: {} -> {} bytes ({} were free) in {} ms",
                 report->file_bytes_before, report->file_bytes_after, report->free_bytes, ms);
  }
  return report;
}

// The daemon proper, in the process that serves the mount.
int Serve(const MountConfig& config, Startup& startup) {
  const MountOptions& opts = config.options;
  // Alone, this mount may purge any tombstone: no process can hold one open. The
  // compaction's lock answers that; only when it failed is the lock probed again.
  bool alone = false;
  if (!opts.read_only) {
    auto compaction = CompactIfWorthIt(config.store_dir);
    alone = compaction.ok() ? compaction->store_was_free
                            : store::StoreOpenByNoOne(config.store_dir);
  }
  store::StoreOptions store_options;
  store_options.read_only = opts.read_only;
  store_options.no_sync = true;  // fsync(2) and the syncer pay for disk flushes
  auto opened = store::Store::Open(config.store_dir, store_options);
  if (!opened.ok()) return startup.Fail(opened.status().message());
  std::unique_ptr<store::Store> store = std::move(opened).value();

  Filesystem fs(*store, FsConfigFor(config.fs, opts));
  if (alone) fs.QueueUnpurgedTombstones();  // the syncer purges them within a second
  const fuse_lowlevel_ops ops = MakeLowlevelOps();
  const std::string fuse_options = FuseOptionString(opts, config.store_dir);
  spdlog::info("mounting {} on {} (-o {})", config.store_dir, config.mountpoint, fuse_options);
  auto mounted = FuseSession::Mount(config.mountpoint, fuse_options, opts.debug, ops, &fs);
  if (!mounted.ok()) return startup.Fail(mounted.status().message());
  std::unique_ptr<FuseSession> session = std::move(mounted).value();

  // The helper threads start with the stop signals blocked, so SIGTERM always lands
  // on a thread of libfuse's loop, which then ends (see fuse_set_signal_handlers).
  std::optional<SignalsBlocked> blocked(std::in_place);
  auto watcher = std::make_unique<FeedWatcher>(fs, session->get(), config.store_dir);
  if (Status st = watcher->Start(); !st.ok()) {
    return startup.Fail("cannot watch the store for changes: " + st.message());
  }
  auto syncer = std::make_unique<Syncer>(fs);
  std::unique_ptr<std::jthread> replication;
  if (!opts.peers.empty() || !opts.listen.empty()) {
    if (config.sync_runner) {
      replication = std::make_unique<std::jthread>(
          [&](std::stop_token stop) {
            config.sync_runner(
                *store, opts, [&fs](uint64_t ino) { return fs.split_writes().Held(ino); }, stop);
          });
    } else {
      spdlog::warn(
          "peer=/listen= given, but sync not configured in this build; "
          "serving the local store only");
    }
  }
  blocked.reset();
  spdlog::info("mounted {} on {}; pid {}; notify socket {}", config.store_dir, config.mountpoint,
               getpid(), watcher->socket_path());
  startup.Ready();

  Status st = session->Loop(kMaxThreads);
  if (!st.ok()) spdlog::error("{}", st.message());
  spdlog::info("unmounting {}", config.mountpoint);
  fs.deferred_unlinks().Stop();  // the last answered unlinks land before anything else
  // Teardown in reverse: the threads that use the session and the store first.
  replication.reset();
  syncer.reset();
  watcher.reset();
  session.reset();
  fs.PurgeQueued();
  if (Status s = fs.Sync(); !s.ok()) spdlog::error("final sync failed: {}", s.message());
  spdlog::info("stopped");
  return st.ok() ? 0 : 1;
}

}  // namespace

std::string DefaultMountLog(const std::string& store_dir) { return store_dir + "/log/mount.log"; }

int RunDaemon(const MountConfig& given) {
  MountConfig config = given;
  std::error_code ec;
  config.store_dir = std::filesystem::absolute(config.store_dir, ec).lexically_normal();
  if (config.store_dir.size() > 1 && config.store_dir.back() == '/') config.store_dir.pop_back();
  struct stat st;
  if (stat(config.mountpoint.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOTCONN) {
      std::fprintf(stderr, "kvfs: %s is a dead mount (its daemon is gone); run: kvfs umount %s\n",
                   config.mountpoint.c_str(), config.mountpoint.c_str());
    } else {
      std::fprintf(stderr, "kvfs: mount point %s: %s; create the directory first\n",
                   config.mountpoint.c_str(), std::strerror(err));
    }
    return 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "kvfs: mount point %s is not a directory\n", config.mountpoint.c_str());
    return 1;
  }
  if (char* real = realpath(config.mountpoint.c_str(), nullptr)) {
    config.mountpoint = real;
    free(real);
  }
  if (auto existing = FindMount(config.mountpoint);
      existing && existing->fstype.starts_with("fuse")) {
    std::fprintf(stderr, "kvfs: %s is already mounted (%s, %s); unmount it first: kvfs umount %s\n",
                 config.mountpoint.c_str(), existing->source.c_str(), existing->fstype.c_str(),
                 config.mountpoint.c_str());
    return 1;
  }
  {
    // Opened and closed before forking (LMDB handles must not cross a fork), so a
    // missing or damaged store is reported before anything is created in it.
    store::StoreOptions probe;
    probe.read_only = true;
    auto opened = store::Store::Open(config.store_dir, probe);
    if (!opened.ok()) {
      std::fprintf(stderr, "kvfs: %s\n", opened.status().message().c_str());
      return 1;
    }
  }
  const std::string log_path =
      config.log_file.empty() ? DefaultMountLog(config.store_dir) : config.log_file;

  Startup startup(config, log_path);
  if (!config.foreground) {
    int ready_fd = -1;
    if (int code = ForkAndWait(&ready_fd); code >= 0) return code;
    startup.set_ready_fd(ready_fd);
  }
  if (Status s = SetUpLogging(config, log_path); !s.ok()) {
    std::fprintf(stderr, "kvfs: %s\n", s.message().c_str());
    return 1;
  }
  return Serve(config, startup);
}

}  // namespace kvfs::fs
