#pragma once
// Clearing the set-user-ID and set-group-ID bits in the daemon, as the kernel
// expects of a file system that took FUSE_HANDLE_KILLPRIV_V2.
//
// Without that flag the kernel asks for the file's `security.capability` xattr
// before every write(2), to learn whether the write must drop privileges: one
// GETXATTR round trip per write (~10 us, ~4 % of a 4 KiB write + fsync loop).
// With it the kernel stops asking (the superblock gets SB_NOSEC) and flags the
// requests after which the file system must drop the bits itself: a WRITE or an
// O_TRUNC OPEN by a caller without CAP_FSETID, a truncating SETATTR by such a
// caller, and any chown (a SETATTR of uid or gid) of a non-directory.
//
// libfuse 3.14 neither knows the flag nor passes those request flags on, so the
// daemon reads /dev/fuse itself (fuse_session.cc, libfuse's custom io): ReadRequest
// notes each request's flag for the thread that then handles it (libfuse runs a
// request on the thread that read it), and WriteReply sets the flag in the INIT
// reply when the kernel offered it. Kernels without it (before 5.11) keep the old
// way: the kernel drops the bits with a SETATTR of its own.

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "fs/fuse_api.h"

namespace kvfs::fs {

// mode without S_ISUID, and without S_ISGID when the group may execute (a
// set-group-ID bit without group execute marks mandatory locking, as ext4 keeps it).
uint32_t WithoutPrivs(uint32_t mode);

// What a raw request (fuse_in_header and what follows) says about privileges.
struct RequestPrivs {
  bool init_offers_killpriv_v2 = false;  // an INIT whose kernel offers the flag
  bool kill = false;                     // the file system must drop the bits
  uint64_t unique = 0;
};
RequestPrivs ParseRequestPrivs(const void* request, size_t bytes);

// Sets FUSE_HANDLE_KILLPRIV_V2 in a copy of the INIT reply in `iov` (header, then
// fuse_init_out) if it answers `init_unique`; `patched` holds the copy and
// must outlive the write. Returns whether it did.
bool AcceptKillPrivV2(iovec* iov, int count, uint64_t init_unique, char* patched,
                      size_t patched_bytes);

// libfuse's custom io for the session `se` (kept for attribute invalidations).
void UseKillPrivsIo(fuse_session* se);
// The session `se` is about to be destroyed: invalidations stop using it.
void ForgetKillPrivsSession(fuse_session* se);
// Whether the request this thread is handling asks the daemon to drop the bits.
bool CurrentRequestKillsPrivs();
// Tells the kernel its cached attributes of `ino` are stale (the daemon dropped
// the bits after a WRITE or OPEN, whose replies carry no attributes).
void InvalidateAttributes(fuse_ino_t ino);

}  // namespace kvfs::fs
