// Names: create, lookup, listing, rename in all its forms, unlink, rmdir, links.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "store/txn.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

using testing::StoreFixture;
using StoreTest = StoreFixture;

TEST_F(StoreTest, CreateAndLookup) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "hello", FileType::kRegular, 0640));
  EXPECT_GT(f.ino, kRootIno);
  EXPECT_TRUE(f.is_file());
  EXPECT_EQ(f.mode, 0640u);
  EXPECT_EQ(f.StMode(), static_cast<uint32_t>(S_IFREG | 0640));
  EXPECT_EQ(f.uid, 1000u);
  EXPECT_EQ(f.gid, 1000u);
  EXPECT_EQ(f.nlink, 1u);
  EXPECT_EQ(f.size, 0u);
  ASSERT_EQ(f.links.size(), 1u);
  EXPECT_EQ(f.links[0], (Link{kRootIno, "hello"}));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode found, Lookup(kRootIno, "hello"));
  EXPECT_EQ(found.ino, f.ino);
  EXPECT_EQ(found.oid, f.oid);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode resolved, Resolve("hello"));
  EXPECT_EQ(resolved.ino, f.ino);
  EXPECT_EQ(Lookup(kRootIno, "missing").status().code(), Code::kNotFound);
  Status st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(Ino by_oid, r.FindObject(f.oid));
    EXPECT_EQ(by_oid, f.ino);
    KVFS_ASSIGN_OR_RETURN(std::string path, r.PathOf(f.ino));
    EXPECT_EQ(path, "hello");
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
}

TEST_F(StoreTest, CreateExistingIsExists) {
  ASSERT_TRUE(Create(kRootIno, "x").ok());
  EXPECT_EQ(Create(kRootIno, "x").status().code(), Code::kExists);
  EXPECT_EQ(Mkdir(kRootIno, "x").status().code(), Code::kExists);
}

TEST_F(StoreTest, CreateInsideAFileIsNotDir) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  EXPECT_EQ(Create(f.ino, "x").status().code(), Code::kNotDir);
  EXPECT_EQ(Resolve("f/x").status().code(), Code::kNotDir);
}

TEST_F(StoreTest, CreateInMissingDirIsNotFound) {
  EXPECT_EQ(Create(999, "x").status().code(), Code::kNotFound);
}

TEST_F(StoreTest, NameValidation) {
  EXPECT_TRUE(Create(kRootIno, std::string(255, 'n')).ok());
  EXPECT_EQ(Create(kRootIno, std::string(256, 'n')).status().code(), Code::kNameTooLong);
  EXPECT_EQ(Create(kRootIno, "").status().code(), Code::kInvalid);
  EXPECT_EQ(Create(kRootIno, ".").status().code(), Code::kInvalid);
  EXPECT_EQ(Create(kRootIno, "..").status().code(), Code::kInvalid);
  EXPECT_EQ(Create(kRootIno, "a/b").status().code(), Code::kInvalid);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  EXPECT_EQ(Rename(kRootIno, "f", kRootIno, std::string(256, 'n')).status().code(),
            Code::kNameTooLong);
  EXPECT_EQ(Rename(kRootIno, "f", kRootIno, "a/b").status().code(), Code::kInvalid);
  Status st = Update([&](WriteTxn& w) { return w.Link(f.ino, kRootIno, "..").status(); });
  EXPECT_EQ(st.code(), Code::kInvalid);
}

TEST_F(StoreTest, ListDirIsInByteOrderOfNames) {
  const std::vector<std::string> names = {"b", "a", "B", "aa", "\xff", "_", "a b", "0", "ab"};
  for (const auto& n : names) ASSERT_TRUE(Create(kRootIno, n).ok()) << n;
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "dir"));
  ASSERT_TRUE(Create(d.ino, "inner").ok());
  std::vector<std::string> expected = names;
  expected.push_back("dir");
  std::sort(expected.begin(), expected.end());  // std::string compares as unsigned bytes
  EXPECT_EQ(Names(kRootIno), expected);
  EXPECT_EQ(Names(d.ino), std::vector<std::string>{"inner"});
}

