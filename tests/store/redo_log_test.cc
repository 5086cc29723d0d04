// The redo log (store/redo_log.h): what MakeDurable() put in it survives a power cut.
//
// A power cut is staged with files: after a Sync() the store's data.mdb on disk is
// exactly the file's content, so a copy of it is what a power cut right then would
// leave. Later commits reach only the page cache (MDB_NOSYNC); putting the copy back
// and opening the store shows what the cut would have lost, and what the log redid.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "store/compact.h"
#include "store/redo_log.h"
#include "store/txn.h"
#include "store/txn_changes.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

namespace fs = std::filesystem;
using testing::Pattern;
using testing::StoreFixture;

class RedoLogTest : public StoreFixture {
 protected:
  void SetUp() override {
    options_.no_sync = true;
    options_.redo_log_half_bytes = size_t{1} << 20;
    StoreFixture::SetUp();
    ASSERT_NE(store_->redo_log(), nullptr);
    db_ = StoreDbDir(dir_);
  }

  // data.mdb as it is on disk now: call right after a Sync().
  void SaveDiskImage() { fs::copy_file(db_ + "/data.mdb", tmp_.Sub("data.mdb"), Overwrite()); }
  // Closes the store, then puts back the saved image and a copy of the log taken
  // at the cut (or none), as a power cut at that moment would leave them.
  void PowerCut(bool keep_log) {
    if (keep_log) fs::copy_file(RedoLogPath(db_), tmp_.Sub("redo.log"), Overwrite());
    store_.reset();
    fs::copy_file(tmp_.Sub("data.mdb"), db_ + "/data.mdb", Overwrite());
    fs::remove(RedoLogPath(db_));
    if (keep_log) fs::copy_file(tmp_.Sub("redo.log"), RedoLogPath(db_));
  }
  static fs::copy_options Overwrite() { return fs::copy_options::overwrite_existing; }

  // The first `n` bytes of a file, or an error text when it cannot be read.
  std::string ReadAll(Ino ino, size_t n) {
    auto got = Read(ino, 0, n);
    return got.ok() ? got.value() : "(read failed: " + got.status().message() + ")";
  }

  uint64_t LogBytes() const { return store_->redo_log()->bytes_written(); }

  // The content of file `name` after a power cut now and the replay of the log.
  std::string ContentAfterPowerCut(const std::string& name) {
    PowerCut(/*keep_log=*/true);
    Reopen();
    auto file = Resolve(name);
    return file.ok() ? ReadAll(file->ino, 100) : "(" + name + " is gone)";
  }

  std::string db_;
};

TEST_F(RedoLogTest, WhatMakeDurableLoggedSurvivesAPowerCut) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  const std::string base = Pattern(100 * 1024, 'a');
  ASSERT_TRUE(Write(a.ino, 0, base).ok());
  KVFS_ASSERT_OK(store_->Sync());
  SaveDiskImage();

  // After the flush: an append, a write inside a chunk, a new file, a rename, a delete.
  const std::string tail = Pattern(4096, 't'), middle = Pattern(3000, 'm');
  ASSERT_TRUE(Write(a.ino, base.size(), tail).ok());
  ASSERT_TRUE(Write(a.ino, 20000, middle).ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Create(kRootIno, "b"));
  ASSERT_TRUE(Write(b.ino, 0, "bee").ok());
  ASSERT_TRUE(Rename(kRootIno, "b", kRootIno, "c").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Create(kRootIno, "d"));
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Unlink(kRootIno, "d").status(); }));
  KVFS_ASSERT_OK(store_->MakeDurable());
  // The writes inside chunks are logged as the blocks they changed, not as chunks.
  EXPECT_GT(LogBytes(), 7000u);
  EXPECT_LT(LogBytes(), 40000u);

  std::string expect = base + tail;
  expect.replace(20000, middle.size(), middle);
  PowerCut(/*keep_log=*/true);
  Reopen();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a2, Resolve("a"));
  EXPECT_EQ(a2.size, expect.size());
  KVFS_ASSERT_OK_AND_ASSIGN(std::string got, Read(a2.ino, 0, expect.size() + 10));
  EXPECT_TRUE(got == expect) << "content of a differs after the replay";
  KVFS_ASSERT_OK_AND_ASSIGN(Inode c, Resolve("c"));
  EXPECT_EQ(ReadAll(c.ino, 10), "bee");
  EXPECT_EQ(Resolve("b").status().code(), Code::kNotFound);
  EXPECT_EQ(Resolve("d").status().code(), Code::kNotFound);
  ExpectSound();
  // The replay emptied the log, so the next open redoes nothing.
  EXPECT_FALSE(RedoLogHasRecords(db_));
}

