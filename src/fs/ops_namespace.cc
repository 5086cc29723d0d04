// Namespace family: mknod, mkdir, symlink, link, unlink, rmdir, rename.
#include <sys/stat.h>
#include <time.h>

#include <optional>
#include <string>

#include "fs/ops.h"
#include "fs/ops_common.h"

namespace kvfs::fs::ops {
namespace {

// Creates an object owned by the caller; the store applies setgid inheritance.
Status DoCreate(Filesystem& fs, const fuse_ctx* ctx, store::Ino parent, std::string_view name,
                store::NewObject spec, store::Inode* out) {
  spec.uid = ctx->uid;
  spec.gid = ctx->gid;
  return fs.Update([&](store::WriteTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(*out, t.Create(parent, name, spec));
    return Status::Ok();
  });
}

store::NewObject Spec(store::FileType type, uint32_t mode, std::string target = {}) {
  store::NewObject spec;
  spec.type = type;
  spec.mode = mode & 07777;
  spec.symlink_target = std::move(target);
  return spec;
}

void CreateAndReply(Reply& r, store::Ino parent, const char* name, store::NewObject spec) {
  store::Inode node;
  Status st = DoCreate(r.fs(), r.ctx(), parent, name, std::move(spec), &node);
  if (!st.ok()) return r.Err(st);
  ReplyEntry(r, node, parent, name);
}

Status DoLink(Filesystem& fs, store::Ino ino, store::Ino new_parent, std::string_view new_name,
              store::Inode* out) {
  return fs.Update([&](store::WriteTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(*out, t.Link(ino, new_parent, new_name));
    return Status::Ok();
  });
}

Status DoUnlink(Filesystem& fs, store::Ino parent, std::string_view name, store::Inode* out) {
  return fs.Update([&](store::WriteTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(*out, t.Unlink(parent, name));
    return Status::Ok();
  });
}

// Queues the unlink to be committed with others (deferred_unlinks.h) when a read shows
// it will succeed: the name is there and is no directory. False for anything else
// (a missing name, a directory, a read-only mount, the same name already queued),
// which the caller then does as one transaction, with the errno that gives.
bool DeferUnlink(Filesystem& fs, store::Ino parent, std::string_view name) {
  if (fs.config().read_only) return false;
  // The kernel holds the directory locked across an unlink, so no other unlink of
  // this name can slip in between this check and Add.
  if (fs.deferred_unlinks().Pending(parent, name)) return false;
  store::Inode node;
  Status st = fs.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(node, t.Lookup(parent, name));
    return Status::Ok();
  });
  if (!st.ok() || node.is_dir()) return false;
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  fs.deferred_unlinks().Add({parent, std::string(name), node.ino, {now.tv_sec, now.tv_nsec}});
  return true;
}

Status DoRmdir(Filesystem& fs, store::Ino parent, std::string_view name, store::Inode* out) {
  return fs.Update([&](store::WriteTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(*out, t.Lookup(parent, name));
    KVFS_RETURN_IF_ERROR(t.Rmdir(parent, name));
    KVFS_ASSIGN_OR_RETURN(*out, t.Get(out->ino));
    return Status::Ok();
  });
}

struct RenameResult {
  store::Ino moved = 0;
  std::optional<store::Ino> exchanged;   // RENAME_EXCHANGE: the other object
  std::optional<store::Inode> replaced;  // the object the rename displaced
};

Status DoRename(Filesystem& fs, store::Ino parent, std::string_view name, store::Ino new_parent,
                std::string_view new_name, unsigned flags, RenameResult* out) {
  if (flags & ~(store::kRenameNoReplace | store::kRenameExchange)) {
    return Status(Code::kInvalid, "unsupported rename flags");  // RENAME_WHITEOUT
  }
  return fs.Update([&](store::WriteTxn& t) -> Status {
    *out = RenameResult{};
    if (flags & store::kRenameExchange) {
      auto other = t.Lookup(new_parent, new_name);
      if (other.ok()) out->exchanged = other->ino;
    }
    KVFS_ASSIGN_OR_RETURN(store::RenameOutcome outcome,
                          t.Rename(parent, name, new_parent, new_name, flags));
    out->moved = outcome.moved;
    out->replaced = std::move(outcome.replaced);
    return Status::Ok();
  });
}

}  // namespace

// Valid replies: fuse_reply_entry, fuse_reply_err
void Mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t /*rdev*/) {
  Guarded(req, "mknod", [&](Reply& r) {
    // Only regular files: devices, FIFOs and sockets have no meaning in a
    // replicated key-value store.
    if ((mode & S_IFMT) != S_IFREG && (mode & S_IFMT) != 0) return r.Err(EPERM);
    CreateAndReply(r, parent, name, Spec(store::FileType::kRegular, mode));
  });
}

// Valid replies: fuse_reply_entry, fuse_reply_err
void Mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  Guarded(req, "mkdir", [&](Reply& r) {
    CreateAndReply(r, parent, name, Spec(store::FileType::kDirectory, mode));
  });
}

// Valid replies: fuse_reply_entry, fuse_reply_err
void Symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  Guarded(req, "symlink", [&](Reply& r) {
    CreateAndReply(r, parent, name, Spec(store::FileType::kSymlink, 0777, target));
  });
}

// Valid replies: fuse_reply_entry, fuse_reply_err
void Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent, const char* new_name) {
  Guarded(req, "link", [&](Reply& r) {
    store::Inode node;
    Status st = DoLink(r.fs(), ino, new_parent, new_name, &node);
    if (!st.ok()) return r.Err(st);
    ReplyEntry(r, node, new_parent, new_name);
  });
}

// Valid replies: fuse_reply_err
void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Guarded(
      req, "unlink",
      [&](Reply& r) {
        if (DeferUnlink(r.fs(), parent, name)) {
          r.Ok();
          return r.fs().deferred_unlinks().Kick();
        }
        r.fs().deferred_unlinks().WaitIdle();
        store::Inode node;
        Status st = DoUnlink(r.fs(), parent, name, &node);
        r.Err(st);
        if (st.ok()) AfterRemove(r.fs(), node, parent, name);
      },
      AnsweredUnlinks::kDontWait);
}

// Valid replies: fuse_reply_err
void Rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Guarded(req, "rmdir", [&](Reply& r) {
    store::Inode node;
    Status st = DoRmdir(r.fs(), parent, name, &node);
    r.Err(st);
    if (st.ok()) AfterRemove(r.fs(), node, parent, name);
  });
}

// Valid replies: fuse_reply_err
void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent,
            const char* new_name, unsigned int flags) {
  Guarded(req, "rename", [&](Reply& r) {
    RenameResult result;
    Status st = DoRename(r.fs(), parent, name, new_parent, new_name, flags, &result);
    r.Err(st);
    if (!st.ok()) return;
    NodeTable& nodes = r.fs().nodes();
    nodes.DropName(result.moved, parent, name);
    nodes.AddName(result.moved, new_parent, new_name);
    if (result.exchanged) {
      nodes.DropName(*result.exchanged, new_parent, new_name);
      nodes.AddName(*result.exchanged, parent, name);
    }
    if (result.replaced) AfterRemove(r.fs(), *result.replaced, new_parent, new_name);
  });
}

}  // namespace kvfs::fs::ops