TEST_F(StoreTest, ListDirPagesWithAfterAndLimit) {
  for (const char* n : {"a", "b", "c", "d", "e"}) ASSERT_TRUE(Create(kRootIno, n).ok());
  Status st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(auto page1, r.ListDir(kRootIno, {}, 2));
    EXPECT_EQ(page1.size(), 2u);
    EXPECT_EQ(page1[1].name, "b");
    KVFS_ASSIGN_OR_RETURN(auto page2, r.ListDir(kRootIno, "b", 2));
    EXPECT_EQ(page2.size(), 2u);
    EXPECT_EQ(page2[0].name, "c");
    EXPECT_EQ(page2[1].name, "d");
    KVFS_ASSIGN_OR_RETURN(auto rest, r.ListDir(kRootIno, "bb"));
    EXPECT_EQ(rest.size(), 3u);
    EXPECT_EQ(rest[0].name, "c");
    KVFS_ASSIGN_OR_RETURN(auto none, r.ListDir(kRootIno, "e"));
    EXPECT_TRUE(none.empty());
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
}

TEST_F(StoreTest, ListDirEntriesCarryInoAndType) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode l, Create(kRootIno, "l", FileType::kSymlink));
  KVFS_ASSERT_OK_AND_ASSIGN(auto entries, ListDir(kRootIno));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].ino, d.ino);
  EXPECT_EQ(entries[0].type, FileType::kDirectory);
  EXPECT_EQ(entries[1].ino, f.ino);
  EXPECT_EQ(entries[1].type, FileType::kRegular);
  EXPECT_EQ(entries[2].ino, l.ino);
  EXPECT_EQ(entries[2].type, FileType::kSymlink);
}

TEST_F(StoreTest, SymlinkKeepsTargetAndIsMode0777) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode l, Create(kRootIno, "l", FileType::kSymlink, 0600));
  EXPECT_EQ(l.symlink_target, "target");
  EXPECT_EQ(l.size, 6u);
  EXPECT_EQ(l.StMode(), static_cast<uint32_t>(S_IFLNK | 0777));
  Status st = Update([](WriteTxn& w) {
    NewObject spec;
    spec.type = FileType::kSymlink;
    EXPECT_EQ(w.Create(kRootIno, "empty", spec).status().code(), Code::kNotFound);
    spec.symlink_target = std::string(kMaxSymlinkLen + 1, 'x');
    EXPECT_EQ(w.Create(kRootIno, "long", spec).status().code(), Code::kNameTooLong);
    spec.symlink_target = std::string(kMaxSymlinkLen, 'x');
    return w.Create(kRootIno, "max", spec).status();
  });
  KVFS_EXPECT_OK(st);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode max, Lookup(kRootIno, "max"));
  EXPECT_EQ(max.symlink_target.size(), kMaxSymlinkLen);
}

TEST_F(StoreTest, DirectoryNlinkIsTwoPlusSubdirectories) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode root, Get(kRootIno));
  EXPECT_EQ(root.nlink, 2u);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Mkdir(kRootIno, "a"));
  EXPECT_EQ(a.nlink, 2u);
  ASSERT_TRUE(Mkdir(kRootIno, "b").ok());
  ASSERT_TRUE(Create(kRootIno, "file").ok());
  ASSERT_TRUE(Create(kRootIno, "link", FileType::kSymlink).ok());
  ASSERT_TRUE(Mkdir(a.ino, "sub").ok());
  EXPECT_EQ(Get(kRootIno)->nlink, 4u);
  EXPECT_EQ(Get(a.ino)->nlink, 3u);
  // Moving a subdirectory moves its link.
  ASSERT_TRUE(Rename(a.ino, "sub", kRootIno, "sub").ok());
  EXPECT_EQ(Get(kRootIno)->nlink, 5u);
  EXPECT_EQ(Get(a.ino)->nlink, 2u);
  // Moving a file does not.
  ASSERT_TRUE(Rename(kRootIno, "file", a.ino, "file").ok());
  EXPECT_EQ(Get(kRootIno)->nlink, 5u);
  EXPECT_EQ(Get(a.ino)->nlink, 2u);
  // Removing a subdirectory drops it.
  KVFS_ASSERT_OK(Update([](WriteTxn& w) { return w.Rmdir(kRootIno, "sub"); }));
  EXPECT_EQ(Get(kRootIno)->nlink, 4u);
}

