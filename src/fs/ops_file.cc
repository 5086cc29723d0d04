// File family: create, open, read, write, release, fsync, fallocate (no flush:
// see ops_table.cc).
//
// Writes go to the store as they arrive, each one transaction that rewrites only
// the 64 KiB chunks it touches, so after close(2) the data is in the store. (With
// `-o writeback_cache` the kernel batches small writes into big ones, up to
// max_write, and flushes them before close returns.) fsync makes every commit so
// far durable through the store's redo log (Filesystem::MakeDurable); other commits
// are made durable by the periodic sync.
#include <fcntl.h>

#include <string>

#include "fs/kill_privs.h"
#include "fs/ops.h"
#include "fs/ops_common.h"

namespace kvfs::fs::ops {
namespace {

Status CheckOpenable(const store::Inode& node);

// The kernel sends CREATE when its cache says the name is missing. A peer's merge or
// the CLI may have made the name since: without O_EXCL, open(2) must then open that
// file (truncating it for O_TRUNC) rather than fail with EEXIST.
Status DoCreate(Filesystem& fs, const fuse_ctx* ctx, store::Ino parent, std::string_view name,
                mode_t mode, int flags, store::Inode* out) {
  store::NewObject spec;
  spec.type = store::FileType::kRegular;
  spec.mode = mode & 07777;
  spec.uid = ctx->uid;
  spec.gid = ctx->gid;
  return fs.Update([&](store::WriteTxn& t) -> Status {
    auto created = t.Create(parent, name, spec);
    if (created.ok() || created.status().code() != Code::kExists || (flags & O_EXCL)) {
      KVFS_ASSIGN_OR_RETURN(*out, std::move(created));
      return Status::Ok();
    }
    KVFS_ASSIGN_OR_RETURN(*out, t.Lookup(parent, name));
    KVFS_RETURN_IF_ERROR(CheckOpenable(*out));
    if (flags & O_TRUNC) {
      store::AttrChange change;
      change.size = 0;
      KVFS_ASSIGN_OR_RETURN(*out, t.SetAttr(out->ino, change));
    }
    return Status::Ok();
  });
}

Status CheckOpenable(const store::Inode& node) {
  // The kernel opens an inode through a name it cached, and a peer's merge or the
  // CLI may have deleted the object since (the watcher's invalidation comes after the
  // commit). ESTALE makes the kernel walk the path again with fresh lookups: open(2)
  // then fails with ENOENT, or O_CREAT creates a new file, as if the name had been
  // looked up now. Writing into the tombstone instead would lose the bytes.
  if (node.deleted) return Status(Code::kStale, "the file was deleted since the kernel looked it up");
  if (node.is_dir()) return Status(Code::kIsDir, "is a directory");
  if (!node.is_file()) return Status(Code::kInvalid, "not a regular file");
  return Status::Ok();
}

// libfuse asks for FUSE_CAP_ATOMIC_O_TRUNC, so the kernel leaves O_TRUNC to open:
// the truncation is part of the same transaction.
// `*dropped`: whether the truncation also dropped set-user-ID bits (kill_privs.h).
Status DoOpen(Filesystem& fs, store::Ino ino, int flags, bool kill_privs, bool* dropped) {
  *dropped = false;
  if (!(flags & O_TRUNC)) {
    return fs.View([&](store::ReadTxn& t) -> Status {
      KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Get(ino));
      return CheckOpenable(node);
    });
  }
  return fs.Update([&](store::WriteTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Get(ino));
    KVFS_RETURN_IF_ERROR(CheckOpenable(node));
    store::AttrChange change;
    change.size = 0;
    *dropped = kill_privs && WithoutPrivs(node.mode) != node.mode;
    if (*dropped) change.mode = WithoutPrivs(node.mode);
    return t.SetAttr(ino, change).status();
  });
}

// Answers the read from the map itself, inside the read transaction (its views are
// valid only until it ends): the kernel copies the bytes straight from the store's
// pages, with no copy into a buffer first. Errors are left for the caller to answer.
Status DoRead(Filesystem& fs, Reply& r, store::Ino ino, size_t size, off_t off) {
  if (off < 0) return Status(Code::kInvalid, "negative offset");
  return fs.View([&](store::ReadTxn& t) -> Status {
    std::vector<std::string_view> pieces;
    KVFS_RETURN_IF_ERROR(t.ReadViews(ino, static_cast<uint64_t>(off), size, &pieces).status());
    const ReadAhead::Range ahead = fs.read_ahead().OnRead(ino, static_cast<uint64_t>(off), size);
    // Only a hint: a failure costs speed, not the read.
    if (!ahead.empty()) (void)t.PrefetchRange(ino, ahead.from, ahead.to);
    r.Pieces(pieces);
    return Status::Ok();
  });
}

// An O_APPEND write goes to the end of the file as the store has it. The kernel
// picked `off` from the size it caches, which is stale when a peer's merge or the
// CLI changed the file since (invalidation is asynchronous, and an open fd's
// append does not ask for fresh attributes): writing there would leave a hole or
// overwrite. When the two differ, the kernel's caches are invalidated afterwards.
//
// A file fsynced after each write (FsyncHabit) has its redo-log record started
// before the commit, so the fsync that follows finds it written and only flushes it.
//
// `kill_privs`: the kernel asks to drop set-user-ID bits (kill_privs.h); `*dropped`
// says whether there were any.
Status DoWrite(Filesystem& fs, store::Ino ino, std::string_view data, off_t off, bool append,
               bool kill_privs, bool* dropped) {
  if (off < 0) return Status(Code::kInvalid, "negative offset");
  const store::LogEarly early =
      fs.fsync_habit().Wrote(ino) ? store::LogEarly::kYes : store::LogEarly::kNo;
  return fs.UpdateMaybeForeign(
      [&](store::WriteTxn& t, bool* foreign) -> Status {
        *dropped = false;
        uint64_t at = static_cast<uint64_t>(off);
        if (append) {
          KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Get(ino));
          *foreign = node.size != at;
          at = node.size;
        }
        KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Write(ino, at, data));
        if (!kill_privs || WithoutPrivs(node.mode) == node.mode) return Status::Ok();
        *dropped = true;
        store::AttrChange change;
        change.mode = WithoutPrivs(node.mode);
        return t.SetAttr(ino, change).status();
      },
      early);
}