TEST_F(RedoLogTest, APacedSyncPausesWithoutLocksAndIsAFlush) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  ASSERT_TRUE(Write(a.ino, 0, Pattern(300 * 1024, 'a')).ok());
  int asked = 0;
  Status inside;
  KVFS_ASSERT_OK(store_->Sync([&] {
    ++asked;
    if (asked == 1) {
      // While it waits the flush holds no lock: a commit and another flush go through
      // (with sync_mu_ or the resize lock held, this would hang).
      inside = Create(kRootIno, "b").status();
      if (inside.ok()) inside = store_->Sync();
    } else if (asked == 2 && inside.ok()) {
      inside = Create(kRootIno, "c").status();  // committed during the pause, flushed by it
    }
    return asked <= 3;
  }));
  KVFS_ASSERT_OK(inside);
  EXPECT_GT(asked, 3);
  // It was a flush up to the last commit before it returned, c's included: the log
  // has nothing left to write.
  const uint64_t logged = LogBytes();
  KVFS_ASSERT_OK(store_->MakeDurable());
  EXPECT_EQ(LogBytes(), logged) << "the paced sync left commits unflushed";
  KVFS_ASSERT_OK_AND_ASSIGN(Inode c, Resolve("c"));
  EXPECT_TRUE(c.is_file());
  ExpectSound();
}

TEST_F(RedoLogTest, WithoutMakeDurableAPowerCutLosesTheCommits) {
  KVFS_ASSERT_OK(store_->Sync());
  SaveDiskImage();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  ASSERT_TRUE(Write(a.ino, 0, "lost").ok());
  PowerCut(/*keep_log=*/true);
  Reopen();
  EXPECT_EQ(Resolve("a").status().code(), Code::kNotFound);
  ExpectSound();
}

TEST_F(RedoLogTest, AReadOnlyOpenShowsWhatTheLogRedoes) {
  KVFS_ASSERT_OK(store_->Sync());
  SaveDiskImage();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  ASSERT_TRUE(Write(a.ino, 0, "fsynced").ok());
  KVFS_ASSERT_OK(store_->MakeDurable());
  PowerCut(/*keep_log=*/true);
  ASSERT_TRUE(RedoLogAwaitsReplay(db_));
  options_.read_only = true;  // as `kvfs get` after the cut
  Reopen();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a2, Resolve("a"));
  EXPECT_EQ(ReadAll(a2.ino, 100), "fsynced");
  EXPECT_FALSE(RedoLogHasRecords(db_));
}

TEST_F(RedoLogTest, ALiveWriterMeansNoReplayAwaits) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  ASSERT_TRUE(Write(a.ino, 0, "logged").ok());
  KVFS_ASSERT_OK(store_->MakeDurable());
  EXPECT_TRUE(RedoLogHasRecords(db_));
  EXPECT_FALSE(RedoLogAwaitsReplay(db_)) << "this store writes the log";
}

