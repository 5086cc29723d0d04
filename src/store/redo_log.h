#pragma once
// The redo log: how fsync(2) on a mount stays cheap.
//
// The mount daemon commits without flushing (MDB_NOSYNC). Flushing LMDB itself means
// writing every B-tree page the commits since the last flush dirtied, scattered over
// data.mdb; for a 4 KiB append that is ~20 pages and a journal commit. Instead, while
// the transactions since the last flush are few and small, Store::MakeDurable appends
// their changes (txn_changes.h) to db/redo.log with one O_DSYNC write into space that
// was written once when the log was made, so the disk sees one sequential write and
// no file-system metadata change. Store::Sync (the daemon's once-a-second flush)
// makes the log's content redundant again.
//
// After a power cut, the next Store::Open redoes, in order, each logged transaction
// that the store lost, each in one LMDB transaction with the id it first had. A
// transaction that is not in the log (another process's commit, or one after the
// recording gave up because too much changed) makes MakeDurable flush the store.
//
// File: two halves of `half_bytes`. Each flush starts a new generation in the other
// half, so a torn write never damages the records that the last fsync relied on.
// Record: u32 magic, u32 body length, u64 generation, u64 LMDB txn id, body,
// 16-byte BLAKE2b of all before it. Each write is padded to a page boundary with a
// pad record (u32 magic, u32 length, u64 generation, zeros), so the next one starts
// on a fresh page that the kernel need not read first. A half is read from its start,
// skipping pads, while records are whole, of one generation, and of consecutive txn
// ids.

#include <lmdb.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/scoped_fd.h"
#include "base/status.h"

namespace kvfs::store {

struct Tables;

class RedoLog {
 public:
  // Opens db/redo.log, making it (zero-filled, flushed) when missing or of another
  // size, and locks it for this process. Holds no log (nullptr) when another process
  // has it locked.
  static Result<std::unique_ptr<RedoLog>> Open(const std::string& db_dir, size_t half_bytes);
  // Marks the log empty when everything it holds is flushed (a clean close).
  ~RedoLog();

  // False while the transactions since the last flush are too much for the log.
  bool recording() const { return !overflowed_.load(std::memory_order_relaxed); }
  // Called after transaction `txnid` committed `changes` (TxnChanges bytes).
  void Committed(uint64_t txnid, std::string changes);
  // Makes every transaction up to `last_txnid` durable in the log. false when it
  // cannot (one of them was not recorded, or they do not fit): flush the store then.
  bool Persist(uint64_t last_txnid);
  // The store was flushed: every transaction up to `synced_txnid` is on disk.
  void Flushed(uint64_t synced_txnid);
  // True when what the transactions since the last flush take in the log is past half
  // a half, or too much for it: flush the store soon, so that an fsync does not find
  // the log full and have to flush it while the caller waits.
  bool WantsFlush() const;

  // Bytes written to the log so far (for tests and the benchmark).
  uint64_t bytes_written() const;

 private:
  RedoLog(ScopedFd fd, ScopedFd direct_fd, std::string path, size_t half_bytes);
  // Writes `out` at `at` durably; through direct_fd_ when both are page-aligned.
  bool WriteDurably(const std::string& out, off_t at);

  ScopedFd fd_;
  // The same file opened O_DIRECT (-1 where the file system refuses it). A padded
  // write is whole pages at a page boundary, so it goes from an aligned buffer
  // straight to the disk, without a copy into the page cache and its writeback:
  // 1,000 8 KiB O_DSYNC writes on the dev VM took 100-155 us each (medians) that
  // way, against 124-172 us buffered. Only Persist's writer uses it (write_mu_).
  ScopedFd direct_fd_;
  const std::string path_;
  const size_t half_bytes_;
  std::atomic<bool> overflowed_{false};
  // write_mu_ (taken first) serializes the writers of the file, Persist and Flushed,
  // and guards where records go: half_, offset_, generation_, logged_upto_. mu_
  // guards the rest, and is not held across the disk write, so a commit handing its
  // changes over (Committed) does not wait for an fsync's write.
  std::mutex write_mu_;
  mutable std::mutex mu_;
  std::map<uint64_t, std::string> pending_;  // recorded, not known flushed, by txn id
  size_t pending_bytes_ = 0;
  bool flushed_once_ = false;  // the log is only used once a flush set its base
  uint64_t logged_upto_ = 0;   // the log (this generation) holds every txn up to here
  uint64_t synced_ = 0;        // the store is flushed up to here
  int half_ = 0;
  size_t offset_ = 0;  // where the next record goes in the current half
  uint64_t generation_ = 0;
  uint64_t bytes_written_ = 0;
  bool failed_ = false;  // a write to the log failed: flush the store from now on
};

struct ReplayReport {
  uint64_t replayed = 0;  // transactions redone
  uint64_t logged = 0;    // whole records found in the log
  std::string problem;    // why some records were not redone (empty: none)
};

// Redoes the logged transactions the store in `env` lost, then marks the log empty.
// Does nothing when another process holds the log (it is live, so nothing was lost).
// A record that does not fit the store stops the replay; the log is then kept beside
// the store as redo.log.unreplayed and the problem is reported.
Result<ReplayReport> ReplayRedoLog(MDB_env* env, const Tables& tables, const std::string& db_dir);

// True when db/redo.log holds records (compaction must not renumber transactions
// before they are replayed).
bool RedoLogHasRecords(const std::string& db_dir);

// True when db/redo.log holds records and no process writes it: a writable open would
// redo them (a read-only open cannot; Store::Open then makes one first).
bool RedoLogAwaitsReplay(const std::string& db_dir);

std::string RedoLogPath(const std::string& db_dir);

}  // namespace kvfs::store
