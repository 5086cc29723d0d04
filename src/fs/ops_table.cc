// The one table of kvfs's FUSE operations (see ops.h for the families).
#include "fs/ops.h"

namespace kvfs::fs {

fuse_lowlevel_ops MakeLowlevelOps() {
  fuse_lowlevel_ops o = {};
  // Entry family.
  o.init = ops::Init;
  o.lookup = ops::Lookup;
  o.forget = ops::Forget;
  o.forget_multi = ops::ForgetMulti;
  o.getattr = ops::Getattr;
  o.setattr = ops::Setattr;
  o.readlink = ops::Readlink;
  // Namespace family.
  o.mknod = ops::Mknod;
  o.mkdir = ops::Mkdir;
  o.symlink = ops::Symlink;
  o.link = ops::Link;
  o.unlink = ops::Unlink;
  o.rmdir = ops::Rmdir;
  o.rename = ops::Rename;
  // File family.
  o.create = ops::Create;
  o.open = ops::Open;
  o.read = ops::Read;
  o.write = ops::Write;
  // No flush: every write is committed when it returns, so FLUSH would do nothing.
  // Without the op libfuse answers ENOSYS once and the kernel stops sending it (one
  // round trip less per close); it still writes back its dirty pages at close.
  o.release = ops::Release;
  o.fsync = ops::Fsync;
  o.fallocate = ops::Fallocate;
  // Directory family. No releasedir: Opendir answers ENOSYS, and the kernel then
  // sends neither again (dir_cookies.h).
  o.opendir = ops::Opendir;
  o.readdir = ops::Readdir;
  o.readdirplus = ops::Readdirplus;
  o.fsyncdir = ops::Fsyncdir;
  o.statfs = ops::Statfs;
  // Extended attributes.
  o.setxattr = ops::Setxattr;
  o.getxattr = ops::Getxattr;
  o.listxattr = ops::Listxattr;
  o.removexattr = ops::Removexattr;
  return o;
}

}  // namespace kvfs::fs