TEST_F(StoreTest, CreateUpdatesParentTimes) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode before, Get(kRootIno));
  ASSERT_TRUE(Create(kRootIno, "f").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode after, Get(kRootIno));
  EXPECT_GE(after.mtime, before.mtime);
  EXPECT_GT(after.stamp, before.stamp);
}

// --- unlink and rmdir --------------------------------------------------------

TEST_F(StoreTest, UnlinkLeavesTombstoneWithContentUntilPurge) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  ASSERT_TRUE(Write(f.ino, 0, "precious").ok());
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.SetXattr(f.ino, "user.a", "1", 0); }));
  Result<Inode> gone = Status(Code::kIo, "");
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    gone = w.Unlink(kRootIno, "f");
    return gone.status();
  }));
  EXPECT_TRUE(gone->deleted);
  EXPECT_EQ(gone->nlink, 0u);
  EXPECT_EQ(Lookup(kRootIno, "f").status().code(), Code::kNotFound);
  EXPECT_TRUE(Names(kRootIno).empty());
  // An open file still reads its content through the tombstone.
  KVFS_ASSERT_OK_AND_ASSIGN(Inode tomb, Get(f.ino));
  EXPECT_TRUE(tomb.deleted);
  EXPECT_EQ(tomb.nlink, 0u);
  // It keeps its last live name (sync needs it if a concurrent edit revives it).
  EXPECT_EQ(tomb.links, (std::vector<Link>{{kRootIno, "f"}}));
  EXPECT_EQ(tomb.size, 8u);
  EXPECT_GT(tomb.stamp, f.stamp);
  EXPECT_EQ(*Read(f.ino, 0, 100), "precious");
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Purge(f.ino); }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode purged, Get(f.ino));
  EXPECT_TRUE(purged.deleted);
  EXPECT_EQ(purged.size, 0u);
  EXPECT_EQ(purged.stamp, tomb.stamp);  // purge is local housekeeping, not a change
  EXPECT_EQ(*Read(f.ino, 0, 100), "");
  Status st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(auto xattrs, r.ListXattrs(f.ino));
    EXPECT_TRUE(xattrs.empty());
    // The chunk rows themselves are gone, not just hidden by size 0.
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
  // The tombstone stays findable by object id, so the delete propagates.
  st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(Ino ino, r.FindObject(f.oid));
    EXPECT_EQ(ino, f.ino);
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
}

TEST_F(StoreTest, PurgeOfLiveObjectIsNoOp) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  ASSERT_TRUE(Write(f.ino, 0, "keep").ok());
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Purge(f.ino); }));
  EXPECT_EQ(*Read(f.ino, 0, 100), "keep");
}

// A deferred unlink (fs/deferred_unlinks.h) records the time it was answered.
TEST_F(StoreTest, UseTimePinsTheTimesAChangeRecordsUntilCleared) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  ASSERT_TRUE(Create(d.ino, "a").ok());
  ASSERT_TRUE(Create(d.ino, "b").ok());
  const Timespec pinned{1234567890, 42};
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    w.UseTime(pinned);
    return w.Unlink(d.ino, "a").status();
  }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode after, Get(d.ino));
  EXPECT_EQ(after.mtime, pinned);
  EXPECT_EQ(after.ctime, pinned);
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    w.UseTime(pinned);
    w.UseTime(std::nullopt);
    return w.Unlink(d.ino, "b").status();
  }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode later, Get(d.ino));
  EXPECT_GT(later.mtime, pinned) << "the clock again once the pin is cleared";
}

TEST_F(StoreTest, UnlinkErrors) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  EXPECT_EQ(Update([](WriteTxn& w) { return w.Unlink(kRootIno, "d").status(); }).code(),
            Code::kIsDir);
  EXPECT_EQ(Update([](WriteTxn& w) { return w.Unlink(kRootIno, "nope").status(); }).code(),
            Code::kNotFound);
  ASSERT_TRUE(Create(kRootIno, "f").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Lookup(kRootIno, "f"));
  EXPECT_EQ(Update([&](WriteTxn& w) { return w.Unlink(f.ino, "x").status(); }).code(),
            Code::kNotDir);
}

