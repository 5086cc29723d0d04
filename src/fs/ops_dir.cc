// Directory family: opendir, readdir, readdirplus, releasedir, fsyncdir, statfs.
//
// opendir snapshots the whole listing into the handle, so offsets stay stable
// while the directory changes (an entry added later is not listed, one removed
// later is listed by readdir and skipped by readdirplus).
#include <sys/statvfs.h>

#include <memory>
#include <string>
#include <vector>

#include "fs/ops.h"
#include "fs/ops_common.h"

namespace kvfs::fs::ops {
namespace {

struct DirHandle {
  // entries[0] is ".", entries[1] is "..", then the listing in name order.
  std::vector<store::DirEntry> entries;
};

DirHandle* HandleOf(const fuse_file_info* fi) { return reinterpret_cast<DirHandle*>(fi->fh); }

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

Status DoOpendir(Filesystem& fs, store::Ino ino, DirHandle* h) {
  return fs.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(store::Inode dir, t.Get(ino));
    if (!dir.is_dir()) return Status(Code::kNotDir, "not a directory");
    store::Ino parent = store::kRootIno;
    if (ino != store::kRootIno && !dir.links.empty()) parent = dir.links.front().parent;
    KVFS_ASSIGN_OR_RETURN(auto listing, t.ListDir(ino));
    h->entries.clear();
    h->entries.reserve(listing.size() + 2);
    h->entries.push_back({".", ino, store::FileType::kDirectory});
    h->entries.push_back({"..", parent, store::FileType::kDirectory});
    for (auto& e : listing) h->entries.push_back(std::move(e));
    return Status::Ok();
  });
}

// Fills `buf` (at most `size` bytes) with entries from index `off` on.
std::string FillPlain(fuse_req_t req, const DirHandle& h, size_t size, off_t off) {
  std::string buf(size, '\0');
  size_t used = 0;
  for (size_t i = static_cast<size_t>(off); i < h.entries.size(); ++i) {
    const store::DirEntry& e = h.entries[i];
    struct stat st = {};
    st.st_ino = e.ino;
    st.st_mode = DtMode(e.type);
    const size_t n = fuse_add_direntry(req, buf.data() + used, size - used, e.name.c_str(), &st,
                                       static_cast<off_t>(i + 1));
    if (n > size - used) break;
    used += n;
  }
  buf.resize(used);
  return buf;
}

// Like FillPlain, with attributes; every entry added counts as a lookup.
Status FillPlus(Filesystem& fs, fuse_req_t req, store::Ino dir, const DirHandle& h, size_t size,
                off_t off, std::string* out) {
  std::string buf(size, '\0');
  size_t used = 0;
  std::vector<std::pair<store::Ino, const std::string*>> counted;
  Status st = fs.View([&](store::ReadTxn& t) -> Status {
    used = 0;
    counted.clear();
    for (size_t i = static_cast<size_t>(off); i < h.entries.size(); ++i) {
      const store::DirEntry& e = h.entries[i];
      fuse_entry_param param = {};
      const bool dot = i < 2;
      if (dot) {
        param.attr.st_ino = e.ino;
        param.attr.st_mode = S_IFDIR;
      } else {
        auto node = t.Get(e.ino);
        if (!node.ok() && node.status().code() != Code::kNotFound) return node.status();
        if (!node.ok() || node->deleted) continue;  // removed since opendir
        fs.FillEntry(*node, &param);
      }
      const size_t n = fuse_add_direntry_plus(req, buf.data() + used, size - used, e.name.c_str(),
                                              &param, static_cast<off_t>(i + 1));
      if (n > size - used) break;
      used += n;
      if (!dot) counted.emplace_back(e.ino, &e.name);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  for (const auto& [ino, name] : counted) fs.nodes().Remember(ino, dir, *name);
  buf.resize(used);
  *out = std::move(buf);
  return Status::Ok();
}

}  // namespace

// Valid replies: fuse_reply_open, fuse_reply_err
void Opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Guarded(req, "opendir", [&](Reply& r) {
    auto h = std::make_unique<DirHandle>();
    Status st = DoOpendir(r.fs(), ino, h.get());
    if (!st.ok()) return r.Err(st);
    fi->fh = reinterpret_cast<uint64_t>(h.get());
    if (r.Open(*fi)) h.release();  // releasedir frees it
  });
}

// Valid replies: fuse_reply_buf, fuse_reply_err
void Readdir(fuse_req_t req, fuse_ino_t /*ino*/, size_t size, off_t off, fuse_file_info* fi) {
  Guarded(req, "readdir", [&](Reply& r) {
    if (off < 0) return r.Err(EINVAL);
    r.Buf(FillPlain(req, *HandleOf(fi), size, off));
  });
}

// Valid replies: fuse_reply_buf, fuse_reply_err
void Readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Guarded(req, "readdirplus", [&](Reply& r) {
    if (off < 0) return r.Err(EINVAL);
    std::string buf;
    Status st = FillPlus(r.fs(), req, ino, *HandleOf(fi), size, off, &buf);
    if (!st.ok()) return r.Err(st);
    r.Buf(buf);
  });
}

// Valid replies: fuse_reply_err
void Releasedir(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  Guarded(req, "releasedir", [&](Reply& r) {
    delete HandleOf(fi);
    r.Ok();
  });
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
