// integration.sync_random SEED=81780, reduced: while three peers are apart, B moves
// directory d2 to d0/s (where A made another d0/s, so one of them is shown under a
// conflict name) and C appends more than the inline limit to d2/f4. After healing,
// the append must be in d2/f4's file wherever the merge put it, the same on every
// peer; a later `rm -r d0` removes it only if it had seen the append.
#include <gtest/gtest.h>

#include <functional>

#include "store/store.h"
#include "sync/exchange.h"
#include "pump_util.h"
#include "sync_test_util.h"

namespace kvfs::sync {
namespace {

using store::Ino;
using store::WriteTxn;
using testing::MakeStore;
using testing::Pump;
using testing::Scratch;
using testing::Snapshot;
using testing::SyncUntilQuiet;
using testing::Tree;
using testing::WriteFile;

Status Mkdir(store::Store& s, const std::string& path) {
  return s.Update([&](WriteTxn& t) -> Status {
    const auto slash = path.rfind('/');
    Ino parent = store::kRootIno;
    if (slash != std::string::npos) {
      KVFS_ASSIGN_OR_RETURN(store::Inode p, t.Resolve(path.substr(0, slash)));
      parent = p.ino;
    }
    store::NewObject spec;
    spec.type = store::FileType::kDirectory;
    spec.mode = 0755;
    return t.Create(parent, path.substr(slash + 1), spec).status();
  });
}

Status Rename(store::Store& s, const std::string& from_dir, const std::string& from,
              const std::string& to_dir, const std::string& to) {
  return s.Update([&](WriteTxn& t) -> Status {
    auto dir_ino = [&](const std::string& d) -> Result<Ino> {
      if (d.empty()) return store::kRootIno;
      KVFS_ASSIGN_OR_RETURN(store::Inode n, t.Resolve(d));
      return n.ino;
    };
    KVFS_ASSIGN_OR_RETURN(Ino pa, dir_ino(from_dir));
    KVFS_ASSIGN_OR_RETURN(Ino pb, dir_ino(to_dir));
    return t.Rename(pa, from, pb, to).status();
  });
}

// `rm -r DIR` (DIR directly under the root), in one transaction.
Status RemoveTree(store::Store& s, const std::string& dir) {
  return s.Update([&](WriteTxn& t) -> Status {
    std::function<Status(Ino)> empty = [&](Ino d) -> Status {
      KVFS_ASSIGN_OR_RETURN(auto entries, t.ListDir(d));
      for (const auto& e : entries) {
        KVFS_ASSIGN_OR_RETURN(store::Inode n, t.Get(e.ino));
        if (n.is_dir()) {
          KVFS_RETURN_IF_ERROR(empty(n.ino));
          KVFS_RETURN_IF_ERROR(t.Rmdir(d, e.name));
        } else {
          KVFS_ASSIGN_OR_RETURN(store::Inode gone, t.Unlink(d, e.name));
          KVFS_RETURN_IF_ERROR(t.Purge(gone.ino));
        }
      }
      return Status::Ok();
    };
    KVFS_ASSIGN_OR_RETURN(store::Inode d, t.Resolve(dir));
    KVFS_RETURN_IF_ERROR(empty(d.ino));
    return t.Rmdir(store::kRootIno, dir);
  });
}

Status Append(store::Store& s, const std::string& path, const std::string& data) {
  return s.Update([&](WriteTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(store::Inode n, t.Resolve(path));
    return t.Write(n.ino, n.size, data).status();
  });
}

// The paths of the files whose bytes are `data`.
std::vector<std::string> FilesHolding(const Tree& tree, const std::string& data) {
  std::vector<std::string> out;
  for (const auto& [path, value] : tree) {
    if (value.rfind("1 ", 0) == 0 && value.substr(value.find(' ', 2) + 1) == data) {
      out.push_back(path);
    }
  }
  return out;
}

std::string Paths(const Tree& tree) {
  std::string out;
  for (const auto& [path, value] : tree) out += " " + path;
  return out;
}

class PartitionAppend : public ::testing::TestWithParam<bool> {};

// GetParam(): whether A's `rm -r d0` comes after A learned C's append.
TEST_P(PartitionAppend, AppendFollowsAMovedDirectoryAndOnlyADeleteThatSawItRemovesIt) {
  const bool delete_saw_append = GetParam();
  Scratch dir;
  auto a = MakeStore(dir.path() + "/a");
  auto b = MakeStore(dir.path() + "/b");
  auto c = MakeStore(dir.path() + "/c");
  ASSERT_TRUE(a && b && c);
  const std::string base = "[T172:C:base]\n";
  ASSERT_TRUE(Mkdir(*a, "d0").ok());
  ASSERT_TRUE(Mkdir(*a, "d2").ok());
  ASSERT_TRUE(WriteFile(*a, "d2/f4", base).ok());
  SyncUntilQuiet({a.get(), b.get(), c.get()});

  // Apart: A makes d0/s, B moves d2 to d0/s, C appends 300,010 bytes to d2/f4.
  ASSERT_TRUE(Mkdir(*a, "d0/s").ok());
  ASSERT_TRUE(Rename(*b, "", "d2", "d0", "s").ok());
  const std::string append = "[T236:C:" + std::string(300000, 'x') + "]\n";
  ASSERT_GT(append.size(), kInlineLimit);
  ASSERT_TRUE(Append(*c, "d2/f4", append).ok());
  const std::string want = base + append;

  if (delete_saw_append) {
    // Heal; then A removes d0 having seen the append: gone everywhere.
    SyncUntilQuiet({a.get(), b.get(), c.get()});
    const Tree healed = Snapshot(*a);
    const auto holders = FilesHolding(healed, want);
    ASSERT_EQ(holders.size(), 1u) << "the appended d2/f4 is not in exactly one file:"
                                  << Paths(healed);
    EXPECT_EQ(holders[0].rfind("d0/s", 0), 0u) << holders[0];
    EXPECT_EQ(Snapshot(*b), healed);
    EXPECT_EQ(Snapshot(*c), healed);
    ASSERT_TRUE(RemoveTree(*a, "d0").ok());
    SyncUntilQuiet({a.get(), b.get(), c.get()});
    const Tree after = Snapshot(*a);
    EXPECT_TRUE(FilesHolding(after, want).empty()) << Paths(after);
    EXPECT_EQ(after.count("d0"), 0u) << Paths(after);
    EXPECT_EQ(Snapshot(*b), after);
    EXPECT_EQ(Snapshot(*c), after);
  } else {
    // A learns B's move, removes d0 (never having seen the append), then all heal:
    // the edit beats the delete, the file and its directories come back.
    SyncUntilQuiet({a.get(), b.get()});
    ASSERT_TRUE(RemoveTree(*a, "d0").ok());
    SyncUntilQuiet({a.get(), b.get(), c.get()});
    const Tree after = Snapshot(*a);
    const auto holders = FilesHolding(after, want);
    ASSERT_EQ(holders.size(), 1u) << "the appended d2/f4 is not in exactly one file:"
                                  << Paths(after);
    EXPECT_EQ(holders[0].rfind("d0/s", 0), 0u) << holders[0];
    EXPECT_EQ(Snapshot(*b), after);
    EXPECT_EQ(Snapshot(*c), after);
  }
}

INSTANTIATE_TEST_SUITE_P(DeleteOrder, PartitionAppend, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "DeleteAfterSeeingIt" : "DeleteWithoutSeeingIt";
                         });

}  // namespace
}  // namespace kvfs::sync