TEST_F(StoreTest, RmdirEmptyDirectory) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  KVFS_ASSERT_OK(Update([](WriteTxn& w) { return w.Rmdir(kRootIno, "d"); }));
  EXPECT_EQ(Lookup(kRootIno, "d").status().code(), Code::kNotFound);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode tomb, Get(d.ino));
  EXPECT_TRUE(tomb.deleted);
  EXPECT_EQ(tomb.nlink, 0u);
  EXPECT_EQ(Get(kRootIno)->nlink, 2u);
  // Nothing can be created inside a removed directory.
  EXPECT_EQ(Create(d.ino, "x").status().code(), Code::kNotFound);
}

TEST_F(StoreTest, RmdirNonEmptyIsNotEmpty) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  ASSERT_TRUE(Create(d.ino, "f").ok());
  EXPECT_EQ(Update([](WriteTxn& w) { return w.Rmdir(kRootIno, "d"); }).code(), Code::kNotEmpty);
  EXPECT_TRUE(Lookup(d.ino, "f").ok());
}

TEST_F(StoreTest, RmdirOfFileIsNotDir) {
  ASSERT_TRUE(Create(kRootIno, "f").ok());
  EXPECT_EQ(Update([](WriteTxn& w) { return w.Rmdir(kRootIno, "f"); }).code(), Code::kNotDir);
  EXPECT_EQ(Update([](WriteTxn& w) { return w.Rmdir(kRootIno, "nope"); }).code(), Code::kNotFound);
}

// --- hard links --------------------------------------------------------------

TEST_F(StoreTest, HardLinksShareOneObject) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  ASSERT_TRUE(Write(f.ino, 0, "shared").ok());
  Result<Inode> linked = Status(Code::kIo, "");
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    linked = w.Link(f.ino, d.ino, "g");
    return linked.status();
  }));
  EXPECT_EQ(linked->nlink, 2u);
  EXPECT_EQ(linked->links.size(), 2u);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode g, Resolve("d/g"));
  EXPECT_EQ(g.ino, f.ino);
  EXPECT_EQ(g.nlink, 2u);
  // A write through one name is seen through the other.
  ASSERT_TRUE(Write(g.ino, 6, "!").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode via_f, Resolve("f"));
  EXPECT_EQ(via_f.size, 7u);
  // Unlinking one name keeps the other and the content.
  KVFS_ASSERT_OK(Update([](WriteTxn& w) { return w.Unlink(kRootIno, "f").status(); }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode left, Resolve("d/g"));
  EXPECT_FALSE(left.deleted);
  EXPECT_EQ(left.nlink, 1u);
  ASSERT_EQ(left.links.size(), 1u);
  EXPECT_EQ(left.links[0], (Link{d.ino, "g"}));
  EXPECT_EQ(*Read(left.ino, 0, 100), "shared!");
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Purge(f.ino); }));  // live: no-op
  EXPECT_EQ(*Read(left.ino, 0, 100), "shared!");
  // The last name gone, it is a tombstone.
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Unlink(d.ino, "g").status(); }));
  EXPECT_TRUE(Get(f.ino)->deleted);
}

TEST_F(StoreTest, TwoLinksInOneDirectory) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "a"));
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Link(f.ino, kRootIno, "b").status(); }));
  EXPECT_EQ(Names(kRootIno), (std::vector<std::string>{"a", "b"}));
  KVFS_ASSERT_OK(Update([](WriteTxn& w) { return w.Unlink(kRootIno, "a").status(); }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Lookup(kRootIno, "b"));
  EXPECT_EQ(b.nlink, 1u);
  EXPECT_EQ(b.links, (std::vector<Link>{{kRootIno, "b"}}));
}

TEST_F(StoreTest, LinkErrors) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  auto link = [&](Ino ino, Ino parent, std::string name) {
    return Update([&](WriteTxn& w) { return w.Link(ino, parent, name).status(); }).code();
  };
  EXPECT_EQ(link(d.ino, kRootIno, "d2"), Code::kPermission);
  EXPECT_EQ(link(f.ino, kRootIno, "d"), Code::kExists);
  EXPECT_EQ(link(f.ino, f.ino, "x"), Code::kNotDir);
  KVFS_ASSERT_OK(Update([](WriteTxn& w) { return w.Unlink(kRootIno, "f").status(); }));
  EXPECT_EQ(link(f.ino, kRootIno, "back"), Code::kNotFound);
}

