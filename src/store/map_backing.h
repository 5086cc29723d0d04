#pragma once
// Disk blocks behind the store's memory map.
//
// The mount daemon opens the store with MDB_WRITEMAP (StoreOptions::write_map):
// LMDB changes pages in the map itself, so a commit makes no write(2) of its own.
// But a page of data.mdb that has no disk block yet gets one when it is first
// written through the map, and on a full disk that write raises SIGBUS in the
// daemon instead of returning ENOSPC. So data.mdb's blocks are allocated up to the
// map's size before the map may reach it: when a store opens with a write map, and
// in every process, with a write map or not, before it grows the map. A full disk
// then shows as a growth that fails with kNoSpace before anything is written.

#include <lmdb.h>

#include <cstddef>
#include <string>

#include "base/status.h"

namespace kvfs::store {

// Allocates disk blocks for the first `bytes` bytes of `db_dir`/data.mdb, extending
// the file to that size if it is shorter. kNoSpace when the disk is full,
// kNotSupported when its file system cannot allocate ahead (fallocate).
Status BackMap(const std::string& db_dir, size_t bytes);

// Grows `env`'s map to `bytes` after allocating the blocks behind it. kNoSpace
// (the map unchanged) when the disk cannot hold them.
Status GrowBackedMap(MDB_env* env, const std::string& db_dir, size_t bytes);

// How long data.mdb could become with every block of it allocated: the blocks it
// has and the disk's free space. 0 when that cannot be read. A store on a nearly
// full disk grows its map by what fits rather than not at all.
uint64_t MaxBackedBytes(const std::string& db_dir);

}  // namespace kvfs::store
