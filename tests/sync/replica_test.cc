// Sync between real stores on disk, in process: the outbox of one store feeds the
// inbox of another exactly as a network session does, so these tests pin down the
// merge rules as a user sees them (trees, names, bytes) without sockets.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "store/path.h"
#include "store/store.h"
#include "sync/exchange.h"
#include "pump_util.h"

namespace kvfs::sync {
namespace {

using store::Ino;
using store::Store;
using store::WriteTxn;

struct Entry {
  store::FileType type;
  uint32_t mode;
  std::string data;  // file bytes or symlink target
  std::map<std::string, std::string> xattrs;
  friend bool operator==(const Entry&, const Entry&) = default;
};
using Tree = std::map<std::string, Entry>;

class Replicas : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kvfs-replica-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    stores_.clear();
    std::filesystem::remove_all(dir_);
  }

  Store& Make() {
    std::string path = dir_ + "/s" + std::to_string(stores_.size());
    Status created = Store::Create(path);
    EXPECT_TRUE(created.ok()) << created.message();
    auto s = Store::Open(path);
    EXPECT_TRUE(s.ok()) << s.status().message();
    stores_.push_back(std::move(s).value());
    return *stores_.back();
  }

  static Result<Ino> Parent(WriteTxn& t, const std::string& path, std::string* name) {
    auto slash = path.rfind('/');
    *name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (slash == std::string::npos) return store::kRootIno;
    KVFS_ASSIGN_OR_RETURN(store::Inode p, t.Resolve(path.substr(0, slash)));
    return p.ino;
  }

  static void Write(Store& s, const std::string& path, const std::string& data) {
    ASSERT_TRUE(TryWrite(s, path, data).ok());
  }
  static Status TryWrite(Store& s, const std::string& path, const std::string& data) {
    return s.Update([&](WriteTxn& t) -> Status {
                   std::string name;
                   KVFS_ASSIGN_OR_RETURN(Ino parent, Parent(t, path, &name));
                   auto node = t.Lookup(parent, name);
                   Ino ino;
                   if (node.ok()) {
                     ino = node->ino;
                   } else {
                     KVFS_ASSIGN_OR_RETURN(store::Inode n, t.Create(parent, name, {}));
                     ino = n.ino;
                   }
                   return t.Replace(ino, data).status();
                 });
  }
  static void WriteAt(Store& s, const std::string& path, uint64_t off, const std::string& data) {
    ASSERT_TRUE(s.Update([&](WriteTxn& t) -> Status {
                   KVFS_ASSIGN_OR_RETURN(store::Inode n, t.Resolve(path));
                   return t.Write(n.ino, off, data).status();
                 }).ok());
  }
  static Status Mkdir(Store& s, const std::string& path) {
    return s.Update([&](WriteTxn& t) -> Status {
      std::string name;
      KVFS_ASSIGN_OR_RETURN(Ino parent, Parent(t, path, &name));
      store::NewObject spec;
      spec.type = store::FileType::kDirectory;
      spec.mode = 0755;
      return t.Create(parent, name, spec).status();
    });
  }
  static Status Remove(Store& s, const std::string& path) {
    return s.Update([&](WriteTxn& t) -> Status {
      std::string name;
      KVFS_ASSIGN_OR_RETURN(Ino parent, Parent(t, path, &name));
      KVFS_ASSIGN_OR_RETURN(store::Inode n, t.Lookup(parent, name));
      if (n.is_dir()) return t.Rmdir(parent, name);
      KVFS_ASSIGN_OR_RETURN(store::Inode gone, t.Unlink(parent, name));
      return t.Purge(gone.ino);
    });
  }
  static Status Move(Store& s, const std::string& from, const std::string& to) {
    return s.Update([&](WriteTxn& t) -> Status {
      std::string a, b;
      KVFS_ASSIGN_OR_RETURN(Ino pa, Parent(t, from, &a));
      KVFS_ASSIGN_OR_RETURN(Ino pb, Parent(t, to, &b));
      return t.Rename(pa, a, pb, b).status();
    });
  }
  static void Chmod(Store& s, const std::string& path, uint32_t mode) {
    ASSERT_TRUE(s.Update([&](WriteTxn& t) -> Status {
                   KVFS_ASSIGN_OR_RETURN(store::Inode n, t.Resolve(path));
                   store::AttrChange c;
                   c.mode = mode;
                   return t.SetAttr(n.ino, c).status();
                 }).ok());
  }