// fallocate mode 0: make sure [offset, offset+length) is inside the file. The
// store keeps holes without storing them, so extending the size is all it takes.
Status DoFallocate(Filesystem& fs, store::Ino ino, int mode, off_t offset, off_t length) {
  if (mode != 0) return Status(Code::kNotSupported, "only plain fallocate is supported");
  if (offset < 0 || length <= 0) return Status(Code::kInvalid, "bad fallocate range");
  const uint64_t end = static_cast<uint64_t>(offset) + static_cast<uint64_t>(length);
  if (end > store::kMaxFileSize) return Status(Code::kFileTooBig, "past the largest file");
  return fs.Update([&](store::WriteTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Get(ino));
    if (!node.is_file()) return Status(Code::kNotSupported, "not a regular file");
    if (node.size >= end) return Status::Ok();
    store::AttrChange change;
    change.size = end;
    return t.SetAttr(ino, change).status();
  });
}

// fi->fh of a file handle: its open flags that later operations need.
constexpr uint64_t kHandleAppend = 1;

void PrepareOpen(Filesystem& fs, fuse_file_info* fi) {
  // The page cache stays valid across opens: the feed watcher invalidates it
  // when someone else changes the file.
  fi->keep_cache = 1;
  // With the writeback cache the kernel places appends in its page cache itself.
  const bool append = (fi->flags & O_APPEND) && !fs.config().writeback_cache;
  fi->fh = append ? kHandleAppend : 0;
}

}  // namespace

// Valid replies: fuse_reply_create, fuse_reply_err
void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  Guarded(req, "create", [&](Reply& r) {
    Filesystem& fs = r.fs();
    store::Inode node;
    Status st = DoCreate(fs, r.ctx(), parent, name, mode, fi->flags, &node);
    if (!st.ok()) return r.Err(st);
    PrepareOpen(fs, fi);
    fuse_entry_param e;
    fs.FillEntry(node, &e);
    fs.nodes().Remember(node.ino, parent, name);
    fs.nodes().Open(node.ino);
    if (!r.Create(e, *fi)) {
      fs.nodes().Forget(node.ino, 1);
      fs.nodes().Release(node.ino);
    }
  });
}

// Valid replies: fuse_reply_open, fuse_reply_err
void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Guarded(req, "open", [&](Reply& r) {
    bool dropped = false;
    Status st = DoOpen(r.fs(), ino, fi->flags, CurrentRequestKillsPrivs(), &dropped);
    if (!st.ok()) return r.Err(st);
    PrepareOpen(r.fs(), fi);
    r.fs().nodes().Open(ino);
    const bool opened = r.Open(*fi);
    if (dropped) InvalidateAttributes(ino);
    if (!opened && r.fs().nodes().Release(ino)) r.fs().PurgeIfDeleted(ino);
  });
}

// Valid replies: fuse_reply_buf, fuse_reply_err
void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* /*fi*/) {
  Guarded(req, "read", [&](Reply& r) {
    Status st = DoRead(r.fs(), r, ino, size, off);
    if (!st.ok() && !r.done()) r.Err(st);
  });
}

// Valid replies: fuse_reply_write, fuse_reply_err
void Write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
           fuse_file_info* fi) {
  Guarded(req, "write", [&](Reply& r) {
    const bool append = (fi->fh & kHandleAppend) && !fi->writepage;
    // Pieces of one write(2) (see SplitWrites); the writeback cache's page flushes
    // are not write(2)s, and no piece of them is a state worth waiting for.
    const bool piece = !r.fs().config().writeback_cache && !fi->writepage && off >= 0;
    SplitWrites& split = r.fs().split_writes();
    if (piece) split.BeforeWrite(ino, static_cast<uint64_t>(off), size);
    bool dropped = false;
    Status st = DoWrite(r.fs(), ino, std::string_view(buf, size), off, append,
                        CurrentRequestKillsPrivs(), &dropped);
    if (piece) split.AfterWrite(ino, static_cast<uint64_t>(off), size);
    if (!st.ok()) return r.Err(st);
    r.Write(size);
    if (dropped) InvalidateAttributes(ino);  // a WRITE's reply carries no attributes
  });
}

// Valid replies: fuse_reply_err
void Release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
  Guarded(req, "release", [&](Reply& r) {
    r.fs().split_writes().Released(ino);
    r.fs().fsync_habit().Released(ino);
    const bool purge = r.fs().nodes().Release(ino);
    r.Ok();
    if (purge) r.fs().PurgeIfDeleted(ino);
  });
}

// Valid replies: fuse_reply_err
void Fsync(fuse_req_t req, fuse_ino_t ino, int /*datasync*/, fuse_file_info* /*fi*/) {
  Guarded(req, "fsync", [&](Reply& r) {
    r.fs().fsync_habit().Fsynced(ino);
    r.Err(r.fs().Fsync());
  });
}

// Valid replies: fuse_reply_err
void Fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
               fuse_file_info* /*fi*/) {
  Guarded(req, "fallocate",
          [&](Reply& r) { r.Err(DoFallocate(r.fs(), ino, mode, offset, length)); });
}

}  // namespace kvfs::fs::ops
