// Entry family: init, lookup, forget, getattr, setattr, readlink.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <string>

#include "fs/kill_privs.h"
#include "fs/ops.h"
#include "fs/ops_common.h"

namespace kvfs::fs::ops {
namespace {

Status DoLookup(Filesystem& fs, store::Ino parent, std::string_view name, store::Inode* out) {
  if (name.size() > store::kMaxNameLen) {
    return Status(Code::kNameTooLong, "names are at most 255 bytes");
  }
  return fs.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(*out, t.Lookup(parent, name));
    return Status::Ok();
  });
}

Status DoGetattr(Filesystem& fs, store::Ino ino, store::Inode* out) {
  return fs.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(*out, t.Get(ino));
    return Status::Ok();
  });
}

// The store change for a setattr; false when nothing the store keeps is asked
// for (a bare ctime update, which every store change makes anyway).
bool ToAttrChange(const struct stat& attr, int to_set, store::AttrChange* c) {
  if (to_set & FUSE_SET_ATTR_MODE) c->mode = attr.st_mode & 07777;
  if (to_set & FUSE_SET_ATTR_UID) c->uid = attr.st_uid;
  if (to_set & FUSE_SET_ATTR_GID) c->gid = attr.st_gid;
  if (to_set & FUSE_SET_ATTR_SIZE) c->size = static_cast<uint64_t>(attr.st_size);
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
    c->atime_now = true;
  } else if (to_set & FUSE_SET_ATTR_ATIME) {
    c->atime = store::Timespec{attr.st_atim.tv_sec, attr.st_atim.tv_nsec};
  }
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
    c->mtime_now = true;
  } else if (to_set & FUSE_SET_ATTR_MTIME) {
    c->mtime = store::Timespec{attr.st_mtim.tv_sec, attr.st_mtim.tv_nsec};
  }
  return c->mode || c->uid || c->gid || c->size || c->atime || c->mtime || c->atime_now ||
         c->mtime_now;
}

bool OnlyOwnership(const store::AttrChange& c) {
  return !c.size && !c.atime && !c.mtime && !c.atime_now && !c.mtime_now;
}

bool Unchanged(const store::AttrChange& c, const store::Inode& node) {
  return (!c.mode || *c.mode == (node.mode & 07777)) && (!c.uid || *c.uid == node.uid) &&
         (!c.gid || *c.gid == node.gid);
}

// The mode a setattr leaves when it must also drop set-user-ID bits (kill_privs.h):
// the one it sets, or else the file's, without them.
std::optional<uint32_t> ModeAfterKill(const store::AttrChange& c, const store::Inode& node) {
  if (!node.is_file()) return c.mode;
  const uint32_t mode = c.mode.value_or(node.mode & 07777);
  if (!c.mode && WithoutPrivs(mode) == mode) return std::nullopt;
  return WithoutPrivs(mode);
}

Status DoSetattr(Filesystem& fs, store::Ino ino, const struct stat& attr, int to_set,
                 bool kill_privs, store::Inode* out) {
  if ((to_set & FUSE_SET_ATTR_SIZE) && attr.st_size < 0) {
    return Status(Code::kInvalid, "negative size");
  }
  store::AttrChange change;
  if (!ToAttrChange(attr, to_set, &change) && !kill_privs) return DoGetattr(fs, ino, out);
  if (OnlyOwnership(change) && !fs.config().read_only) {
    // tar, cp -p and rsync chown/chmod every file they write, mostly to what it
    // already is: such a call is answered from a read, without a store commit
    // (and without a new stamp that sync would send to every peer).
    KVFS_RETURN_IF_ERROR(DoGetattr(fs, ino, out));
    store::AttrChange after = change;
    if (kill_privs) after.mode = ModeAfterKill(change, *out);
    if (Unchanged(after, *out)) return Status::Ok();
  }
  return fs.Update([&](store::WriteTxn& t) -> Status {
    store::AttrChange c = change;  // the function may run more than once
    if (kill_privs) {
      KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Get(ino));
      c.mode = ModeAfterKill(change, node);
    }
    KVFS_ASSIGN_OR_RETURN(*out, t.SetAttr(ino, c));
    return Status::Ok();
  });
}

Status DoReadlink(Filesystem& fs, store::Ino ino, std::string* target) {
  return fs.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Get(ino));
    if (!node.is_symlink()) return Status(Code::kInvalid, "not a symlink");
    *target = node.symlink_target;
    return Status::Ok();
  });
}

void ForgetOne(Filesystem& fs, store::Ino ino, uint64_t nlookup) {
  if (fs.nodes().Forget(ino, nlookup)) fs.QueuePurge(ino);
}

}  // namespace

