#include "fs/feed_watcher.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fs/mount_notify.h"

namespace kvfs::fs {
namespace {

constexpr size_t kBatch = 512;
constexpr uint64_t kPage = 4096;
constexpr int kPollMs = 200;
// How long the watcher waits for one of the daemon's own writers to say whether
// a seq it is committing is its own (normally microseconds).
constexpr std::chrono::milliseconds kOwnWait(2000);

}  // namespace

FeedWatcher::FeedWatcher(Filesystem& fs, fuse_session* session, std::string store_dir)
    : fs_(fs), session_(session), store_dir_(std::move(store_dir)) {}

FeedWatcher::~FeedWatcher() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    unlink(socket_path_.c_str());
  }
}

Status FeedWatcher::Start() {
  Status st = fs_.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(cursor_, t.LastSeq());
    return Status::Ok();
  });
  if (!st.ok()) return st;
  const std::string run_dir = MountRunDir(store_dir_);
  if (mkdir(run_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return IoError("cannot create " + run_dir);
  }
  RemoveStaleSockets(store_dir_);
  socket_path_ = MountSocketPath(store_dir_, getpid());
  listen_fd_ = ListenUnixSocket(socket_path_, 64);
  if (listen_fd_ < 0) {
    // Not fatal: the mount still polls the feed, CLI writes just show up a bit later.
    spdlog::warn("cannot listen on {}: {}; CLI writes will show after up to {} ms", socket_path_,
                 std::strerror(errno), kPollMs);
  }
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
  return Status::Ok();
}

void FeedWatcher::Run(std::stop_token stop) {
  spdlog::debug("feed watcher started at seq {}", cursor_);
  while (!stop.stop_requested()) {
    pollfd p{listen_fd_, POLLIN, 0};
    const int n = poll(&p, listen_fd_ >= 0 ? 1 : 0, kPollMs);
    std::vector<int> clients;
    if (n > 0 && (p.revents & POLLIN)) {
      for (;;) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) break;
        // The nudge byte itself carries nothing; a client that sends nothing in
        // a second is simply answered.
        timeval tv{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        char nudge;
        if (recv(fd, &nudge, 1, 0) < 0) spdlog::debug("nudge without a byte");
        clients.push_back(fd);
      }
    }
    try {
      // A nudge may come from a reader (the CLI) that must not see a name an answered
      // unlink removed: the ack waits for those to be committed.
      if (!clients.empty()) fs_.deferred_unlinks().WaitIdle();
      CatchUp();
      RecheckListings();
    } catch (const std::exception& e) {
      spdlog::error("feed watcher: unexpected exception: {}", e.what());
    }
    for (int fd : clients) {
      send(fd, &kAckByte, 1, MSG_NOSIGNAL);
      close(fd);
    }
  }
  spdlog::debug("feed watcher stopped at seq {}", cursor_);
}

Status FeedWatcher::ReadBatch(std::vector<Changed>* batch) {
  batch->clear();
  return fs_.View([&](store::ReadTxn& t) -> Status {
    batch->clear();
    KVFS_ASSIGN_OR_RETURN(auto changes, t.ChangesSince(cursor_, kBatch));
    for (const store::Change& ch : changes) {
      Changed c;
      c.seq = ch.seq;
      c.ino = ch.ino;
      c.merged = ch.op == store::ChangeOp::kMerge;
      // Most of the feed is the daemon's own writes: judged first, they cost no
      // inode read. (A seq this snapshot sees is committed, so its writer is
      // about to resolve it: the wait is short.)
      c.own = fs_.own_seqs().IsOwn(ch.seq, kOwnWait);
      if (c.own) {
        batch->push_back(std::move(c));
        continue;
      }
      auto node = t.Get(ch.ino);
      if (node.ok()) {
        c.found = true;
        c.deleted = node->deleted;
        c.links = node->links;
        c.is_file = node->is_file();
        c.size = node->size;
        if (c.is_file && !c.deleted && node->size > 0 && fs_.config().writeback_cache &&
            fs_.nodes().Known(c.ino)) {
          const uint64_t page_start = (node->size - 1) / kPage * kPage;
          KVFS_ASSIGN_OR_RETURN(c.tail, t.Read(c.ino, page_start, node->size - page_start));
        }
      }
      batch->push_back(std::move(c));
    }
    return Status::Ok();
  });
}

void FeedWatcher::CatchUp() {
  std::vector<Changed> batch;
  do {
    Status st = ReadBatch(&batch);
    if (!st.ok()) {
      spdlog::warn("feed watcher: cannot read the change feed: {}", st.message());
      return;
    }
    // No store transaction is open from here on: notifications may make the
    // kernel call back into the daemon.
    StaleListings stale;
    for (const Changed& c : batch) {
      if (!c.own) Invalidate(c, &stale);
      cursor_ = c.seq;
    }
    DropListings(stale);
    if (!stale.empty()) {
      if (recheck_.empty()) recheck_since_ = std::chrono::steady_clock::now();
      recheck_.Merge(stale);
    }
    fs_.own_seqs().Prune(cursor_);
  } while (batch.size() == kBatch);
}