// --- rename ------------------------------------------------------------------

TEST_F(StoreTest, RenameFile) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  ASSERT_TRUE(Write(f.ino, 0, "data").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(RenameOutcome out, Rename(kRootIno, "f", d.ino, "g"));
  EXPECT_EQ(out.moved, f.ino);
  EXPECT_FALSE(out.replaced);
  EXPECT_EQ(Lookup(kRootIno, "f").status().code(), Code::kNotFound);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode g, Resolve("d/g"));
  EXPECT_EQ(g.ino, f.ino);
  EXPECT_EQ(g.oid, f.oid);
  EXPECT_EQ(g.links, (std::vector<Link>{{d.ino, "g"}}));
  EXPECT_EQ(*Read(g.ino, 0, 10), "data");
  Status st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(std::string path, r.PathOf(f.ino));
    EXPECT_EQ(path, "d/g");
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
}

TEST_F(StoreTest, RenameToSameNameIsNoOp) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  KVFS_ASSERT_OK_AND_ASSIGN(RenameOutcome out, Rename(kRootIno, "f", kRootIno, "f"));
  EXPECT_EQ(out.moved, f.ino);
  EXPECT_TRUE(Lookup(kRootIno, "f").ok());
}

TEST_F(StoreTest, RenameMissingSourceIsNotFound) {
  EXPECT_EQ(Rename(kRootIno, "nope", kRootIno, "x").status().code(), Code::kNotFound);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  EXPECT_EQ(Rename(kRootIno, "f", 999, "x").status().code(), Code::kNotFound);
  EXPECT_EQ(Rename(kRootIno, "f", f.ino, "x").status().code(), Code::kNotDir);
}

TEST_F(StoreTest, RenameNonEmptyDirectory) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Mkdir(kRootIno, "a"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Mkdir(a.ino, "b"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(b.ino, "f"));
  ASSERT_TRUE(Write(f.ino, 0, "deep").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode other, Mkdir(kRootIno, "other"));
  ASSERT_TRUE(Rename(kRootIno, "a", other.ino, "renamed").ok());
  EXPECT_EQ(Resolve("a").status().code(), Code::kNotFound);
  EXPECT_EQ(Resolve("a/b/f").status().code(), Code::kNotFound);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode moved, Resolve("other/renamed"));
  EXPECT_EQ(moved.ino, a.ino);
  EXPECT_EQ(moved.nlink, 3u);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode deep, Resolve("other/renamed/b/f"));
  EXPECT_EQ(deep.ino, f.ino);
  EXPECT_EQ(*Read(deep.ino, 0, 10), "deep");
  EXPECT_EQ(Names(a.ino), std::vector<std::string>{"b"});
  Status st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(std::string path, r.PathOf(f.ino));
    EXPECT_EQ(path, "other/renamed/b/f");
    KVFS_ASSIGN_OR_RETURN(auto counts, r.CountUnder(other.ino));
    EXPECT_EQ(counts.dirs, 2u);
    EXPECT_EQ(counts.files, 1u);
    EXPECT_EQ(counts.bytes, 4u);
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
  EXPECT_EQ(Get(kRootIno)->nlink, 3u);  // root: other only
  EXPECT_EQ(Get(other.ino)->nlink, 3u);
}

TEST_F(StoreTest, RenameOverExistingFileReplacesIt) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode src, Create(kRootIno, "new"));
  ASSERT_TRUE(Write(src.ino, 0, "new content").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode dst, Create(kRootIno, "old"));
  ASSERT_TRUE(Write(dst.ino, 0, "old content").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(RenameOutcome out, Rename(kRootIno, "new", kRootIno, "old"));
  EXPECT_EQ(out.moved, src.ino);
  ASSERT_TRUE(out.replaced);
  EXPECT_EQ(out.replaced->ino, dst.ino);
  EXPECT_TRUE(out.replaced->deleted);
  EXPECT_EQ(Names(kRootIno), std::vector<std::string>{"old"});
  KVFS_ASSERT_OK_AND_ASSIGN(Inode now, Lookup(kRootIno, "old"));
  EXPECT_EQ(now.ino, src.ino);
  EXPECT_EQ(*Read(now.ino, 0, 100), "new content");
  KVFS_ASSERT_OK_AND_ASSIGN(Inode tomb, Get(dst.ino));
  EXPECT_TRUE(tomb.deleted);
  EXPECT_EQ(tomb.nlink, 0u);
  EXPECT_EQ(*Read(dst.ino, 0, 100), "old content");  // until purged
}