TEST_F(RedoLogTest, CommitsBesideMakeDurableAllSurviveTheLastOne) {
  KVFS_ASSERT_OK(store_->Sync());
  SaveDiskImage();
  // Writers commit while another thread keeps writing the log: the log's disk write
  // does not hold the lock commits take, so this checks what it hands over.
  constexpr int kWriters = 3, kFiles = 60;
  std::atomic<bool> done{false};
  std::thread durable([&] {
    while (!done) EXPECT_TRUE(store_->MakeDurable().ok());
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kFiles; ++i) {
        const std::string name = "w" + std::to_string(w) + "-" + std::to_string(i);
        auto file = Create(kRootIno, name);
        ASSERT_TRUE(file.ok()) << file.status().message();
        ASSERT_TRUE(Write(file->ino, 0, name).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  durable.join();
  KVFS_ASSERT_OK(store_->MakeDurable());
  PowerCut(/*keep_log=*/true);
  Reopen();
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kFiles; ++i) {
      const std::string name = "w" + std::to_string(w) + "-" + std::to_string(i);
      auto file = Resolve(name);
      ASSERT_TRUE(file.ok()) << name << " lost";
      EXPECT_EQ(ReadAll(file->ino, 100), name);
    }
  }
  ExpectSound();
}

TEST_F(RedoLogTest, ATornLastRecordIsLeftOutAndTheOnesBeforeItRedone) {
  KVFS_ASSERT_OK(store_->Sync());
  SaveDiskImage();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  ASSERT_TRUE(Write(a.ino, 0, "first").ok());
  KVFS_ASSERT_OK(store_->MakeDurable());
  const uint64_t first_bytes = LogBytes();
  ASSERT_TRUE(Write(a.ino, 0, "SECOND").ok());
  KVFS_ASSERT_OK(store_->MakeDurable());
  const uint64_t all_bytes = LogBytes();
  ASSERT_GT(all_bytes, first_bytes);
  PowerCut(/*keep_log=*/true);
  {
    // The cut came in the middle of the second write: a byte of its record (which
    // starts where the first write's padding ended) never landed.
    std::fstream log(RedoLogPath(db_), std::ios::in | std::ios::out | std::ios::binary);
    log.seekp(static_cast<std::streamoff>(first_bytes + 40));
    log.put('\x5a');
  }
  Reopen();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a2, Resolve("a"));
  EXPECT_EQ(ReadAll(a2.ino, 100), "first");
  ExpectSound();
}

TEST_F(RedoLogTest, EachWriteEndsOnAPageAndTheRecordsAfterItsPadAreRedone) {
  KVFS_ASSERT_OK(store_->Sync());
  SaveDiskImage();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  std::string expect(50, '.');
  ASSERT_TRUE(Write(a.ino, 0, expect).ok());
  for (int i = 0; i < 5; ++i) {
    const std::string piece = "w" + std::to_string(i);
    ASSERT_TRUE(Write(a.ino, 10 * i, piece).ok());
    expect.replace(10 * i, piece.size(), piece);
    KVFS_ASSERT_OK(store_->MakeDurable());
    // So the next write starts on a page of its own (no read of it before the write).
    EXPECT_EQ(LogBytes() % 4096, 0u) << "after MakeDurable " << i;
  }
  PowerCut(/*keep_log=*/true);
  Reopen();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a2, Resolve("a"));
  EXPECT_EQ(ReadAll(a2.ino, 100), expect);
  ExpectSound();
}

// Writes `data` at 0 in `ino` in one transaction whose record starts early.
Status WriteEarly(Store& store, Ino ino, const std::string& data) {
  return store.Update([&](WriteTxn& w) { return w.Write(ino, 0, data).status(); },
                      LogEarly::kYes);
}

TEST_F(RedoLogTest, ARecordStartedBeforeItsCommitSurvivesAPowerCut) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  KVFS_ASSERT_OK(store_->Sync());
  SaveDiskImage();
  ASSERT_TRUE(Write(a.ino, 0, "plain").ok());  // logged by MakeDurable, with the next
  KVFS_ASSERT_OK(WriteEarly(*store_, a.ino, "early-1"));
  KVFS_ASSERT_OK(store_->MakeDurable());
  KVFS_ASSERT_OK(WriteEarly(*store_, a.ino, "early-2"));
  KVFS_ASSERT_OK(store_->MakeDurable());
  // Both early writes started (the log is on a disk that takes O_DIRECT and AIO).
  EXPECT_EQ(store_->redo_log()->early_writes(), 2u);
  EXPECT_EQ(LogBytes() % 4096, 0u);
  EXPECT_EQ(ContentAfterPowerCut("a"), "early-2");
  ExpectSound();
}