  // Sends everything `from` has that `to` has not seen; returns chunks fetched.
  static size_t Pump(Store& from, Store& to) { return testing::Pump(from, to).chunks; }

  void SyncAll() {
    for (int pass = 0; pass < 3; ++pass) {
      for (auto& a : stores_) {
        for (auto& b : stores_) {
          if (a != b) Pump(*a, *b);
        }
      }
    }
  }

  static Tree Snapshot(Store& s) {
    Tree tree;
    EXPECT_TRUE(s.View([&](store::ReadTxn& t) -> Status {
                   std::vector<std::pair<Ino, std::string>> todo{{store::kRootIno, ""}};
                   while (!todo.empty()) {
                     auto [dir, prefix] = todo.back();
                     todo.pop_back();
                     KVFS_ASSIGN_OR_RETURN(auto entries, t.ListDir(dir));
                     for (const auto& e : entries) {
                       KVFS_ASSIGN_OR_RETURN(store::Inode n, t.Get(e.ino));
                       EXPECT_FALSE(n.deleted) << prefix + e.name << " listed but deleted";
                       Entry entry{n.type, n.mode, {}, {}};
                       if (n.is_file()) {
                         KVFS_ASSIGN_OR_RETURN(entry.data, t.Read(n.ino, 0, n.size));
                       }
                       if (n.is_symlink()) entry.data = n.symlink_target;
                       KVFS_ASSIGN_OR_RETURN(auto names, t.ListXattrs(n.ino));
                       for (auto& x : names) {
                         KVFS_ASSIGN_OR_RETURN(entry.xattrs[x], t.GetXattr(n.ino, x));
                       }
                       tree[prefix + e.name] = entry;
                       if (n.is_dir()) todo.push_back({n.ino, prefix + e.name + "/"});
                     }
                   }
                   return Status::Ok();
                 }).ok());
    return tree;
  }

  // The paths on which two trees differ, for readable failures.
  static std::string Diff(const Tree& a, const Tree& b) {
    std::string out;
    for (auto& [p, e] : a) {
      auto it = b.find(p);
      if (it == b.end()) out += " only-left:" + p;
      else if (!(it->second == e)) out += " differs:" + p;
    }
    for (auto& [p, e] : b) {
      if (!a.count(p)) out += " only-right:" + p;
    }
    return out;
  }

  static std::vector<std::string> NamesLike(const Tree& t, const std::string& prefix) {
    std::vector<std::string> out;
    for (auto& [path, e] : t) {
      if (path.rfind(prefix, 0) == 0) out.push_back(path);
    }
    return out;
  }

  std::string dir_;
  std::vector<std::unique_ptr<Store>> stores_;
};

TEST_F(Replicas, WriteOnOneAppearsOnTheOther) {
  Store& a = Make();
  Store& b = Make();
  ASSERT_TRUE(Mkdir(a, "ssh").ok());
  Write(a, "ssh/config", "Host *\n");
  Chmod(a, "ssh/config", 0600);
  Pump(a, b);
  Tree tb = Snapshot(b);
  ASSERT_TRUE(tb.count("ssh/config"));
  EXPECT_EQ(tb["ssh/config"].data, "Host *\n");
  EXPECT_EQ(tb["ssh/config"].mode, 0600u);
  EXPECT_EQ(Diff(Snapshot(a), tb), "");
}

