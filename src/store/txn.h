#pragma once
// Transactions over a store: ReadTxn reads a consistent snapshot; WriteTxn changes
// objects, names and content. Every WriteTxn method validates its input and returns
// the errno-shaped Status a POSIX filesystem would give; on an error the caller
// returns it from the Update() function and nothing of the transaction is committed.
//
// Values returned are copies: nothing points into LMDB's memory once a call returns.

#include <lmdb.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/check.h"
#include "store/types.h"

namespace kvfs::store {

class TxnChanges;

// The named LMDB tables of a store (see keys.h for their layout).
struct Tables {
  MDB_dbi meta = 0, inodes = 0, dirents = 0, chunks = 0, xattrs = 0, feed = 0, objects = 0;
  MDB_dbi sync = 0;  // the sync layer's own keys: peer cursors, staged chunks, parked objects
};

// A stored chunk of a file: its index and the stamp of the write that made it.
struct ChunkInfo {
  uint64_t index = 0;
  HlcStamp stamp;
};

class ReadTxn {
 public:
  ReadTxn(MDB_txn* txn, const Tables& tables) : txn_(txn), t_(tables) {}
  virtual ~ReadTxn() = default;

  // The id of the committed transaction this one reads (LMDB's txnid): equal ids
  // mean equal content.
  uint64_t SnapshotId() const;
  // The record of `ino`, tombstones included (an unlinked file that is still open
  // keeps its record and content until purged). NotFound when there is none.
  Result<Inode> Get(Ino ino);
  // The live object named `name` in directory `parent`.
  Result<Inode> Lookup(Ino parent, std::string_view name);
  // Entries of a directory in name order, starting after `after` (exclusive).
  Result<std::vector<DirEntry>> ListDir(Ino dir, std::string_view after = {},
                                        size_t limit = SIZE_MAX);
  // Up to `size` bytes at `offset`, short at end of file; holes read as zeros. Asks
  // the kernel for the chunks it reads, not for what follows: a sequential caller
  // asks for that with PrefetchRange.
  Result<std::string> Read(Ino ino, uint64_t offset, size_t size);
  // As Read, without copying: appends to `out` views of the bytes in order, into the
  // map (valid until this transaction ends) or, for holes and the zero tail of a
  // short chunk, into a static run of zeros. Returns how many bytes they hold.
  Result<size_t> ReadViews(Ino ino, uint64_t offset, size_t size,
                           std::vector<std::string_view>* out);
  // Brings into memory the first page of each of `ino`'s first `max_chunks` content
  // chunks, and waits for them. Deleting a chunk reads that page; a purge calls this
  // in a read transaction first, so its write transaction does not wait on the disk
  // while it holds the store's write lock. Returns how many chunks it brought in.
  Result<size_t> PrefetchContent(Ino ino, size_t max_chunks);
  // Asks the kernel to read the content chunks of `ino` that overlap [from, to) in
  // the background (a sequential reader's read-ahead; fs/read_ahead.h). Returns how
  // many chunks it asked for; holes and bytes past the end have none.
  Result<size_t> PrefetchRange(Ino ino, uint64_t from, uint64_t to);
  Result<std::string> GetXattr(Ino ino, std::string_view name);
  Result<std::vector<std::string>> ListXattrs(Ino ino);
  // Tombstones that still hold content chunks or xattrs: their purge was due when the
  // last process holding them stopped, and a crash can skip it (one scan of inodes).
  Result<std::vector<Ino>> UnpurgedTombstones();
  // The object reached by walking `path` ("a/b/c") from the root; "" is the root.
  Result<Inode> Resolve(std::string_view path);
  // One path of a live object (its first name up to the root), "" for the root.
  Result<std::string> PathOf(Ino ino);
  // Feed entries with seq > `after_seq`, oldest first.
  Result<std::vector<Change>> ChangesSince(uint64_t after_seq, size_t limit = SIZE_MAX);
  // The highest seq in the feed (0 when empty).
  Result<uint64_t> LastSeq();
  Result<Ino> FindObject(const ObjectId& oid);
  // Counts of live objects below `dir`, recursively.
  struct Counts {
    uint64_t files = 0, dirs = 0, symlinks = 0, bytes = 0;
  };
  Result<Counts> CountUnder(Ino dir);
  // Reads the whole store and checks its tables against each other (check.h).
  // Problems are reported in the CheckReport; an error only when the check could
  // not run at all.
  Result<CheckReport> Check(size_t max_problems);
  // The meta table's raw value for `name`, if any (format, node id, ...).
  Result<std::optional<std::string>> GetMeta(std::string_view name);