void FeedWatcher::InvalidateEntry(const store::Link& link) {
  if (!fs_.nodes().Known(link.parent)) return;  // the kernel caches nothing under it
  const int rc =
      fuse_lowlevel_notify_inval_entry(session_, link.parent, link.name.c_str(), link.name.size());
  if (rc != 0 && rc != -ENOENT) {
    spdlog::debug("inval_entry({}, {}) failed: {}", link.parent, link.name, std::strerror(-rc));
  }
}

void FeedWatcher::DropListings(const StaleListings& stale) {
  const std::vector<store::Ino> dirs =
      stale.all() ? fs_.nodes().ListedDirs()
                  : std::vector<store::Ino>(stale.dirs().begin(), stale.dirs().end());
  for (store::Ino dir : dirs) {
    if (!fs_.nodes().Known(dir)) continue;  // the kernel holds nothing of it
    // Offset 0, length 0: the attributes and every page, and so the cached listing.
    const int rc = fuse_lowlevel_notify_inval_inode(session_, dir, 0, 0);
    if (rc != 0 && rc != -ENOENT) {
      spdlog::debug("inval_inode({}) of a listing failed: {}", dir, std::strerror(-rc));
    }
  }
}

void FeedWatcher::RecheckListings() {
  if (recheck_.empty() || std::chrono::steady_clock::now() - recheck_since_ < kRecheckDelay) {
    return;
  }
  DropListings(recheck_);
  recheck_ = StaleListings();
}

void FeedWatcher::Invalidate(const Changed& c, StaleListings* stale) {
  NodeTable& nodes = fs_.nodes();
  if (nodes.Known(c.ino)) {
    const int rc = fuse_lowlevel_notify_inval_inode(session_, c.ino, 0, 0);
    if (rc != 0 && rc != -ENOENT) {
      spdlog::debug("inval_inode({}) failed: {}", c.ino, std::strerror(-rc));
    }
  }
  // A tombstone keeps its last name in links, but no name of it is live.
  const std::vector<store::Link> live =
      c.deleted || !c.found ? std::vector<store::Link>() : c.links;
  const std::vector<store::Link> known = nodes.Names(c.ino);
  std::vector<store::Link> still;
  // Only names whose binding changed are dropped: dropping a directory's
  // unchanged dentry would make getcwd() fail in a shell sitting inside it.
  // With the writeback cache, regular files are the exception: the kernel keeps
  // its own size and mtime of a cached file and ignores the daemon's, so the
  // file's dentries go, and with them (once no one has it open) the inode; the
  // next lookup then reads size and times afresh.
  for (const store::Link& l : known) {
    if (store::HasLink(live, l) && !(c.is_file && fs_.config().writeback_cache)) {
      still.push_back(l);
    } else {
      InvalidateEntry(l);
    }
  }
  for (const store::Link& l : live) {
    if (!store::HasLink(known, l)) InvalidateEntry(l);  // may be cached as "no such name"
  }
  stale->Note(known, live, c.deleted ? c.links : std::vector<store::Link>(),
              c.merged && known.empty());
  nodes.SetNames(c.ino, std::move(still));
  // A delete merged from a peer leaves a tombstone that keeps its xattrs (and any
  // content) for open handles: the last forget purges it, or, when the kernel holds
  // nothing of it, the syncer's next pass.
  if (c.deleted && nodes.MarkDeleted(c.ino)) fs_.QueuePurge(c.ino);
  if (c.tail) PushSize(c);
}

// With the writeback cache the kernel keeps its own size for a file it holds
// (open, or not yet evicted) and ignores the daemon's. Storing the file's last
// page into the page cache is the one way to move that size: the kernel grows it
// to the end of what was stored. (It cannot shrink it; see README.md.)
void FeedWatcher::PushSize(const Changed& c) {
  const uint64_t page_start = c.size - c.tail->size();
  fuse_bufvec buf = FUSE_BUFVEC_INIT(c.tail->size());
  buf.buf[0].mem = const_cast<char*>(c.tail->data());
  const int rc = fuse_lowlevel_notify_store(session_, c.ino, static_cast<off_t>(page_start), &buf,
                                            fuse_buf_copy_flags{});
  if (rc != 0 && rc != -ENOENT) {
    spdlog::debug("notify_store({}) failed: {}", c.ino, std::strerror(-rc));
  }
}

}  // namespace kvfs::fs