TEST_F(StoreTest, RenameOverHardLinkedFileKeepsOtherName) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode src, Create(kRootIno, "src"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode dst, Create(kRootIno, "dst"));
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Link(dst.ino, kRootIno, "alias").status(); }));
  KVFS_ASSERT_OK_AND_ASSIGN(RenameOutcome out, Rename(kRootIno, "src", kRootIno, "dst"));
  ASSERT_TRUE(out.replaced);
  EXPECT_FALSE(out.replaced->deleted);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode alias, Lookup(kRootIno, "alias"));
  EXPECT_EQ(alias.ino, dst.ino);
  EXPECT_EQ(alias.nlink, 1u);
  EXPECT_EQ(Lookup(kRootIno, "dst")->ino, src.ino);
}

TEST_F(StoreTest, RenameBetweenHardLinksOfOneFileDoesNothing) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "a"));
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Link(f.ino, kRootIno, "b").status(); }));
  KVFS_ASSERT_OK_AND_ASSIGN(RenameOutcome out, Rename(kRootIno, "a", kRootIno, "b"));
  EXPECT_FALSE(out.replaced);
  EXPECT_EQ(Names(kRootIno), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Get(f.ino)->nlink, 2u);
}

TEST_F(StoreTest, RenameDirectoryOverEmptyDirectory) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Mkdir(kRootIno, "a"));
  ASSERT_TRUE(Create(a.ino, "child").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode p, Mkdir(kRootIno, "p"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode empty, Mkdir(p.ino, "empty"));
  EXPECT_EQ(Get(kRootIno)->nlink, 4u);
  KVFS_ASSERT_OK_AND_ASSIGN(RenameOutcome out, Rename(kRootIno, "a", p.ino, "empty"));
  ASSERT_TRUE(out.replaced);
  EXPECT_EQ(out.replaced->ino, empty.ino);
  EXPECT_TRUE(Get(empty.ino)->deleted);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode child, Resolve("p/empty/child"));
  EXPECT_EQ(Lookup(p.ino, "empty")->ino, a.ino);
  EXPECT_EQ(Get(kRootIno)->nlink, 3u);  // p only
  EXPECT_EQ(Get(p.ino)->nlink, 3u);     // the moved a replaced empty
  (void)child;
}

TEST_F(StoreTest, RenameDirectoryOverEmptyDirectoryInSameParent) {
  ASSERT_TRUE(Mkdir(kRootIno, "a").ok());
  ASSERT_TRUE(Mkdir(kRootIno, "b").ok());
  ASSERT_TRUE(Rename(kRootIno, "a", kRootIno, "b").ok());
  EXPECT_EQ(Names(kRootIno), std::vector<std::string>{"b"});
  EXPECT_EQ(Get(kRootIno)->nlink, 3u);
}

TEST_F(StoreTest, RenameDirectoryOverNonEmptyDirectoryIsNotEmpty) {
  ASSERT_TRUE(Mkdir(kRootIno, "a").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Mkdir(kRootIno, "b"));
  ASSERT_TRUE(Create(b.ino, "f").ok());
  EXPECT_EQ(Rename(kRootIno, "a", kRootIno, "b").status().code(), Code::kNotEmpty);
  EXPECT_TRUE(Resolve("a").ok());
  EXPECT_TRUE(Resolve("b/f").ok());
}

TEST_F(StoreTest, RenameFileOverDirectoryIsIsDirAndBack) {
  ASSERT_TRUE(Create(kRootIno, "f").ok());
  ASSERT_TRUE(Mkdir(kRootIno, "d").ok());
  EXPECT_EQ(Rename(kRootIno, "f", kRootIno, "d").status().code(), Code::kIsDir);
  EXPECT_EQ(Rename(kRootIno, "d", kRootIno, "f").status().code(), Code::kNotDir);
}

