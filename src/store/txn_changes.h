#pragma once
// The changes one write transaction made, as a byte string that can redo them.
//
// Store::Update records every put and delete of a transaction here while a redo log
// is open (redo_log.h); after the commit the bytes go to the log, so fsync(2) can make
// a small transaction durable with one sequential write instead of flushing LMDB's
// scattered B-tree pages. Replaying the bytes in a later transaction, on the state
// the original transaction started from, leaves exactly the state it committed.
//
// Encoding, one entry per change, in order:
//   u8 kind, u8 table, u32 key length, key, then
//     kPut:   u32 value length, value
//     kPatch: u32 old length, u32 new length, u32 run count,
//             runs of (u32 offset, u32 length, bytes) over the old value
//     kDel:   nothing
// A put over a value of at least kPatchMinBytes is stored as the runs of 64-byte
// blocks that differ from the old value: a 4 KiB append to a 64 KiB chunk logs
// ~4 KiB, not the chunk.

#include <lmdb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "store/types.h"

namespace kvfs::store {

struct Tables;

class TxnChanges {
 public:
  static constexpr size_t kPatchMinBytes = 1024;

  explicit TxnChanges(const Tables& tables) : tables_(tables) {}

  // `old` is the value the put replaces, when the caller has it.
  void Put(MDB_dbi dbi, std::string_view key, std::string_view value,
           std::optional<std::string_view> old);
  void Del(MDB_dbi dbi, std::string_view key);

  bool empty() const { return out_.size() == 0; }
  size_t size() const { return out_.size(); }
  std::string Take() { return out_.Take(); }
  std::string_view bytes() const { return out_.str(); }

 private:
  void Head(uint8_t kind, MDB_dbi dbi, std::string_view key);

  const Tables& tables_;
  ByteWriter out_;
};

// Redoes `changes` (TxnChanges bytes) in `txn`. kCorruption when the bytes are
// malformed or do not fit the store (a patched value of another length): the caller
// then aborts `txn`. MDB_MAP_FULL comes back as kNoSpace with *map_full set.
Status ApplyTxnChanges(MDB_txn* txn, const Tables& tables, std::string_view changes,
                       bool* map_full);

}  // namespace kvfs::store
