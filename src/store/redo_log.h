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
//
// Early records: for a file that is fsynced after each write, the mount asks
// Store::Update to start the record's write before the commit (StartEarly, through
// AsyncWrite), so the disk writes and flushes it while LMDB writes its pages and the
// reply goes back; the fsync that follows waits only for the rest. A record written
// early whose transaction then fails to commit is overwritten with a pad (Abandoned),
// so a replay never redoes a change that was not made; the next record of that txn
// id follows the pad. A crash between the early write and the commit redoes a change
// that was never answered, as if the process had died just after its commit.

#include <lmdb.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/scoped_fd.h"
#include "base/status.h"
#include "store/async_write.h"

namespace kvfs::store {

struct Tables;

// Page-aligned bytes for an O_DIRECT write.
using AlignedBytes = std::unique_ptr<char, decltype(&std::free)>;

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
  // Called before transaction `txnid` commits `changes`: starts writing it, with any
  // earlier ones not yet logged, without waiting. False when it did not start (the
  // log is busy or cannot take it): the commit then goes on as usual.
  bool StartEarly(uint64_t txnid, std::string_view changes);
  // Transaction `txnid`, started early, did not commit: its record must not be redone.
  void Abandoned(uint64_t txnid);
  // Makes every transaction up to `last_txnid` durable in the log. false when it
  // cannot (one of them was not recorded, or they do not fit): flush the store then.
  bool Persist(uint64_t last_txnid);
  // The store was flushed: every transaction up to `synced_txnid` is on disk.
  void Flushed(uint64_t synced_txnid);
  // True when what the transactions since the last flush take in the log is past a
  // quarter of a half, or too much for it: flush the store soon, so that an fsync does
  // not find the log full and have to flush it while the caller waits. A quarter, not
  // more: a burst of commits without fsyncs (10,000 small files written) must not
  // leave a backlog that a following run of fsyncs pushes past MustFlush, which then
  // flushes the store under that run (fsyncs of 4-6 ms instead of 0.1 ms).
  bool WantsFlush() const;
  // True when it is past three quarters of a half, or too much: flush the store now,
  // even while fsyncs are running (fs/flush_schedule.h).
  bool MustFlush() const;

  // Bytes written to the log so far, and early writes started (for tests).
  uint64_t bytes_written() const;
  uint64_t early_writes() const;

 private:
  RedoLog(ScopedFd fd, ScopedFd direct_fd, std::string path, size_t half_bytes);
  // Writes `out` at `at` durably; through direct_fd_ when both are page-aligned.
  bool WriteDurably(const std::string& out, off_t at);
  // Whether what the transactions since the last flush take in the log (written or
  // waiting) is past `bytes`, or too much for a half.
  bool BacklogPast(size_t bytes) const;
  // Waits for the early write on its way, if any, and counts it (write_mu_ held).
  void CollectEarlyWrite();
  // With mu_ held: appends the records of the txns after logged_upto_ up to `last`
  // to `out` (false when one is not recorded); whether `out` fits in the half; where
  // the next write goes; `out`, to be written at `at`, padded to a page boundary.
  bool AppendPending(uint64_t last_txnid, std::string* out) const;
  bool Fits(const std::string& out) const;
  off_t NextAt() const;
  void PadToPage(off_t at, std::string* out) const;

  // A record written early, until its transaction commits or is abandoned.
  struct EarlyRecord {
    uint64_t txnid = 0;
    uint64_t generation = 0;
    off_t record_at = 0;  // where its record starts in the file
    off_t end = 0;        // where the early write ends (a page boundary)
  };

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

  // The early write (guarded by write_mu_), through the file opened O_DIRECT without
  // O_DSYNC: the disk takes it while the commit runs, and the fsync that collects it
  // (CollectEarlyWrite) then only flushes the disk's cache. A write and its flush
  // take ~60 us each on the dev VM's disk. Its aligned buffer outlives it and is
  // reused by the next one.
  ScopedFd early_fd_;
  AlignedBytes early_buf_{nullptr, &std::free};
  size_t early_buf_bytes_ = 0;
  AsyncWrite early_write_;
  uint64_t early_upto_ = 0;    // the write on its way holds every txn up to here
  size_t early_bytes_ = 0;     // and is this long
  uint64_t early_writes_ = 0;  // guarded by mu_
  std::optional<EarlyRecord> early_;  // guarded by mu_
};

struct ReplayReport {
  uint64_t replayed = 0;  // transactions redone
  uint64_t logged = 0;    // whole records found in the log
  std::string problem;    // why some records were not redone (empty: none)
};

// Redoes the logged transactions the store in `env` lost, then marks the log empty.
// Does nothing when another process holds the log (it is live, so nothing was lost).
// A record that does not fit the store stops the replay; the log is then kept beside
// the store as redo.log.unreplayed and the problem is reported. `before_done`, when
// given, runs once the redone transactions are flushed and before the log is marked
// empty or set aside (Store::Open clears its checkpoint there, checkpoint.h); its
// error stops the replay with the log kept.
Result<ReplayReport> ReplayRedoLog(MDB_env* env, const Tables& tables, const std::string& db_dir,
                                   const std::function<Status()>& before_done = {});

// Waits up to a second until no process holds db/redo.log's lock: a mount daemon
// killed a moment ago holds it until the kernel has torn the process down (~50 ms
// when it made an AIO context), and a replay skips a log whose writer seems live.
// False when one still holds it then (it is live); true when there is no log.
bool WaitForRedoLogLock(const std::string& db_dir);

// True when db/redo.log holds records (compaction must not renumber transactions
// before they are replayed).
bool RedoLogHasRecords(const std::string& db_dir);

// True when db/redo.log holds records and no process writes it: a writable open would
// redo them (a read-only open cannot; Store::Open then makes one first).
bool RedoLogAwaitsReplay(const std::string& db_dir);

std::string RedoLogPath(const std::string& db_dir);

}  // namespace kvfs::store