TEST_F(StoreTest, RenameDirectoryIntoItsOwnSubdirectoryIsInvalid) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Mkdir(kRootIno, "a"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Mkdir(a.ino, "b"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode c, Mkdir(b.ino, "c"));
  EXPECT_EQ(Rename(kRootIno, "a", c.ino, "a").status().code(), Code::kInvalid);
  EXPECT_EQ(Rename(kRootIno, "a", a.ino, "self").status().code(), Code::kInvalid);
  EXPECT_EQ(Rename(kRootIno, "a", b.ino, "x").status().code(), Code::kInvalid);
  EXPECT_TRUE(Resolve("a/b/c").ok());
  // Moving a subdirectory up is fine.
  ASSERT_TRUE(Rename(b.ino, "c", kRootIno, "c").ok());
  EXPECT_TRUE(Resolve("c").ok());
}

TEST_F(StoreTest, RenameNoReplace) {
  ASSERT_TRUE(Create(kRootIno, "a").ok());
  ASSERT_TRUE(Create(kRootIno, "b").ok());
  EXPECT_EQ(Rename(kRootIno, "a", kRootIno, "b", kRenameNoReplace).status().code(), Code::kExists);
  EXPECT_EQ(Names(kRootIno), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(Rename(kRootIno, "a", kRootIno, "c", kRenameNoReplace).ok());
  EXPECT_EQ(Names(kRootIno), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(
      Rename(kRootIno, "b", kRootIno, "c", kRenameNoReplace | kRenameExchange).status().code(),
      Code::kInvalid);
}

TEST_F(StoreTest, RenameExchangeFiles) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Create(kRootIno, "a"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode b, Create(d.ino, "b"));
  KVFS_ASSERT_OK_AND_ASSIGN(RenameOutcome out, Rename(kRootIno, "a", d.ino, "b", kRenameExchange));
  EXPECT_FALSE(out.replaced);
  EXPECT_EQ(Lookup(kRootIno, "a")->ino, b.ino);
  EXPECT_EQ(Lookup(d.ino, "b")->ino, a.ino);
  EXPECT_EQ(Get(a.ino)->links, (std::vector<Link>{{d.ino, "b"}}));
  EXPECT_EQ(Get(b.ino)->links, (std::vector<Link>{{kRootIno, "a"}}));
  EXPECT_FALSE(Get(a.ino)->deleted);
  EXPECT_FALSE(Get(b.ino)->deleted);
  EXPECT_EQ(Rename(kRootIno, "a", kRootIno, "missing", kRenameExchange).status().code(),
            Code::kNotFound);
}

TEST_F(StoreTest, RenameExchangeDirectoryWithFile) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode p, Mkdir(kRootIno, "p"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  ASSERT_TRUE(Create(d.ino, "inside").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(p.ino, "f"));
  ASSERT_TRUE(Rename(kRootIno, "d", p.ino, "f", kRenameExchange).ok());
  EXPECT_EQ(Lookup(kRootIno, "d")->ino, f.ino);
  EXPECT_EQ(Lookup(p.ino, "f")->ino, d.ino);
  EXPECT_EQ(Lookup(kRootIno, "d")->type, FileType::kRegular);
  EXPECT_TRUE(Resolve("p/f/inside").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(auto entries, ListDir(kRootIno));
  for (const DirEntry& e : entries) {
    if (e.name == "d") {
      EXPECT_EQ(e.type, FileType::kRegular);
    }
  }
  EXPECT_EQ(Get(kRootIno)->nlink, 3u);  // p only
  EXPECT_EQ(Get(p.ino)->nlink, 3u);     // the directory now named f
}

TEST_F(StoreTest, RenameExchangeIntoOwnSubdirectoryIsInvalid) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode a, Mkdir(kRootIno, "a"));
  ASSERT_TRUE(Mkdir(a.ino, "b").ok());
  EXPECT_EQ(Rename(kRootIno, "a", a.ino, "b", kRenameExchange).status().code(), Code::kInvalid);
  EXPECT_EQ(Rename(a.ino, "b", kRootIno, "a", kRenameExchange).status().code(), Code::kInvalid);
  EXPECT_TRUE(Resolve("a/b").ok());
}

