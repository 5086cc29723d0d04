#pragma once
// A walk over the content chunks of one file, in index order.
//
// Chunk keys are ino u64 | index u64 (keys.h), so a file's chunks are one run of the
// chunks table: seek to the first wanted index, step on, and stop at the first key
// of another file. Reads, prefetches and deletes of content all walk them this way.

#include <lmdb.h>

#include <cstdint>
#include <string_view>

#include "store/keys.h"
#include "store/lmdb.h"
#include "store/types.h"

namespace kvfs::store {

class ChunkWalk {
 public:
  ChunkWalk(MDB_txn* txn, MDB_dbi chunks, Ino ino) : cur_(txn, chunks), ino_(ino) {}

  // False when no cursor could be opened (the caller reports kIo).
  bool ok() const { return cur_.ok(); }
  // Moves to the chunk that holds byte `offset`, or the first one after it (holes
  // have no chunk). False when the file has no chunk there or later.
  bool SeekTo(uint64_t offset) {
    return OnThisFile(cur_.Seek(keys::ChunkKey(ino_, offset / kChunkSize)));
  }
  // Moves to the file's next chunk; false after its last one.
  bool Next() { return OnThisFile(cur_.Next()); }

  // The file offset of the current chunk's first byte.
  uint64_t start() const { return keys::DecodeU64(cur_.key().substr(8)) * kChunkSize; }
  std::string_view key() const { return cur_.key(); }
  // The stored value: the write's HLC stamp, then the data (keys.h).
  std::string_view value() const { return cur_.value(); }
  // Deletes the current chunk (the next Next() moves to the one after it).
  int Delete() { return cur_.Delete(); }

 private:
  bool OnThisFile(bool moved) const {
    return moved && cur_.key().size() == 16 && keys::KeyIno(cur_.key()) == ino_;
  }

  lmdb::Cursor cur_;
  const Ino ino_;
};

}  // namespace kvfs::store