  // --- Replication support (src/sync) ---
  Result<std::vector<ChunkInfo>> ChunkManifest(Ino ino);
  // The chunk's stamp and bytes, or nullopt for a hole.
  Result<std::optional<std::pair<HlcStamp, std::string>>> ReadChunk(Ino ino, uint64_t index);
  Result<std::optional<std::string>> GetSyncValue(std::string_view key);
  // Entries of the sync table whose keys start with `prefix`, in key order.
  Result<std::vector<std::pair<std::string, std::string>>> ScanSync(std::string_view prefix,
                                                                   size_t limit = SIZE_MAX);

 protected:
  // Raw get; std::nullopt on MDB_NOTFOUND. The view is valid until the next write.
  Result<std::optional<std::string_view>> GetRaw(MDB_dbi dbi, std::string_view key);

  MDB_txn* txn_;
  const Tables& t_;
};

// What a new object looks like; the store fills in the rest.
struct NewObject {
  FileType type = FileType::kRegular;
  uint32_t mode = 0644;  // permission bits; the caller applies the umask
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string symlink_target;
};

// A setattr: each set field is applied; times may be "now".
struct AttrChange {
  std::optional<uint32_t> mode, uid, gid;
  std::optional<uint64_t> size;
  std::optional<Timespec> atime, mtime;
  bool atime_now = false, mtime_now = false;
};

struct RenameOutcome {
  Ino moved = 0;
  std::optional<Inode> replaced;  // the object the rename displaced, after unlinking
};

// How far ahead of our wall clock a peer's stamp may pull our HLC (one day).
inline constexpr uint64_t kMaxClockAheadMs = 24ull * 3600 * 1000;

// rename(2) flags as Linux defines them.
inline constexpr unsigned kRenameNoReplace = 1;
inline constexpr unsigned kRenameExchange = 2;

// The replication registers a change of kind `op` touches (types.h, Part).
unsigned PartsOf(ChangeOp op);

class WriteTxn : public ReadTxn {
 public:
  WriteTxn(MDB_txn* txn, const Tables& tables, uint64_t node_id,
           const std::function<uint64_t()>& clock_ms)
      : ReadTxn(txn, tables), node_id_(node_id), clock_ms_(clock_ms) {}

  Result<Inode> Create(Ino parent, std::string_view name, const NewObject& spec);
  Result<Inode> Link(Ino ino, Ino new_parent, std::string_view new_name);
  // Removes a name of a non-directory. When it was the last name the object becomes
  // a tombstone whose content stays until Purge() (open files keep reading it).
  Result<Inode> Unlink(Ino parent, std::string_view name);
  Status Rmdir(Ino parent, std::string_view name);
  Result<RenameOutcome> Rename(Ino parent, std::string_view name, Ino new_parent,
                               std::string_view new_name, unsigned flags = 0);
  Result<Inode> SetAttr(Ino ino, const AttrChange& change);
  Result<Inode> Write(Ino ino, uint64_t offset, std::string_view data);
  // Replaces the whole content (the CLI's set).
  Result<Inode> Replace(Ino ino, std::string_view data);
  Status SetXattr(Ino ino, std::string_view name, std::string_view value, int flags);
  Status RemoveXattr(Ino ino, std::string_view name);
  // Drops the content and xattrs of a tombstone. No-op for live objects.
  Status Purge(Ino ino);