TEST_F(StoreTest, RenameExchangeDirectoriesKeepsBothSubtrees) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode x, Mkdir(kRootIno, "x"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode y, Mkdir(kRootIno, "y"));
  ASSERT_TRUE(Create(x.ino, "in_x").ok());
  ASSERT_TRUE(Create(y.ino, "in_y").ok());
  ASSERT_TRUE(Rename(kRootIno, "x", kRootIno, "y", kRenameExchange).ok());
  EXPECT_TRUE(Resolve("y/in_x").ok());
  EXPECT_TRUE(Resolve("x/in_y").ok());
  EXPECT_EQ(Get(kRootIno)->nlink, 4u);
}

TEST_F(StoreTest, RenameUpdatesCtimeAndStamp) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  ASSERT_TRUE(Rename(kRootIno, "f", kRootIno, "g").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode g, Lookup(kRootIno, "g"));
  EXPECT_GT(g.stamp, f.stamp);
  EXPECT_GE(g.ctime, f.ctime);
}

// --- ownership ---------------------------------------------------------------

TEST_F(StoreTest, SetgidDirectoryPassesItsGroup) {
  Result<Inode> dir = Status(Code::kIo, "");
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    NewObject spec;
    spec.type = FileType::kDirectory;
    spec.mode = 02775;
    spec.uid = 1000;
    spec.gid = 4242;
    dir = w.Create(kRootIno, "shared", spec);
    return dir.status();
  }));
  EXPECT_EQ(dir->mode, 02775u);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(dir->ino, "f"));  // created with gid 1000
  EXPECT_EQ(f.gid, 4242u);
  EXPECT_EQ(f.uid, 1000u);
  EXPECT_EQ(f.mode & S_ISGID, 0u);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode sub, Mkdir(dir->ino, "sub"));
  EXPECT_EQ(sub.gid, 4242u);
  EXPECT_NE(sub.mode & S_ISGID, 0u);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode deeper, Create(sub.ino, "g"));
  EXPECT_EQ(deeper.gid, 4242u);
  // A plain directory does not.
  KVFS_ASSERT_OK_AND_ASSIGN(Inode plain, Mkdir(kRootIno, "plain"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode h, Create(plain.ino, "h"));
  EXPECT_EQ(h.gid, 1000u);
}

TEST_F(StoreTest, SetAttrModeOwnerTimes) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  Result<Inode> out = Status(Code::kIo, "");
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    AttrChange c;
    c.mode = 0100600;  // type bits from a caller are dropped
    c.uid = 5;
    c.gid = 6;
    c.atime = Timespec{100, 5};
    c.mtime = Timespec{200, 6};
    out = w.SetAttr(f.ino, c);
    return out.status();
  }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode g, Get(f.ino));
  EXPECT_EQ(g.mode, 0600u);
  EXPECT_EQ(g.uid, 5u);
  EXPECT_EQ(g.gid, 6u);
  EXPECT_EQ(g.atime, (Timespec{100, 5}));
  EXPECT_EQ(g.mtime, (Timespec{200, 6}));
  EXPECT_GT(g.ctime, (Timespec{200, 6}));
  EXPECT_GT(g.stamp, f.stamp);
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    AttrChange c;
    c.mtime_now = true;
    return w.SetAttr(f.ino, c).status();
  }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode h, Get(f.ino));
  EXPECT_EQ(h.atime, (Timespec{100, 5}));  // omitted: unchanged
  EXPECT_GT(h.mtime, (Timespec{200, 6}));
}

TEST_F(StoreTest, SetAttrRejectsTimesItCouldNotStore) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode f, Create(kRootIno, "f"));
  for (int64_t nsec : {int64_t{1'000'000'000}, int64_t{-1}, int64_t{(1 << 30) - 1}}) {
    Status st = Update([&](WriteTxn& w) {
      AttrChange c;
      c.mtime = Timespec{5, nsec};
      return w.SetAttr(f.ino, c).status();
    });
    EXPECT_EQ(st.code(), Code::kInvalid) << "nsec " << nsec;
    // Whatever happened, the file is still readable.
    KVFS_ASSERT_OK_AND_ASSIGN(Inode again, Get(f.ino));
    EXPECT_EQ(again.mtime, f.mtime);
  }
}

}  // namespace
}  // namespace kvfs::store
