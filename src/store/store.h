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
#include <shared_mutex>
#include <string>

#include "base/status.h"
#include "store/lmdb.h"
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
  // Map the database writable (MDB_WRITEMAP): a commit changes its pages in place
  // instead of copying each with write(2) (measured: a create + 1 KiB write pair,
  // two commits, 30 -> 13 us). The file is preallocated up to the map size before
  // any write, so a full disk is ENOSPC from Update(), never a SIGBUS on a store
  // into a hole of the file. Falls back to plain writes if it cannot preallocate
  // at open. The mount daemon sets it; other processes may write the same store
  // with or without it.
  bool write_map = false;
  // Wall clock for HLC stamps, in ms since the epoch. Injected by tests.
  std::function<uint64_t()> clock_ms = WallClockMs;
};

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
  Status Update(const std::function<Status(WriteTxn&)>& fn);

  // Flushes committed transactions to disk (fsync). Returns once they are durable.
  Status Sync();

  const std::string& dir() const { return dir_; }
  uint64_t node_id() const { return node_id_; }
  size_t map_size() const;
  const StoreOptions& options() const { return options_; }

 private:
  Store(std::string dir, StoreOptions options);
  Status OpenEnv(bool create);
  Status LoadMeta();
  Status Grow();
  Status AdoptForeignResize();
  int BeginTxn(unsigned flags, lmdb::Txn* out);
  // With MDB_WRITEMAP: makes sure the file has disk blocks up to the map size.
  // Called with this process's writers serialised: inside a write transaction, or
  // with resize_mu_ held exclusively.
  Status EnsureReserved();

  std::string dir_;
  StoreOptions options_;
  MDB_env* env_ = nullptr;
  Tables tables_;
  uint64_t node_id_ = 0;
  bool write_map_ = false;  // the env was opened with MDB_WRITEMAP
  size_t reserved_ = 0;     // bytes of the file known preallocated (write_map_ only)
  // Readers and writers hold it shared; resizing the map holds it exclusively,
  // because mdb_env_set_mapsize needs no live transaction in this process.
  mutable std::shared_mutex resize_mu_;
};

// The database directory inside a store.
std::string StoreDbDir(const std::string& store_dir);

}  // namespace kvfs::store
