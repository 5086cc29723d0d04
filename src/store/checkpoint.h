#pragma once
// Checkpoints: why a power cut does not damage a store that commits without flushing.
//
// The mount daemon commits with MDB_NOSYNC: each commit writes its pages and then its
// meta page (the root of the new tree) into the page cache, and the kernel writes
// them back in any order. A power cut can leave a meta page on disk whose tree pages
// never got there, and the redo log (redo_log.h) would be replayed on top of it.
//
// So each flush of such a store (Store::Sync) records a checkpoint: data.mdb's two
// meta pages as they were at a transaction S that the flush made durable, S, and the
// id of the running boot (/proc/sys/kernel/random/boot_id). Until its next checkpoint
// the store holds a read transaction on S (the pin), so LMDB reuses no page of S's
// tree: later commits write only pages that S does not use. When a store is opened
// after a power cut or kernel crash (the checkpoint's boot id is not this boot's) and
// data.mdb's newest meta page is past S, the open writes S's meta pages back before
// LMDB reads them, and the redo log then redoes what fsync(2) made durable after S.
// After a crash of the process alone (the same boot) the page cache holds every
// commit and nothing is restored.
//
// Processes that flush each commit (the CLI, the sync server) make their commits
// durable in order, so a restore to a checkpoint before one of them would lose it:
//   - while a process that pins runs (it holds a shared flock on the file), such a
//     process records a new checkpoint after each commit, inside a write transaction
//     so that checkpoints are recorded in order; a checkpoint is never replaced by an
//     older one;
//   - with none running, no page is pinned and a restore could meet pages that later
//     commits reused, so it removes the checkpoint (after a flush) before it commits.
//
// File db/checkpoint: two slots of kSlotBytes, written in turn with one O_DSYNC write
// each; the valid slot with the higher sequence number counts. Slot: u32 magic, u64
// sequence, u64 txnid (0: no checkpoint), bytes boot id, bytes meta pages (u32
// length first), 16-byte BLAKE2b of all before. A torn write leaves the other slot, whose
// transaction is still pinned (the pin moves only after the write).

#include <lmdb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "base/scoped_fd.h"
#include "base/status.h"

namespace kvfs::store {

struct Checkpoint {
  uint64_t txnid = 0;
  std::string boot_id;
  std::string meta_pages;  // data.mdb's first two pages at `txnid`
};

std::string CheckpointPath(const std::string& db_dir);

// This boot's id, or "" when the kernel does not say. $KVFS_BOOT_ID, when set, stands
// in for it (tests that stage a reboot).
std::string CurrentBootId();

// data.mdb's two meta pages as they are now. Call with the write lock held (inside a
// write transaction), so that no commit changes them meanwhile.
Result<std::string> ReadMetaPages(MDB_env* env);

// The checkpoint file of a store, opened for a process's lifetime.
class CheckpointFile {
 public:
  // Opens (creating) db/checkpoint. With `pin_holder`, holds a shared flock on it
  // while open: the sign that a process pins checkpoints (Pinned()).
  static Result<CheckpointFile> Open(const std::string& db_dir, bool pin_holder);
  CheckpointFile() = default;

  // The checkpoint in force, if any.
  std::optional<Checkpoint> Current() const;
  // Records `cp` durably unless the one in force is at a later transaction. Call
  // inside a write transaction.
  Status Record(const Checkpoint& cp);
  // Records that no checkpoint is in force. Call inside a write transaction, after
  // the store was flushed.
  Status Clear();
  // Whether some process holds checkpoints pinned (a no-sync store is open).
  bool Pinned() const;

 private:
  CheckpointFile(ScopedFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  struct Slot {
    uint64_t seq = 0;
    Checkpoint cp;
  };
  std::optional<Slot> Newest() const;
  Status WriteSlot(const Checkpoint& cp);

  ScopedFd fd_;
  std::string path_;
};

// Opens db/ after a power cut or kernel crash: when the checkpoint was recorded in
// another boot and data.mdb's newest transaction is past it, writes its meta pages
// back (durably). Call only while no process has the store open. Returns whether it
// restored.
Result<bool> RestoreCheckpointAfterReboot(const std::string& db_dir, const std::string& boot_id);

// Whether RestoreCheckpointAfterReboot may have work (a checkpoint of another boot is
// in force); cheap, for a read-only open that must not show a damaged store.
bool CheckpointOfAnotherBoot(const std::string& db_dir, const std::string& boot_id);

}  // namespace kvfs::store