// A commit that fails after its record was started early: the record must not be
// redone, and the next transaction, which gets the same LMDB id, must be.
class RedoLogCommitFaultTest : public RedoLogTest {
 protected:
  void SetUp() override {
    options_.commit_fault = [this] { return fail_next_commit_.exchange(0); };
    RedoLogTest::SetUp();
  }
  std::atomic<int> fail_next_commit_{0};
};

TEST_F(RedoLogCommitFaultTest, TheRecordOfAFailedCommitIsNotRedone) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  ASSERT_TRUE(Write(a.ino, 0, "kept").ok());
  KVFS_ASSERT_OK(store_->Sync());
  SaveDiskImage();
  fail_next_commit_ = EIO;
  EXPECT_FALSE(WriteEarly(*store_, a.ino, "FAILED").ok());
  ASSERT_EQ(store_->redo_log()->early_writes(), 1u) << "the failed write did not start early";
  EXPECT_EQ(ReadAll(a.ino, 100), "kept");
  KVFS_ASSERT_OK(store_->MakeDurable());
  EXPECT_EQ(ContentAfterPowerCut("a"), "kept");
  ExpectSound();
}

TEST_F(RedoLogCommitFaultTest, TheTransactionAfterAFailedCommitIsRedone) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  KVFS_ASSERT_OK(store_->Sync());
  SaveDiskImage();
  ASSERT_TRUE(Write(a.ino, 0, "before").ok());
  KVFS_ASSERT_OK(WriteEarly(*store_, a.ino, "early"));  // logs "before" with it
  KVFS_ASSERT_OK(store_->MakeDurable());
  fail_next_commit_ = EIO;
  EXPECT_FALSE(WriteEarly(*store_, a.ino, "FAILED").ok());
  KVFS_ASSERT_OK(store_->MakeDurable());
  KVFS_ASSERT_OK(WriteEarly(*store_, a.ino, "after"));  // the failed one's txn id
  KVFS_ASSERT_OK(store_->MakeDurable());
  ASSERT_EQ(store_->redo_log()->early_writes(), 3u) << "a write did not start early";
  EXPECT_EQ(ContentAfterPowerCut("a"), "aftere");  // "after" over "before" and "early"
  EXPECT_FALSE(fs::exists(RedoLogPath(db_) + ".unreplayed")) << "the replay stopped short";
  ExpectSound();
}

