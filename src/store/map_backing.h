#pragma once
// Backing for LMDB's writable map (MDB_WRITEMAP).
//
// Writing a commit's pages straight into the shared map is cheaper than LMDB's own
// malloc + pwrite of each dirty page (bench/README.md, "Writable map"). But a store
// into a page that has no disk block behind it cannot report a full disk: the kernel
// sends SIGBUS and the daemon dies with its unsynced commits. So the daemon maps the
// store writably only when every block of the map can be allocated up front
// (fallocate) on a filesystem that overwrites allocated blocks in place; the map
// grows only after its new blocks are allocated. Otherwise it keeps pwrite.

#include <cstdint>
#include <string>

#include "base/status.h"

namespace kvfs::store {

// True when the filesystem holding `path` overwrites allocated blocks in place (ext2/3/4,
// XFS, tmpfs), so a write into an allocated block never needs a new one. Copy-on-write
// filesystems (btrfs, ZFS, bcachefs) and unknown ones give false.
bool OverwritesInPlace(const std::string& path);

// Allocates disk blocks for bytes [0, size) of the file at `path` (created 0600 if
// missing) and makes the file at least `size` long. Fails with kNoSpace when the disk
// cannot hold it; then no block past the file's old end stays allocated.
Status AllocateFile(const std::string& path, uint64_t size);

}  // namespace kvfs::store
