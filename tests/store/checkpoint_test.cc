// Checkpoints (store/checkpoint.h): a power cut that leaves new meta pages on disk
// without the pages they name does not damage a store that commits without flushing.
//
// A power cut is staged with files, as in redo_log_test.cc: after a Sync() the file's
// content is what the disk holds. A torn cut is that copy with the final file's meta
// pages written over its first two pages: the kernel wrote the meta pages back and
// nothing else. A reboot is a new `boot_id`.
#include "store/checkpoint.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "store/compact.h"
#include "store/redo_log.h"
#include "store/txn.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

namespace fs = std::filesystem;
using testing::Pattern;
using testing::StoreFixture;

constexpr size_t kMetaBytes = 2 * 4096;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Spill(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class CheckpointTest : public StoreFixture {
 protected:
  void SetUp() override {
    options_.no_sync = true;
    options_.redo_log_half_bytes = size_t{8} << 20;  // holds every record of these tests
    options_.boot_id = "boot-1";
    StoreFixture::SetUp();
    db_ = StoreDbDir(dir_);
  }

  // data.mdb as the disk holds it now: call right after a Sync().
  void SaveDiskImage() { image_ = Slurp(db_ + "/data.mdb"); }

  // Stops the store as a power cut would: data.mdb is the saved image, with the meta
  // pages of the file as it is now when `torn`; the redo log as it is now.
  void PowerCut(bool torn) {
    const std::string log = Slurp(RedoLogPath(db_));
    store_.reset();
    std::string disk = image_;
    if (torn) disk.replace(0, kMetaBytes, Slurp(db_ + "/data.mdb").substr(0, kMetaBytes));
    Spill(db_ + "/data.mdb", disk);
    Spill(RedoLogPath(db_), log);
  }

  void RebootAndOpen() {
    options_.boot_id = "boot-2";
    Reopen();
  }

  std::string Content(const std::string& name) {
    auto file = Resolve(name);
    if (!file.ok()) return "(" + name + " is gone)";
    auto got = Read(file->ino, 0, file->size + 1);
    return got.ok() ? got.value() : "(read failed: " + got.status().message() + ")";
  }

  // Whether a copy of the store opens and checks sound with `boot_id`, in a child
  // process (a damaged store may kill it with SIGBUS).
  bool SoundInAChild(const std::string& boot_id) {
    const std::string copy = tmp_.Sub("copy");
    fs::remove_all(copy);
    fs::copy(dir_, copy, fs::copy_options::recursive);
    const pid_t child = fork();
    if (child == 0) {
      StoreOptions options;
      options.boot_id = boot_id;
      auto opened = Store::Open(copy, options);
      bool sound = opened.ok() && (*opened)
                                      ->View([](ReadTxn& r) {
                                        auto report = r.Check(10);
                                        return report.ok() && report->sound()
                                                   ? Status::Ok()
                                                   : Status(Code::kCorruption, "unsound");
                                      })
                                      .ok();
      _exit(sound ? 0 : 1);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  // Rewrites file `ino` with `rounds` different contents, one commit each: every
  // commit frees the pages of the one before.
  void Churn(Ino ino, int rounds) {
    for (int i = 0; i < rounds; ++i) {
      ASSERT_TRUE(Write(ino, 0, Pattern(70 * 1024, static_cast<char>('A' + i % 26))).ok());
    }
  }

  std::string db_;
  std::string image_;
};

TEST_F(CheckpointTest, ATornPowerCutIsSetBackToTheFlushAndTheLogRedoesWhatWasFsynced) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  const std::string base = Pattern(100 * 1024, 'a');
  ASSERT_TRUE(Write(a.ino, 0, base).ok());
  KVFS_ASSERT_OK(store_->Sync());
  SaveDiskImage();

  ASSERT_NO_FATAL_FAILURE(Churn(a.ino, 20));
  const std::string last = Pattern(5000, 'z');
  ASSERT_TRUE(Write(a.ino, 0, last).ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Create(kRootIno, "b"));
  ASSERT_TRUE(Write(b.ino, 0, "bee").ok());
  KVFS_ASSERT_OK(store_->MakeDurable());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode c, Create(kRootIno, "c"));  // never fsynced
  (void)c;
  PowerCut(/*torn=*/true);

  // Without the restore (the same boot, as if only the process had died) the torn
  // disk is damaged: this is what the checkpoint is for.
  EXPECT_FALSE(SoundInAChild("boot-1")) << "the staged power cut did not damage the store";

  RebootAndOpen();
  std::string expect = Pattern(70 * 1024, static_cast<char>('A' + 19));
  expect.replace(0, last.size(), last);
  expect += base.substr(expect.size());
  EXPECT_TRUE(Content("a") == expect) << "a differs after the restore and the replay";
  EXPECT_EQ(Content("b"), "bee");
  EXPECT_EQ(Content("c"), "(c is gone)");
  ExpectSound();
  // Opened again in the same boot, nothing is set back a second time.
  Reopen();
  EXPECT_EQ(Content("b"), "bee");
  ExpectSound();
}

TEST_F(CheckpointTest, LaterCommitsLeaveThePagesOfTheCheckpointAlone) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  const std::string flushed = Pattern(200 * 1024, 'f');
  ASSERT_TRUE(Write(a.ino, 0, flushed).ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode gone, Create(kRootIno, "gone"));
  ASSERT_TRUE(Write(gone.ino, 0, Pattern(150 * 1024, 'g')).ok());
  KVFS_ASSERT_OK(store_->Sync());

  // Without the pin these commits would write over pages of the flushed tree, which
  // they free: the rewritten chunks of a, and all of "gone".
  ASSERT_NO_FATAL_FAILURE(Churn(a.ino, 40));
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Unlink(kRootIno, "gone").status(); }));
  for (int i = 0; i < 40; ++i) {
    KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "new" + std::to_string(i)));
    ASSERT_TRUE(Write(f.ino, 0, Pattern(20 * 1024, 'n')).ok());
  }
  // Every page of those commits reached the disk, and then the checkpoint's meta
  // pages are written back: the disk must hold the flushed tree unharmed.
  store_.reset();
  fs::remove(RedoLogPath(db_));
  RebootAndOpen();
  EXPECT_TRUE(Content("a") == flushed) << "a is not what was flushed";
  EXPECT_EQ(Content("gone").size(), 150u * 1024);
  EXPECT_EQ(Content("new0"), "(new0 is gone)");
  ExpectSound();
}

