#pragma once
// The FUSE low-level operations of kvfs, by family. Each family's file holds, per
// operation, a helper that does the work in one store transaction and returns a
// Status, and the callback libfuse calls, which runs the helper under Guarded()
// and replies exactly once. ops_table.cc puts them all in one fuse_lowlevel_ops.
//
// Every callback's `req` carries the Filesystem as its userdata.

#include "fs/fuse_api.h"

namespace kvfs::fs {

// The table libfuse dispatches to. Locks (getlk/setlk/flock) are left out on
// purpose: the kernel then keeps fcntl and flock locks itself, per mount.
fuse_lowlevel_ops MakeLowlevelOps();

namespace ops {

// ops_entry.cc: names and attributes.
void Init(void* userdata, fuse_conn_info* conn);
void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
void Forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void ForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets);
void Getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void Setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi);
void Readlink(fuse_req_t req, fuse_ino_t ino);

// ops_namespace.cc: creating, linking, removing and renaming names.
void Mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev);
void Mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
void Symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name);
void Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent, const char* new_name);
void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name);
void Rmdir(fuse_req_t req, fuse_ino_t parent, const char* name);
void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent,
            const char* new_name, unsigned int flags);

// ops_file.cc: regular files.
void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi);
void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void Write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
           fuse_file_info* fi);
void Release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void Fsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
void Fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
               fuse_file_info* fi);

// ops_dir.cc: directories and the filesystem as a whole.
void Opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
void Readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void Readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi);
void Fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
void Statfs(fuse_req_t req, fuse_ino_t ino);

// ops_xattr.cc: extended attributes (user.* stored, kvfs.* virtual and read-only).
void Setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
              int flags);
void Getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
void Listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void Removexattr(fuse_req_t req, fuse_ino_t ino, const char* name);

}  // namespace ops
}  // namespace kvfs::fs