TEST_F(Replicas, ConcurrentEditsKeepBothVersionsEverywhere) {
  Store& a = Make();
  Store& b = Make();
  Write(a, "bashrc", "base\n");
  SyncAll();
  Write(a, "bashrc", "from A\n");
  // Two stores stamp from the wall clock: let it move so B's edit is the later one.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Write(b, "bashrc", "from B, later\n");
  SyncAll();
  Tree ta = Snapshot(a), tb = Snapshot(b);
  EXPECT_EQ(ta, tb);
  auto names = NamesLike(ta, "bashrc");
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(ta["bashrc"].data, "from B, later\n");
  auto copies = NamesLike(ta, "bashrc.sync-conflict-");
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(ta[copies[0]].data, "from A\n");
}

TEST_F(Replicas, EditBeatsConcurrentDelete) {
  Store& a = Make();
  Store& b = Make();
  Write(a, "f", "v1");
  SyncAll();
  ASSERT_TRUE(Remove(a, "f").ok());
  Write(b, "f", "v2 edited");
  SyncAll();
  Tree ta = Snapshot(a);
  EXPECT_EQ(Diff(ta, Snapshot(b)), "");
  ASSERT_TRUE(ta.count("f"));
  EXPECT_EQ(ta["f"].data, "v2 edited");
}

TEST_F(Replicas, DeletesPropagateAndStick) {
  Store& a = Make();
  Store& b = Make();
  Store& c = Make();
  Write(a, "f", "v1");
  SyncAll();
  ASSERT_TRUE(Remove(a, "f").ok());
  Pump(a, b);
  EXPECT_FALSE(Snapshot(b).count("f"));
  // C, which still has the old version, comes back: the delete is not undone.
  SyncAll();
  EXPECT_FALSE(Snapshot(a).count("f"));
  EXPECT_FALSE(Snapshot(c).count("f"));
}

TEST_F(Replicas, RenameAndConcurrentEditBothSurvive) {
  Store& a = Make();
  Store& b = Make();
  Write(a, "notes", "v1");
  SyncAll();
  ASSERT_TRUE(Move(a, "notes", "notes.txt").ok());
  Write(b, "notes", "v2 edited on B");
  SyncAll();
  Tree ta = Snapshot(a);
  EXPECT_EQ(Diff(ta, Snapshot(b)), "");
  EXPECT_FALSE(ta.count("notes"));
  ASSERT_TRUE(ta.count("notes.txt"));
  EXPECT_EQ(ta["notes.txt"].data, "v2 edited on B");
}

TEST_F(Replicas, CreateInsideDirectoryDeletedElsewhereKeepsBoth) {
  Store& a = Make();
  Store& b = Make();
  ASSERT_TRUE(Mkdir(a, "d").ok());
  SyncAll();
  ASSERT_TRUE(Remove(a, "d").ok());
  Write(b, "d/new", "keep me");
  SyncAll();
  Tree ta = Snapshot(a);
  EXPECT_EQ(Diff(ta, Snapshot(b)), "");
  ASSERT_TRUE(ta.count("d/new"));
  EXPECT_EQ(ta["d/new"].data, "keep me");
}

TEST_F(Replicas, ConcurrentMovesNeverMakeACycle) {
  Store& a = Make();
  Store& b = Make();
  ASSERT_TRUE(Mkdir(a, "x").ok());
  ASSERT_TRUE(Mkdir(a, "y").ok());
  Write(a, "x/in-x", "1");
  Write(a, "y/in-y", "2");
  SyncAll();
  ASSERT_TRUE(Move(a, "x", "y/x").ok());
  ASSERT_TRUE(Move(b, "y", "x/y").ok());
  SyncAll();
  Tree ta = Snapshot(a);
  EXPECT_EQ(Diff(ta, Snapshot(b)), "");
  // Both directories and their files are still reachable from the root.
  int found = 0;
  for (auto& [path, e] : ta) {
    if (path.ends_with("in-x") || path.ends_with("in-y")) ++found;
  }
  EXPECT_EQ(found, 2);
}

