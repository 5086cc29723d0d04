#pragma once
// A kvfs store: a directory holding an LMDB environment (db/), the node identity
// and the store key. Thread-safe; several processes (a mount daemon, the CLI, a sync
// server) may open one store at once: LMDB serialises their write transactions.
//
// All access goes through View() and Update(), each one LMDB transaction. Update()
// stamps every object it changes with the transaction's HLC stamp and moves it to
// the end of the change feed. When the LMDB map is full, Update() grows the map and
// runs the function again, so the function must only write to its captures (it may
// run more than once; only the last run's effects are committed).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>

#include "base/status.h"
#include "store/checkpoint.h"
#include "store/compact.h"
#include "store/lmdb.h"
#include "store/redo_log.h"
#include "store/txn.h"

namespace kvfs::store {

// On-disk format of the store. Bump it when a record or table changes meaning.
inline constexpr uint32_t kStoreFormat = 1;

struct StoreOptions {
  // First size of the LMDB map; it grows by itself when full. Small values are for
  // tests of the growth path.
  size_t initial_map_size = size_t{256} << 20;
  bool read_only = false;
  // Commit without fsync; Sync() makes everything committed so far durable. The
  // mount daemon uses this so only fsync(2) pays for a disk flush.
  bool no_sync = false;
  // With no_sync: the size of each half of the redo log (redo_log.h) that lets
  // MakeDurable() avoid flushing the store for small transactions; 0 for no log.
  size_t redo_log_half_bytes = size_t{32} << 20;
  // Wall clock for HLC stamps, in ms since the epoch. Injected by tests.
  std::function<uint64_t()> clock_ms = WallClockMs;
  // The id of the running boot, for checkpoints (checkpoint.h); empty: the kernel's.
  // Tests set it to stage a reboot.
  std::string boot_id;
  // Tests only: asked before each write commit; a non-zero errno makes that commit
  // fail with it, as a disk error writing data.mdb would.
  std::function<int()> commit_fault;
};

// Whether Store::Update starts writing the transaction's redo-log record before
// the commit (RedoLog::StartEarly): for a change that an fsync(2) is expected to
// follow at once. The disk then writes the record while LMDB writes its pages.
enum class LogEarly { kNo, kYes };

class Store {
 public:
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Creates a new store in `dir` (made 0700 if missing; must be empty otherwise).
  static Status Create(const std::string& dir, const StoreOptions& options = {});
  // Opens an existing store. Clear errors for a missing directory, a directory that
  // is not a store, and a store of a newer format.
  static Result<std::unique_ptr<Store>> Open(const std::string& dir,
                                             const StoreOptions& options = {});

  Status View(const std::function<Status(ReadTxn&)>& fn);
  Status Update(const std::function<Status(WriteTxn&)>& fn, LogEarly early = LogEarly::kNo);

  // Flushes committed transactions to disk (fsync). Returns once they are durable.
  // In a no-sync store it also records a checkpoint and pins it (checkpoint.h).
  // With a `hold`, first writes the dirty pages back a slice at a time, stepping
  // aside while `hold()` is true (paced_writeback.h); no lock is held meanwhile.
  Status Sync(const std::function<bool()>& hold = {});
  // Makes committed transactions durable like Sync(), through the redo log when
  // they fit in it (one sequential write), else by Sync(). For fsync(2).
  Status MakeDurable();
  // The redo log, when this store keeps one (no_sync, and no other process has it).
  const RedoLog* redo_log() const { return redo_.get(); }

  const std::string& dir() const { return dir_; }
  uint64_t node_id() const { return node_id_; }
  size_t map_size() const;
  const StoreOptions& options() const { return options_; }

 private:
  Store(std::string dir, StoreOptions options);
  Status OpenEnv(bool create);
  Status LoadMeta();
  // A read-only open of a store whose redo log awaits replay opens it writable first.
  static void ReplayBeforeReadOnlyOpen(const std::string& dir, const StoreOptions& options);
  Status OpenRedoLog();
  // With nobody else having the store open: restores the checkpoint after a reboot.
  static Status RestoreIfRebooted(const std::string& dir, const std::string& boot_id);
  // With a checkpoint in force that nobody pins: flush, then clear it (checkpoint.h).
  // At open, and before each commit of a store that flushes its commits.
  Status FlushAndClearUnlessPinned();
  // No-sync stores: Sync() (a new checkpoint); others: FlushAndClearUnlessPinned().
  Status SettleCheckpoint();
  // Under the write lock: the checkpoint of the last committed transaction, and a
  // read transaction on it. False (nothing taken) when the map was resized meanwhile.
  Result<bool> TakeCheckpoint(Checkpoint* cp, lmdb::Txn* pin);
  // Records `cp` inside a write transaction; false when the map was resized meanwhile.
  Result<bool> RecordCheckpoint(const Checkpoint& cp);
  // The checkpoint of the last commit; call holding `write_lock`, a write txn.
  Result<Checkpoint> LastCommitCheckpoint(const lmdb::Txn& write_lock) const;
  // Stores that flush each commit, after one (checkpoint.h): with a pin, record it.
  // (Before one: FlushAndClearUnlessPinned.)
  void AfterFlushedCommit();
  Status Grow();
  Status AdoptForeignResize();
  int BeginTxn(unsigned flags, lmdb::Txn* out);
  uint64_t LastTxnId() const;

  std::string dir_;
  StoreOptions options_;
  // Held while the store is open, so no compaction swaps the file under it; released
  // after the destructor has closed env_.
  StoreOpenLock open_lock_;
  MDB_env* env_ = nullptr;
  Tables tables_;
  uint64_t node_id_ = 0;
  // Readers and writers hold it shared; resizing the map holds it exclusively,
  // because mdb_env_set_mapsize needs no live transaction in this process.
  mutable std::shared_mutex resize_mu_;
  std::unique_ptr<RedoLog> redo_;
  std::string boot_id_;
  // db/checkpoint (writable stores); in a no-sync store, `pin_` is the read
  // transaction on the last checkpoint, which keeps LMDB from reusing its pages.
  std::optional<CheckpointFile> checkpoints_;
  lmdb::Txn pin_;
  // One flush at a time, so the redo log learns of flushes in order.
  std::mutex sync_mu_;
  // Held across a commit and its hand-over to the redo log, and while MakeDurable
  // reads the last txn id: so the id never names a transaction of this process that
  // the log has not been given yet (it would make fsync flush the whole store).
  std::mutex commit_mu_;
};

// The database directory inside a store.
std::string StoreDbDir(const std::string& store_dir);

}  // namespace kvfs::store