void Init(void* userdata, fuse_conn_info* conn) {
  auto* fs = static_cast<Filesystem*>(userdata);
  const auto& config = fs->config();
  // The kernel batches writes in its page cache and sends big ones; without this,
  // every write(2) would be its own store transaction.
  if ((conn->capable & FUSE_CAP_WRITEBACK_CACHE) && config.writeback_cache && !config.read_only) {
    conn->want |= FUSE_CAP_WRITEBACK_CACHE;
  }
  // Every listing through readdirplus (not the kernel's "auto" choice): the daemon
  // decides which entries carry attributes (MountOptions::readdir_attrs).
  conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
  if ((conn->capable & FUSE_CAP_READDIRPLUS) && config.readdir_attrs != ReaddirAttrs::kNone) {
    conn->want |= FUSE_CAP_READDIRPLUS;
  }
  const char* attrs = config.readdir_attrs == ReaddirAttrs::kAll ? "all entries" : "directories";
  spdlog::info("kernel features: readdirplus {}, writeback cache {}",
               (conn->want & FUSE_CAP_READDIRPLUS) ? attrs : "off",
               (conn->want & FUSE_CAP_WRITEBACK_CACHE) ? "on" : "off");
  // Directories are listed without a handle (dir_cookies.h): Opendir answers ENOSYS
  // and the kernel stops sending OPENDIR and RELEASEDIR.
  fs->set_opendir_needed((conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) == 0);
  // Locks stay in the kernel (see ops.h).
  conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
  conn->max_write = std::min(conn->max_write, config.max_write);
  conn->time_gran = 1;
}

// Valid replies: fuse_reply_entry, fuse_reply_err
void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Guarded(req, "lookup", [&](Reply& r) {
    store::Inode node;
    Status st = DoLookup(r.fs(), parent, name, &node);
    if (st.code() == Code::kNotFound) {
      fuse_entry_param e;
      r.fs().FillNegativeEntry(&e);
      r.Entry(e);
    } else if (!st.ok()) {
      r.Err(st);
    } else {
      ReplyEntry(r, node, parent, name);
    }
  });
}

// Valid replies: fuse_reply_none
void Forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Guarded(req, "forget", [&](Reply& r) {
    ForgetOne(r.fs(), ino, nlookup);
    r.None();
  }, AnsweredUnlinks::kDontWait);
}

// Valid replies: fuse_reply_none
void ForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  Guarded(req, "forget_multi", [&](Reply& r) {
    for (size_t i = 0; i < count; ++i) ForgetOne(r.fs(), forgets[i].ino, forgets[i].nlookup);
    r.None();
  }, AnsweredUnlinks::kDontWait);
}

// Valid replies: fuse_reply_attr, fuse_reply_err
void Getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
  Guarded(
      req, "getattr",
      [&](Reply& r) {
        DeferredUnlinks& unlinks = r.fs().deferred_unlinks();
        // An unlinked object's nlink and ctime change with the commit: wait for it.
        if (unlinks.Removes(ino)) unlinks.WaitIdle();
        // A directory changes only its times, to what the commit records. Asked before
        // the read: a batch that lands in between has recorded this very time.
        const std::optional<store::Timespec> dir_time = unlinks.DirTimeAfter(ino);
        store::Inode node;
        Status st = DoGetattr(r.fs(), ino, &node);
        if (!st.ok()) return r.Err(st);
        if (dir_time) node.mtime = node.ctime = *dir_time;
        struct stat attr;
        r.fs().FillAttr(node, &attr);
        r.Attr(attr, r.fs().config().attr_timeout);
      },
      AnsweredUnlinks::kDontWait);
}

// Valid replies: fuse_reply_attr, fuse_reply_err
void Setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
             fuse_file_info* /*fi*/) {
  Guarded(req, "setattr", [&](Reply& r) {
    store::Inode node;
    Status st = DoSetattr(r.fs(), ino, *attr, to_set, CurrentRequestKillsPrivs(), &node);
    if (!st.ok()) return r.Err(st);
    struct stat out;
    r.fs().FillAttr(node, &out);
    r.Attr(out, r.fs().config().attr_timeout);
  });
}

// Valid replies: fuse_reply_readlink, fuse_reply_err
void Readlink(fuse_req_t req, fuse_ino_t ino) {
  Guarded(req, "readlink", [&](Reply& r) {
    std::string target;
    Status st = DoReadlink(r.fs(), ino, &target);
    if (!st.ok()) return r.Err(st);
    r.Readlink(target);
  });
}

}  // namespace kvfs::fs::ops
