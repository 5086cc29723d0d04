// Directory family: opendir, readdir, readdirplus, fsyncdir, statfs.
//
// opendir answers ENOSYS so that the kernel sends no OPENDIR or RELEASEDIR again. It
// then lists a directory by (ino, offset) alone; offsets are the entries' inode
// numbers, which stay valid while the directory changes (dir_cookies.h). Each
// READDIR reads the listing and the attributes it sends in one read transaction.
#include <sys/statvfs.h>

#include <memory>
#include <string>
#include <vector>

#include "fs/dir_cookies.h"
#include "fs/ops.h"
#include "fs/ops_common.h"

namespace kvfs::fs::ops {
namespace {

uint32_t DtMode(store::FileType type) {
  switch (type) {
    case store::FileType::kDirectory:
      return S_IFDIR;
    case store::FileType::kSymlink:
      return S_IFLNK;
    case store::FileType::kRegular:
      break;
  }
  return S_IFREG;
}

// Whether a readdirplus entry of `type` carries attributes (the kernel then links
// it: an inode, and a lookup count).
bool WithAttrs(const FsConfig& config, store::FileType type) {
  return config.readdir_attrs == ReaddirAttrs::kAll || type == store::FileType::kDirectory;
}

// The listing of `dir` in cookie order as of `t`: from the cache when nothing was
// committed since it was sorted. Empty for a removed directory (still open somewhere).
Result<std::shared_ptr<const CookedListing>> ListingOf(Filesystem& fs, store::ReadTxn& t,
                                                       store::Ino dir) {
  const uint64_t snapshot = t.SnapshotId();
  if (auto cached = fs.listings().Find(dir, snapshot)) return cached;
  KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Get(dir));
  if (!node.is_dir()) return Status(Code::kNotDir, "not a directory");
  if (node.deleted) return std::make_shared<const CookedListing>();
  store::Ino parent = store::kRootIno;
  if (dir != store::kRootIno && !node.links.empty()) parent = node.links.front().parent;
  KVFS_ASSIGN_OR_RETURN(auto entries, t.ListDir(dir));
  auto listing =
      std::make_shared<const CookedListing>(CookListing(dir, parent, std::move(entries)));
  fs.listings().Put(dir, snapshot, listing);
  return listing;
}

// An entry the kernel links (it was sent with attributes): one lookup of `ino`.
struct LinkedEntry {
  store::Ino ino;
  std::string name;
};

// Fills a reply of at most `size` bytes with the entries after cookie `off`. `plus`:
// as fuse_direntplus, with attributes where WithAttrs says so; those entries are
// remembered as looked up and returned in `*linked_entries`.
Status FillListing(Filesystem& fs, fuse_req_t req, store::Ino dir, size_t size, off_t off,
                   bool plus, std::string* out, std::vector<LinkedEntry>* linked_entries) {
  std::string buf(size, '\0');
  struct Added {
    size_t end;   // buffer length after the entry
    bool linked;  // whether the kernel links it (it carries attributes)
  };
  std::vector<Added> added;
  std::vector<LinkedEntry>& counted = *linked_entries;
  // Before the read: a change committed after it began is then invalidated
  // (stale_listings.h).
  fs.nodes().Listed(dir);
  Status st = fs.View([&](store::ReadTxn& t) -> Status {
    added.clear();
    counted.clear();
    KVFS_ASSIGN_OR_RETURN(auto listing, ListingOf(fs, t, dir));
    const size_t from = FirstAfter(*listing, static_cast<uint64_t>(off));
    size_t used = 0;
    size_t i = from;
    for (; i < listing->size(); ++i) {
      const CookedEntry& c = (*listing)[i];
      const auto next = static_cast<off_t>(c.cookie);
      size_t n = 0;
      fuse_ino_t param_ino = 0;
      if (!plus) {
        struct stat attr = {};
        attr.st_ino = c.entry.ino;
        attr.st_mode = DtMode(c.entry.type);
        n = fuse_add_direntry(req, buf.data() + used, size - used, c.entry.name.c_str(), &attr,
                              next);
      } else {
        fuse_entry_param param = {};  // ino 0: the kernel links nothing (".", "..")
        param.attr.st_ino = c.entry.ino;
        param.attr.st_mode = DtMode(c.entry.type);
        if (c.cookie > kDotDotCookie && WithAttrs(fs.config(), c.entry.type)) {
          auto node = t.Get(c.entry.ino);
          if (!node.ok() && node.status().code() != Code::kNotFound) return node.status();
          if (node.ok()) fs.FillEntry(*node, &param);  // else listed without attributes
        }
        n = fuse_add_direntry_plus(req, buf.data() + used, size - used, c.entry.name.c_str(),
                                   &param, next);
        param_ino = param.ino;
      }
      if (n > size - used) break;
      used += n;
      added.push_back({used, param_ino != 0});
    }
    // Leave hard links that share a cookie whole for the next reply.
    const size_t keep = CutAt(*listing, from, i) - from;
    added.resize(std::min(added.size(), keep));
    buf.resize(added.empty() ? 0 : added.back().end);
    for (size_t k = 0; k < added.size(); ++k) {
      const store::DirEntry& e = (*listing)[from + k].entry;
      if (added[k].linked) counted.push_back({e.ino, e.name});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  for (const LinkedEntry& e : counted) fs.nodes().Remember(e.ino, dir, e.name);
  *out = std::move(buf);
  return Status::Ok();
}

void ListDirectory(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus,
                   const char* op) {
  Guarded(req, op, [&](Reply& r) {
    if (off < 0) return r.Err(EINVAL);
    std::string buf;
    std::vector<LinkedEntry> linked;
    Status st = FillListing(r.fs(), req, ino, size, off, plus, &buf, &linked);
    if (!st.ok()) return r.Err(st);
    if (r.Buf(buf)) return;
    // Interrupted: the kernel linked none of them.
    for (const LinkedEntry& e : linked) {
      if (r.fs().nodes().Forget(e.ino, 1)) r.fs().QueuePurge(e.ino);
    }
  });
}

}  // namespace

// Valid replies: fuse_reply_open, fuse_reply_err
void Opendir(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  // libfuse 3.14 answers a missing opendir with success, never ENOSYS; the kernel
  // stops sending OPENDIR (and RELEASEDIR) only after an ENOSYS.
  Guarded(
      req, "opendir",
      [&](Reply& r) {
        if (!r.fs().opendir_needed()) return r.Err(ENOSYS);
        fi->fh = 0;  // READDIR needs no handle
        r.Open(*fi);
      },
      AnsweredUnlinks::kDontWait);
}

// Valid replies: fuse_reply_buf, fuse_reply_err
void Readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* /*fi*/) {
  ListDirectory(req, ino, size, off, /*plus=*/false, "readdir");
}

// Valid replies: fuse_reply_buf, fuse_reply_err
void Readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* /*fi*/) {
  ListDirectory(req, ino, size, off, /*plus=*/true, "readdirplus");
}

// Valid replies: fuse_reply_err
void Fsyncdir(fuse_req_t req, fuse_ino_t /*ino*/, int /*datasync*/, fuse_file_info* /*fi*/) {
  Guarded(req, "fsyncdir", [&](Reply& r) { r.Err(r.fs().Fsync()); });
}

// Valid replies: fuse_reply_statfs, fuse_reply_err
void Statfs(fuse_req_t req, fuse_ino_t /*ino*/) {
  Guarded(req, "statfs", [&](Reply& r) {
    // Space is the space of the disk under the store; objects are not limited
    // by a table, so the file counts are the disk's too.
    struct statvfs st;
    if (statvfs(r.fs().store().dir().c_str(), &st) != 0) return r.Err(errno);
    st.f_namemax = store::kMaxNameLen;
    st.f_flag = 0;
    r.Statfs(st);
  });
}

}  // namespace kvfs::fs::ops
