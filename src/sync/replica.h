#pragma once
// The bridge between a local store and the replicated form of its objects:
// ExportObject reads an object as peers see it; ApplyObject merges a peer's version
// into the store inside the caller's write transaction, materialising the merged
// registers as records, directory entries, content chunks and xattrs.
//
// Materialising follows the rules of docs/ARCHITECTURE.md ("Merge rules"):
//   - two objects claiming one name: the later name stamp (then the larger oid)
//     keeps it, the other moves on to its DisplacedName (name.sync-conflict-..., and
//     if that is taken too, the same rule there); never overwriting an entry, so
//     every peer decides the same whatever order objects arrive in;
//   - a live object inside a deleted directory brings the directory back;
//   - a deleted directory that still has live entries here stays (its name is
//     restamped, so the peers learn it came back);
//   - a move that would put a directory inside itself is not applied; the directory
//     keeps its place and is restamped, so every peer ends without a cycle;
//   - an object whose parent has not arrived yet is parked in the sync table and
//     applied by ApplyParked once the parent is known.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/txn.h"
#include "sync/object_state.h"

namespace kvfs::sync {

// Gives the bytes of the remote version's chunk `index` (stamped `stamp`).
using ChunkReader = std::function<Result<std::string>(uint64_t index, const HlcStamp& stamp)>;

Result<ObjectState> ExportObject(store::ReadTxn& t, store::Ino ino);

// The indexes of `remote`'s chunks whose bytes this store lacks and the merge needs.
Result<std::vector<uint64_t>> MissingChunks(store::ReadTxn& t, const ObjectState& remote);

struct ApplyResult {
  bool changed = false;
  bool conflict = false;  // a conflict copy was made
  bool parked = false;    // waiting for its parent directory
  store::Ino ino = 0;
};

Result<ApplyResult> ApplyObject(store::WriteTxn& t, const ObjectState& remote,
                                const ChunkReader& remote_chunks);

// Retries parked objects; returns how many were applied.
Result<size_t> ApplyParked(store::WriteTxn& t);

// Sync-table keys for staged chunk bytes (fetched, not yet applied) and parked objects.
std::string StagedChunkKey(const ObjectId& oid, uint64_t index, const HlcStamp& stamp);
std::string StagedPrefix(const ObjectId& oid);
// Each parked version of `oid` has its own key under ParkedPrefix(oid): one peer's
// version must never replace another's, whose sender has moved its cursor past it.
std::string ParkedPrefix(const ObjectId& oid);
std::string ParkedKey(const ObjectId& oid, std::string_view encoded_state);
// True when some version of `oid` is parked.
Result<bool> IsParked(store::ReadTxn& t, const ObjectId& oid);
// Reads staged bytes of `oid`'s chunks.
ChunkReader StagedChunkReader(store::ReadTxn& t, const ObjectId& oid);
// Drops the staged bytes of `oid`.
Status DropStaged(store::WriteTxn& t, const ObjectId& oid);

}  // namespace kvfs::sync