TEST_F(RedoLogTest,
       PastAQuarterOfAHalfTheLogAsksForAFlushPastThreeQuartersItMustAndAFlushClearsIt) {
  KVFS_ASSERT_OK(store_->Sync());
  const RedoLog* log = store_->redo_log();
  EXPECT_FALSE(log->WantsFlush()) << "right after a flush";
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  // 200 KiB of new chunks, logged: a fifth of a 1 MiB half.
  ASSERT_TRUE(Write(a.ino, 0, Pattern(200 * 1024, 'a')).ok());
  KVFS_ASSERT_OK(store_->MakeDurable());
  EXPECT_FALSE(log->WantsFlush()) << "a fifth of a half";
  // 100 KiB more, recorded but not yet written: 300 KiB is past a quarter of the half.
  ASSERT_TRUE(Write(a.ino, 200 * 1024, Pattern(100 * 1024, 'b')).ok());
  EXPECT_TRUE(log->WantsFlush()) << "300 KiB waiting for a 1 MiB half";
  EXPECT_FALSE(log->MustFlush()) << "300 KiB is not yet three quarters of a 1 MiB half";
  // 300 KiB more: 600 KiB is still short of three quarters.
  ASSERT_TRUE(Write(a.ino, 300 * 1024, Pattern(300 * 1024, 'b')).ok());
  EXPECT_FALSE(log->MustFlush()) << "600 KiB is not yet three quarters of a 1 MiB half";
  // 200 KiB more: 800 KiB is past three quarters, so the flush cannot wait any more.
  ASSERT_TRUE(Write(a.ino, 600 * 1024, Pattern(200 * 1024, 'b')).ok());
  EXPECT_TRUE(log->MustFlush()) << "800 KiB waiting for a 1 MiB half";
  KVFS_ASSERT_OK(store_->Sync());
  EXPECT_FALSE(log->WantsFlush()) << "after the flush";
  EXPECT_FALSE(log->MustFlush()) << "after the flush";
  // Too much for a half at all: recording stopped, so a flush is wanted as well.
  ASSERT_TRUE(Write(a.ino, 0, Pattern(size_t{2} << 20, 'c')).ok());
  EXPECT_TRUE(log->WantsFlush()) << "2 MiB for a 1 MiB half";
  EXPECT_TRUE(log->MustFlush()) << "2 MiB for a 1 MiB half";
}

TEST_F(RedoLogTest, TooMuchForTheLogIsFlushedInsteadAndTheLogIsUsedAgainAfter) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode big, Create(kRootIno, "big"));
  // 2 MiB of new chunks: more than a 1 MiB half holds.
  ASSERT_TRUE(Write(big.ino, 0, Pattern(size_t{2} << 20, 'b')).ok());
  const uint64_t before = LogBytes();
  KVFS_ASSERT_OK(store_->MakeDurable());
  EXPECT_EQ(LogBytes(), before) << "the log took more than one half holds";
  SaveDiskImage();  // MakeDurable flushed the store, so this is the disk's image

  ASSERT_TRUE(Write(big.ino, 0, "small").ok());
  KVFS_ASSERT_OK(store_->MakeDurable());
  EXPECT_GT(LogBytes(), before);
  PowerCut(/*keep_log=*/true);
  Reopen();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode big2, Resolve("big"));
  EXPECT_EQ(big2.size, size_t{2} << 20);
  EXPECT_EQ(ReadAll(big2.ino, 5), "small");
  ExpectSound();
}

TEST_F(RedoLogTest, ALogThatDoesNotContinueTheStoreIsSetAsideAndNothingApplied) {
  KVFS_ASSERT_OK(store_->Sync());
  SaveDiskImage();  // an image older than the log's first record
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  KVFS_ASSERT_OK(store_->Sync());
  ASSERT_TRUE(Write(a.ino, 0, "logged").ok());
  KVFS_ASSERT_OK(store_->MakeDurable());
  PowerCut(/*keep_log=*/true);
  Reopen();
  EXPECT_EQ(Resolve("a").status().code(), Code::kNotFound);
  EXPECT_TRUE(fs::exists(RedoLogPath(db_) + ".unreplayed"));
  ExpectSound();
}

TEST_F(RedoLogTest, AfterAFlushTheLogGoesOnInItsOtherHalf) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  ASSERT_TRUE(Write(a.ino, 0, "one").ok());
  KVFS_ASSERT_OK(store_->MakeDurable());  // into the first half
  KVFS_ASSERT_OK(store_->Sync());         // the next record starts the other half
  SaveDiskImage();
  ASSERT_TRUE(Write(a.ino, 0, "two").ok());
  KVFS_ASSERT_OK(store_->MakeDurable());
  PowerCut(/*keep_log=*/true);
  Reopen();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a2, Resolve("a"));
  EXPECT_EQ(ReadAll(a2.ino, 100), "two");
  ExpectSound();
}