TEST_F(CheckpointTest, AfterACrashOfTheProcessAloneNothingIsSetBack) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  KVFS_ASSERT_OK(store_->Sync());
  ASSERT_TRUE(Write(a.ino, 0, "after the flush").ok());
  store_.reset();  // the page cache keeps the commit: the same boot
  Reopen();
  EXPECT_EQ(Content("a"), "after the flush");
}

TEST_F(CheckpointTest, ACommitFlushedByAnotherProcessIsKeptByTheNextRestore) {
  KVFS_ASSERT_OK(store_->Sync());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // As the CLI does, while this no-sync store pins: a commit it flushes itself.
    StoreOptions cli;
    cli.boot_id = "boot-1";
    auto other = Store::Open(dir_, cli);
    bool ok = other.ok() && (*other)
                                ->Update([](WriteTxn& w) {
                                  NewObject spec;
                                  spec.mode = 0644;
                                  return w.Create(kRootIno, "cli", spec).status();
                                })
                                .ok();
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  SaveDiskImage();  // the child's commit flushed the whole file
  KVFS_ASSERT_OK_AND_ASSIGN(Inode mine, Create(kRootIno, "mine"));  // not flushed
  (void)mine;
  PowerCut(/*torn=*/true);
  RebootAndOpen();
  EXPECT_TRUE(Resolve("cli").ok()) << "the restore went back past the CLI's commit";
  EXPECT_FALSE(Resolve("mine").ok());
  ExpectSound();
}

