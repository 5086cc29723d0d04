// Extended-attribute family: setxattr, getxattr, listxattr, removexattr.
//
//   user.*   stored in the store, replicated like the rest of the object;
//   kvfs.*   virtual and read-only: kvfs.hlc (the HLC stamp of the last change),
//            kvfs.origin (the node that made it, hex) and kvfs.oid (the global
//            object id); listed, so `getfattr -d -m kvfs FILE` shows them;
//   others   (trusted.*, security.*, system.*) are not supported.
#include <spdlog/fmt/fmt.h>

#include <string>

#include "fs/ops.h"
#include "fs/ops_common.h"

namespace kvfs::fs::ops {
namespace {

constexpr std::string_view kUserPrefix = "user.";
constexpr std::string_view kKvfsPrefix = "kvfs.";
constexpr std::string_view kVirtualNames[] = {"kvfs.hlc", "kvfs.origin", "kvfs.oid"};

enum class Space { kUser, kKvfs, kOther };

Space SpaceOf(std::string_view name) {
  if (name.starts_with(kUserPrefix)) return Space::kUser;
  if (name.starts_with(kKvfsPrefix)) return Space::kKvfs;
  return Space::kOther;
}

Status Unsupported() {
  return Status(Code::kNotSupported, "only user.* extended attributes are supported");
}

Result<std::string> VirtualValue(const store::Inode& node, std::string_view name) {
  if (name == "kvfs.hlc") return node.stamp.ToString();
  if (name == "kvfs.origin") return fmt::format("{:016x}", node.stamp.node);
  if (name == "kvfs.oid") return node.oid.ToString();
  return Status(Code::kNoData, "no such kvfs attribute");
}

Status DoSetxattr(Filesystem& fs, store::Ino ino, std::string_view name, std::string_view value,
                  int flags) {
  switch (SpaceOf(name)) {
    case Space::kKvfs:
      return Status(Code::kPermission, "kvfs.* attributes are read-only");
    case Space::kOther:
      return Unsupported();
    case Space::kUser:
      break;
  }
  return fs.Update([&](store::WriteTxn& t) { return t.SetXattr(ino, name, value, flags); });
}

Status DoGetxattr(Filesystem& fs, store::Ino ino, std::string_view name, std::string* out) {
  const Space space = SpaceOf(name);
  if (space == Space::kOther) return Unsupported();
  return fs.View([&](store::ReadTxn& t) -> Status {
    if (space == Space::kUser) {
      KVFS_ASSIGN_OR_RETURN(*out, t.GetXattr(ino, name));
      return Status::Ok();
    }
    KVFS_ASSIGN_OR_RETURN(store::Inode node, t.Get(ino));
    KVFS_ASSIGN_OR_RETURN(*out, VirtualValue(node, name));
    return Status::Ok();
  });
}

// The NUL-separated name list listxattr(2) returns.
Status DoListxattr(Filesystem& fs, store::Ino ino, std::string* out) {
  return fs.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(auto names, t.ListXattrs(ino));
    out->clear();
    for (std::string_view v : kVirtualNames) {
      out->append(v);
      out->push_back('\0');
    }
    for (const std::string& n : names) {
      out->append(n);
      out->push_back('\0');
    }
    return Status::Ok();
  });
}

Status DoRemovexattr(Filesystem& fs, store::Ino ino, std::string_view name) {
  switch (SpaceOf(name)) {
    case Space::kKvfs:
      return Status(Code::kPermission, "kvfs.* attributes are read-only");
    case Space::kOther:
      return Unsupported();
    case Space::kUser:
      break;
  }
  return fs.Update([&](store::WriteTxn& t) { return t.RemoveXattr(ino, name); });
}

// Replies to a get/list with `value`, honouring the size-0 probe and ERANGE.
void ReplyXattr(Reply& r, const std::string& value, size_t size) {
  if (size == 0) return r.XattrSize(value.size());
  if (value.size() > size) return r.Err(ERANGE);
  r.Buf(value);
}

}  // namespace

// Valid replies: fuse_reply_err
void Setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
              int flags) {
  Guarded(req, "setxattr", [&](Reply& r) {
    r.Err(DoSetxattr(r.fs(), ino, name, std::string_view(value, size), flags));
  });
}

// Valid replies: fuse_reply_buf, fuse_reply_xattr, fuse_reply_err
void Getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  Guarded(req, "getxattr", [&](Reply& r) {
    std::string value;
    Status st = DoGetxattr(r.fs(), ino, name, &value);
    if (!st.ok()) return r.Err(st);
    ReplyXattr(r, value, size);
  });
}

// Valid replies: fuse_reply_buf, fuse_reply_xattr, fuse_reply_err
void Listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  Guarded(req, "listxattr", [&](Reply& r) {
    std::string list;
    Status st = DoListxattr(r.fs(), ino, &list);
    if (!st.ok()) return r.Err(st);
    ReplyXattr(r, list, size);
  });
}

// Valid replies: fuse_reply_err
void Removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  Guarded(req, "removexattr", [&](Reply& r) { r.Err(DoRemovexattr(r.fs(), ino, name)); });
}

}  // namespace kvfs::fs::ops