TEST_F(RedoLogTest, ACommitOfAnotherProcessMakesMakeDurableFlushTheStore) {
  KVFS_ASSERT_OK(store_->Sync());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // As the CLI does: its own open of the store, a commit that it flushes itself.
    auto other = Store::Open(dir_);
    bool ok = other.ok() && (*other)->Update([](WriteTxn& w) {
                                        NewObject spec;
                                        spec.mode = 0644;
                                        return w.Create(kRootIno, "other", spec).status();
                                      }).ok();
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode mine, Create(kRootIno, "mine"));
  const uint64_t before = LogBytes();
  KVFS_ASSERT_OK(store_->MakeDurable());
  // The log cannot hold the other process's transaction, so the store was flushed.
  EXPECT_EQ(LogBytes(), before);
  SaveDiskImage();
  PowerCut(/*keep_log=*/false);
  Reopen();
  EXPECT_TRUE(Resolve("other").ok());
  EXPECT_TRUE(Resolve("mine").ok());
}

TEST_F(RedoLogTest, ACleanCloseLeavesNothingToRedoAndCompactionWaitsForARedo) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  ASSERT_TRUE(Write(a.ino, 0, "x").ok());
  KVFS_ASSERT_OK(store_->MakeDurable());
  EXPECT_TRUE(RedoLogHasRecords(db_));
  // Compaction renumbers transactions, so it leaves a store with a log to redo alone.
  store_.reset();
  CompactPolicy any;
  any.min_free_bytes = 0;
  any.min_free_fraction = 0;
  KVFS_ASSERT_OK_AND_ASSIGN(CompactReport report, CompactIfWasteful(dir_, any));
  EXPECT_FALSE(report.compacted);
  EXPECT_NE(report.skipped.find("redo log"), std::string::npos) << report.skipped;

  Reopen();  // redoes nothing (all of it is in the store) and empties the log
  EXPECT_FALSE(RedoLogHasRecords(db_));
  ASSERT_TRUE(Write(a.ino, 0, "y").ok());
  KVFS_ASSERT_OK(store_->MakeDurable());
  EXPECT_TRUE(RedoLogHasRecords(db_));
  KVFS_ASSERT_OK(store_->Sync());
  store_.reset();  // everything logged is flushed: the close empties the log
  EXPECT_FALSE(RedoLogHasRecords(db_));
}

TEST(RedoLogRoomTest, WithoutRoomForTheLogTheStoreOpensWithoutOneAndFsyncFlushes) {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("store");
  StoreOptions options;
  options.no_sync = true;
  options.redo_log_half_bytes = size_t{1} << 44;  // 32 TiB: no disk here has 8x that
  KVFS_ASSERT_OK(Store::Create(dir, options));
  KVFS_ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, options));
  EXPECT_EQ(store->redo_log(), nullptr);
  EXPECT_EQ(fs::file_size(RedoLogPath(StoreDbDir(dir))), 0u);
  KVFS_EXPECT_OK(store->Update([](WriteTxn& w) {
    NewObject spec;
    spec.mode = 0644;
    return w.Create(kRootIno, "a", spec).status();
  }));
  KVFS_EXPECT_OK(store->MakeDurable());
}

// Patches: a put over a value is logged as the 64-byte blocks that changed.
TEST(TxnChangesTest, APutOverAValueKeepsOnlyTheChangedBlocks) {
  Tables tables;
  tables.chunks = 4;
  TxnChanges append(tables), same(tables), full(tables);
  const std::string old_value = Pattern(60000, 'o');
  std::string appended = old_value + Pattern(4096, 'n');
  appended[3] ^= 1;  // the stamp at the front changes too
  append.Put(tables.chunks, "key", appended, old_value);
  EXPECT_LT(append.size(), 4096u + 4 * 64);  // block-aligned runs, and their heads
  EXPECT_GE(append.size(), 4096u + 64);
  same.Put(tables.chunks, "key", old_value, old_value);
  EXPECT_LT(same.size(), 64u);
  full.Put(tables.chunks, "key", appended, std::nullopt);
  EXPECT_GT(full.size(), appended.size());
}

}  // namespace
}  // namespace kvfs::store