TEST_F(CheckpointTest, AFlushingOpenWithNobodyPinningClearsTheCheckpoint) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  KVFS_ASSERT_OK(store_->Sync());
  store_.reset();
  {
    KVFS_ASSERT_OK_AND_ASSIGN(CheckpointFile file, CheckpointFile::Open(db_, false));
    ASSERT_TRUE(file.Current().has_value());
    EXPECT_FALSE(file.Pinned());
  }
  options_.no_sync = false;  // as the CLI opens it
  Reopen();
  ASSERT_TRUE(Write(a.ino, 0, "flushed by the CLI").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(CheckpointFile file, CheckpointFile::Open(db_, false));
  EXPECT_FALSE(file.Current().has_value());
  RebootAndOpen();
  EXPECT_EQ(Content("a"), "flushed by the CLI");
}

TEST_F(CheckpointTest, AfterACompactionTheNextFlushRecordsACheckpointAgain) {
  options_.boot_id = CurrentBootId();  // compaction skips a store of another boot
  Reopen();
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  for (int i = 0; i < 4; ++i) {  // each rewrite frees the chunks of the one before
    ASSERT_TRUE(Write(a.ino, 0, Pattern(3 << 20, static_cast<char>('a' + i))).ok());
  }
  KVFS_ASSERT_OK(store_->Sync());
  store_.reset();
  CompactPolicy policy;
  policy.min_free_bytes = 1 << 20;
  policy.min_free_fraction = 0.1;
  KVFS_ASSERT_OK_AND_ASSIGN(CompactReport report, CompactIfWasteful(dir_, policy));
  ASSERT_TRUE(report.compacted) << report.skipped;

  // The copy numbers its transactions anew: a checkpoint kept from before it would
  // refuse every later one as older, and a restore would use meta pages of another file.
  Reopen();
  SaveDiskImage();  // the open flushed
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Create(kRootIno, "b"));
  (void)b;
  PowerCut(/*torn=*/true);
  RebootAndOpen();
  EXPECT_TRUE(Content("a") == Pattern(3 << 20, 'd')) << "a differs after the restore";
  EXPECT_EQ(Content("b"), "(b is gone)");
  ExpectSound();
}

TEST(CheckpointFileTest, ATornSlotLeavesTheOtherAndAnOlderCheckpointIsNotRecorded) {
  testing::TempDir tmp;
  KVFS_ASSERT_OK_AND_ASSIGN(CheckpointFile file, CheckpointFile::Open(tmp.path(), true));
  EXPECT_TRUE(file.Pinned());
  EXPECT_FALSE(file.Current().has_value());
  KVFS_ASSERT_OK(file.Record(Checkpoint{7, "boot", std::string(kMetaBytes, 'x')}));
  KVFS_ASSERT_OK(file.Record(Checkpoint{9, "boot", std::string(kMetaBytes, 'y')}));
  KVFS_ASSERT_OK(file.Record(Checkpoint{8, "boot", std::string(kMetaBytes, 'z')}));
  ASSERT_TRUE(file.Current().has_value());
  EXPECT_EQ(file.Current()->txnid, 9u);
  EXPECT_EQ(file.Current()->meta_pages, std::string(kMetaBytes, 'y'));

  // Tear the newest slot (the second record went to slot 0): the first counts again.
  std::string bytes = Slurp(CheckpointPath(tmp.path()));
  bytes[100] ^= 1;
  Spill(CheckpointPath(tmp.path()), bytes);
  ASSERT_TRUE(file.Current().has_value());
  EXPECT_EQ(file.Current()->txnid, 7u);

  KVFS_ASSERT_OK(file.Clear());
  EXPECT_FALSE(file.Current().has_value());
  EXPECT_FALSE(CheckpointOfAnotherBoot(tmp.path(), "other"));
}

}  // namespace
}  // namespace kvfs::store