TEST_F(Replicas, SameNameCreatedOnTwoPeersKeepsBoth) {
  Store& a = Make();
  Store& b = Make();
  Write(a, "profile", "A's");
  Write(b, "profile", "B's");
  SyncAll();
  Tree ta = Snapshot(a);
  EXPECT_EQ(Diff(ta, Snapshot(b)), "");
  auto names = NamesLike(ta, "profile");
  ASSERT_EQ(names.size(), 2u);
  std::set<std::string> contents{ta[names[0]].data, ta[names[1]].data};
  EXPECT_EQ(contents, (std::set<std::string>{"A's", "B's"}));
}

TEST_F(Replicas, ChainRelaysChanges) {
  Store& a = Make();
  Store& b = Make();
  Store& c = Make();
  Write(a, "relayed", "through B");
  Pump(a, b);
  Pump(b, c);
  EXPECT_EQ(Snapshot(c)["relayed"].data, "through B");
  Write(c, "back", "to A");
  Pump(c, b);
  Pump(b, a);
  EXPECT_EQ(Snapshot(a)["back"].data, "to A");
  EXPECT_EQ(Diff(Snapshot(a), Snapshot(c)), "");
}

TEST_F(Replicas, SmallChangeToBigFileFetchesOneChunk) {
  Store& a = Make();
  Store& b = Make();
  std::string big(3 * 1024 * 1024 + 123, '\0');
  std::mt19937 rng(7);
  for (char& ch : big) ch = static_cast<char>(rng());
  Write(a, "big", big);
  EXPECT_EQ(Pump(a, b), (big.size() + store::kChunkSize - 1) / store::kChunkSize);
  WriteAt(a, "big", 1000000, "X");
  EXPECT_EQ(Pump(a, b), 1u);
  big[1000000] = 'X';
  EXPECT_EQ(Snapshot(b)["big"].data, big);
  EXPECT_EQ(Pump(a, b), 0u);  // nothing new: nothing sent
}

TEST_F(Replicas, RandomOperationsUnderPartitionsConverge) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    stores_.clear();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::vector<Store*> s{&Make(), &Make(), &Make()};
    std::mt19937_64 rng(seed);
    auto pick = [&](const Tree& t, bool dirs) -> std::string {
      std::vector<std::string> c;
      for (auto& [p, e] : t) {
        if ((e.type == store::FileType::kDirectory) == dirs) c.push_back(p);
      }
      return c.empty() ? "" : c[rng() % c.size()];
    };
    for (int step = 0; step < 150; ++step) {
      Store& r = *s[rng() % 3];
      Tree t = Snapshot(r);
      std::string dir = pick(t, true);
      std::string base = dir.empty() || rng() % 3 == 0 ? "" : dir + "/";
      switch (rng() % 7) {
        case 0:
          (void)Mkdir(r, base + "d" + std::to_string(rng() % 20));
          break;
        case 1:
        case 2:
          (void)TryWrite(r, base + "f" + std::to_string(rng() % 20), "v" + std::to_string(rng()));
          break;
        case 3: {
          std::string f = pick(t, false);
          if (!f.empty()) (void)Remove(r, f);
          break;
        }
        case 4: {
          std::string f = pick(t, rng() % 2);
          if (!f.empty()) (void)Move(r, f, base + "m" + std::to_string(rng() % 20));
          break;
        }
        case 5: {
          std::string f = pick(t, false);
          if (!f.empty()) Chmod(r, f, 0600 + (rng() % 2) * 044);
          break;
        }
        case 6: {
          size_t x = rng() % 3, y = rng() % 3;
          if (x != y) Pump(*s[x], *s[y]);
          break;
        }
      }
    }
    SyncAll();
    Tree t0 = Snapshot(*s[0]);
    EXPECT_EQ(Diff(t0, Snapshot(*s[1])), "");
    EXPECT_EQ(Diff(t0, Snapshot(*s[2])), "");
  }
}

}  // namespace
}  // namespace kvfs::sync