  // --- Replication support (src/sync): raw writes that do not stamp anything ---
  // Moves the clock past `remote`, so later local changes order after it.
  void ObserveRemote(const HlcStamp& remote);
  Result<Ino> AllocateIno();
  // Stores a record whose registers the caller merged: no new stamp or version, but
  // the object moves to the end of the change feed so it is relayed to other peers.
  Status SaveMerged(Inode& inode);
  // Stores a record as is: for local-only fields (nlink, ctime) that peers never see.
  Status PutInodeRaw(const Inode& inode);
  Status PutObjectIndex(const ObjectId& oid, Ino ino);
  Status PutDirent(Ino parent, std::string_view name, Ino child, FileType type);
  Status DeleteDirent(Ino parent, std::string_view name);
  Status PutChunk(Ino ino, uint64_t index, const HlcStamp& stamp, std::string_view data);
  Status DeleteChunk(Ino ino, uint64_t index);
  Status DeleteChunksFrom(Ino ino, uint64_t first_index);
  Status PutXattrRaw(Ino ino, std::string_view name, std::string_view value);
  Status DeleteXattrRaw(Ino ino, std::string_view name);
  Status PutSyncValue(std::string_view key, std::string_view value);
  Status DeleteSyncValue(std::string_view key);

  // Records every put and delete from now on into `changes` (the redo log's copy).
  void RecordChangesInto(TxnChanges* changes) { changes_ = changes; }
  // Writes the counters and HLC back to meta; called by Store::Update before commit.
  Status Finish();
  // True when a put failed with MDB_MAP_FULL (Store::Update then grows and retries).
  bool map_full() const { return map_full_; }
  // The HLC stamp of this transaction (taken at its first change).
  Result<HlcStamp> Stamp();
  // The wall time that changes in this transaction record as mtime and ctime.
  Timespec Now() const;
  // Makes Now() return `t` (nullopt: the clock again): a change answered before its
  // commit (fs/deferred_unlinks.h) records the time it was answered, which the
  // caller may have shown already.
  void UseTime(std::optional<Timespec> t) { fixed_now_ = t; }
  uint64_t node_id() const { return node_id_; }

 private:
  Status Put(MDB_dbi dbi, std::string_view key, std::string_view value);
  // Put for a caller that has read the value it replaces (`old`, nullopt when there
  // is none), so recording the change for the redo log need not read it again.
  Status PutOver(MDB_dbi dbi, std::string_view key, std::string_view value,
                 std::optional<std::string_view> old);
  Status Del(MDB_dbi dbi, std::string_view key);
  // Stamps `inode` and the registers in `parts` (default: those `op` changes), bumps
  // its version vectors, moves its feed entry to the end, and stores it.
  Status Save(Inode& inode, ChangeOp op, unsigned parts);
  Status Save(Inode& inode, ChangeOp op) { return Save(inode, op, PartsOf(op)); }
  Result<uint64_t> NextCounter(const char* name, std::optional<uint64_t>& cache);
  Result<Inode> LiveDir(Ino dir);
  Status TouchDir(Inode& dir, int nlink_delta);
  Status AddEntry(Ino parent, std::string_view name, const Inode& child);
  Status CheckNotAncestor(Ino dir, Ino target);
  Status DropLink(Inode& child, Ino parent, std::string_view name);
  Status TruncateContent(Inode& inode, uint64_t size);
  Status WriteChunk(Ino ino, uint64_t index, std::string_view data);
  // Writes `data` at `in_chunk` into chunk `index`, which holds `existing` bytes of
  // the file: one read of the old chunk (straight from the map), one copy.
  Status PatchChunk(Ino ino, uint64_t index, uint64_t in_chunk, uint64_t existing,
                    std::string_view data);

  uint64_t node_id_;
  const std::function<uint64_t()>& clock_ms_;
  TxnChanges* changes_ = nullptr;
  std::optional<HlcStamp> stamp_;
  std::optional<HlcStamp> observed_remote_;
  std::optional<uint64_t> next_ino_, next_seq_;
  std::optional<Timespec> fixed_now_;
  bool map_full_ = false;
};

}  // namespace kvfs::store
