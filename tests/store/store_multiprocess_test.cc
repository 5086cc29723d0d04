// Several processes writing one store at once, as a mount daemon, the CLI and a
// sync server do: LMDB serialises them, and the HLC and counters in meta keep
// stamps, inode numbers and feed entries unique across them.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "store/txn.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

using testing::TempDir;

constexpr size_t kMiB = size_t{1} << 20;

std::string Content(int proc, int i, size_t size) {
  std::string s = "p" + std::to_string(proc) + "/f" + std::to_string(i) + ":";
  while (s.size() < size) s += static_cast<char>('a' + (s.size() * 31 + proc + i) % 26);
  s.resize(size);
  return s;
}

// Runs `body` in a child process once `go` is readable; the child's exit code is
// 0 when body returned true. Returns the child's pid.
template <typename Body>
pid_t Spawn(int go_fd, Body body) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  char c;
  if (read(go_fd, &c, 1) != 1) _exit(3);
  bool ok = false;
  try {
    ok = body();
  } catch (...) {
    ok = false;
  }
  std::fflush(stderr);
  _exit(ok ? 0 : 1);
}

bool Check(const Status& st, const char* what) {
  if (st.ok()) return true;
  std::fprintf(stderr, "[child %d] %s: %s\n", getpid(), what, st.message().c_str());
  return false;
}

// Forks one child per body, starts them together, and expects all to succeed.
void RunConcurrently(const std::vector<std::function<bool()>>& bodies) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::vector<pid_t> pids;
  for (const auto& body : bodies) {
    pid_t pid = Spawn(fds[0], body);
    ASSERT_GT(pid, 0);
    pids.push_back(pid);
  }
  // One byte per child releases them all at (nearly) the same moment.
  std::string go(bodies.size(), 'g');
  ASSERT_EQ(write(fds[1], go.data(), go.size()), static_cast<ssize_t>(go.size()));
  close(fds[0]);
  close(fds[1]);
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status)) << "child " << pid << " crashed";
    if (WIFEXITED(status)) {
      EXPECT_EQ(WEXITSTATUS(status), 0) << "child " << pid << " failed";
    }
  }
}

TEST(StoreMultiprocessTest, ConcurrentWritersAllLand) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  ASSERT_TRUE(Store::Create(dir).ok());
  constexpr int kProcs = 4;
  constexpr int kFiles = 150;
  std::vector<std::function<bool()>> bodies;
  for (int p = 0; p < kProcs; ++p) {
    bodies.push_back([dir, p] {
      auto store = Store::Open(dir);  // the real wall clock: many stamps per ms
      if (!Check(store.status(), "open")) return false;
      for (int i = 0; i < kFiles; ++i) {
        Status st = (*store)->Update([&](WriteTxn& w) {
          NewObject spec;
          KVFS_ASSIGN_OR_RETURN(
              Inode f, w.Create(kRootIno, "p" + std::to_string(p) + "-" + std::to_string(i), spec));
          return w.Write(f.ino, 0, Content(p, i, 100 + i * 13)).status();
        });
        if (!Check(st, "write")) return false;
        if (i % 10 == 0) {
          st = (*store)->View([&](ReadTxn& r) { return r.ListDir(kRootIno).status(); });
          if (!Check(st, "list")) return false;
        }
      }
      return true;
    });
  }
  RunConcurrently(bodies);

  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok());
  Status v = (*store)->View([&](ReadTxn& r) {
    std::set<Ino> inos;
    for (int p = 0; p < kProcs; ++p) {
      for (int i = 0; i < kFiles; ++i) {
        const std::string name = "p" + std::to_string(p) + "-" + std::to_string(i);
        auto f = r.Lookup(kRootIno, name);
        EXPECT_TRUE(f.ok()) << name << ": " << f.status().message();
        if (!f.ok()) continue;
        EXPECT_TRUE(inos.insert(f->ino).second) << "ino reused: " << f->ino;
        KVFS_ASSIGN_OR_RETURN(std::string data, r.Read(f->ino, 0, 1 << 16));
        EXPECT_EQ(data, Content(p, i, 100 + i * 13)) << name;
      }
    }
    KVFS_ASSIGN_OR_RETURN(auto entries, r.ListDir(kRootIno));
    EXPECT_EQ(entries.size(), static_cast<size_t>(kProcs * kFiles));
    // Every object is in the feed once. Each file was created and written in its own
    // transaction, so the files' stamps are all distinct; the root shares the stamp
    // of the last transaction, which touched it.
    KVFS_ASSIGN_OR_RETURN(auto feed, r.ChangesSince(0));
    EXPECT_EQ(feed.size(), static_cast<size_t>(kProcs * kFiles + 1));  // + the root
    std::set<HlcStamp> stamps;
    std::set<Ino> feed_inos;
    for (size_t i = 0; i < feed.size(); ++i) {
      EXPECT_TRUE(feed_inos.insert(feed[i].ino).second);
      if (i > 0) {
        EXPECT_LT(feed[i - 1].seq, feed[i].seq);
        EXPECT_LE(feed[i - 1].stamp, feed[i].stamp);  // commit order is stamp order
      }
      if (feed[i].ino == kRootIno) continue;
      EXPECT_TRUE(stamps.insert(feed[i].stamp).second)
          << "stamp reused: " << feed[i].stamp.ToString();
    }
    EXPECT_EQ(stamps.size(), static_cast<size_t>(kProcs * kFiles));
    KVFS_ASSIGN_OR_RETURN(Inode root, r.Get(kRootIno));
    EXPECT_EQ(root.stamp, *stamps.rbegin());
    return Status::Ok();
  });
  EXPECT_TRUE(v.ok()) << v.message();
}

TEST(StoreMultiprocessTest, OneProcessGrowsTheMapWhileAnotherWrites) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  StoreOptions small;
  small.initial_map_size = kMiB;
  ASSERT_TRUE(Store::Create(dir, small).ok());
  constexpr int kBig = 24;     // 24 MiB from the grower
  constexpr int kSmall = 400;  // small files from the other writer
  std::vector<std::function<bool()>> bodies;
  bodies.push_back([dir, small] {
    auto store = Store::Open(dir, small);
    if (!Check(store.status(), "open grower")) return false;
    for (int i = 0; i < kBig; ++i) {
      Status st = (*store)->Update([&](WriteTxn& w) {
        KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "big" + std::to_string(i), {}));
        return w.Write(f.ino, 0, Content(100, i, kMiB)).status();
      });
      if (!Check(st, "big write")) return false;
    }
    return true;
  });
  bodies.push_back([dir, small] {
    auto store = Store::Open(dir, small);
    if (!Check(store.status(), "open writer")) return false;
    for (int i = 0; i < kSmall; ++i) {
      Status st = (*store)->Update([&](WriteTxn& w) {
        KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "small" + std::to_string(i), {}));
        return w.Write(f.ino, 0, Content(200, i, 2000)).status();
      });
      if (!Check(st, "small write")) return false;
      // Reads see the other process's data beyond this process's first map.
      st = (*store)->View([&](ReadTxn& r) -> Status {
        KVFS_ASSIGN_OR_RETURN(auto entries, r.ListDir(kRootIno));
        for (const DirEntry& e : entries) {
          KVFS_ASSIGN_OR_RETURN(Inode n, r.Get(e.ino));
          KVFS_ASSIGN_OR_RETURN(std::string data, r.Read(e.ino, n.size - 1, 1));
          if (data.size() != 1) return Status(Code::kCorruption, "short read of " + e.name);
        }
        return Status::Ok();
      });
      if (!Check(st, "read")) return false;
    }
    return true;
  });
  RunConcurrently(bodies);

  auto store = Store::Open(dir, small);
  ASSERT_TRUE(store.ok());
  EXPECT_GE((*store)->map_size(), 16 * kMiB);
  Status v = (*store)->View([&](ReadTxn& r) {
    for (int i = 0; i < kBig; ++i) {
      KVFS_ASSIGN_OR_RETURN(Inode f, r.Lookup(kRootIno, "big" + std::to_string(i)));
      KVFS_ASSIGN_OR_RETURN(std::string data, r.Read(f.ino, 0, kMiB));
      EXPECT_TRUE(data == Content(100, i, kMiB)) << "big " << i;
    }
    for (int i = 0; i < kSmall; ++i) {
      KVFS_ASSIGN_OR_RETURN(Inode f, r.Lookup(kRootIno, "small" + std::to_string(i)));
      KVFS_ASSIGN_OR_RETURN(std::string data, r.Read(f.ino, 0, 4000));
      EXPECT_EQ(data, Content(200, i, 2000)) << "small " << i;
    }
    KVFS_ASSIGN_OR_RETURN(auto feed, r.ChangesSince(0));
    std::set<HlcStamp> stamps;
    for (const Change& c : feed) {
      if (c.ino == kRootIno) continue;  // shares the last transaction's stamp
      EXPECT_TRUE(stamps.insert(c.stamp).second) << c.stamp.ToString();
    }
    EXPECT_EQ(stamps.size(), static_cast<size_t>(kBig + kSmall));
    return Status::Ok();
  });
  EXPECT_TRUE(v.ok()) << v.message();
}

// The mount keeps its store open while the CLI writes: the mount must see the CLI's
// commits at once, also after the CLI grew the map past the mount's.
void SeeAnotherProcessWrites(bool read_only) {
  TempDir tmp;
  const std::string dir = tmp.Sub("s");
  StoreOptions small;
  small.initial_map_size = kMiB;
  ASSERT_TRUE(Store::Create(dir, small).ok());
  constexpr int kFiles = 40;
  constexpr size_t kSize = 256 * 1024;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  // The child is forked before this process opens the store, so it inherits no
  // LMDB environment.
  pid_t pid = Spawn(fds[0], [dir, small] {
    auto store = Store::Open(dir, small);
    if (!Check(store.status(), "open child")) return false;
    for (int i = 0; i < kFiles; ++i) {
      Status st = (*store)->Update([&](WriteTxn& w) {
        KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "c" + std::to_string(i), {}));
        return w.Write(f.ino, 0, Content(300, i, kSize)).status();
      });
      if (!Check(st, "child write")) return false;
    }
    return true;
  });
  ASSERT_GT(pid, 0);
  StoreOptions mine = small;
  mine.read_only = read_only;
  auto store = Store::Open(dir, mine);
  ASSERT_TRUE(store.ok()) << store.status().message();
  const size_t first_map = (*store)->map_size();
  size_t seen = 0;
  Status st = (*store)->View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(auto entries, r.ListDir(kRootIno));
    seen = entries.size();
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(seen, 0u);
  ASSERT_EQ(write(fds[1], "g", 1), 1);
  close(fds[0]);
  close(fds[1]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child failed";
  // No reopen: the same environment reads everything the child wrote.
  st = (*store)->View([&](ReadTxn& r) {
    for (int i = 0; i < kFiles; ++i) {
      KVFS_ASSIGN_OR_RETURN(Inode f, r.Lookup(kRootIno, "c" + std::to_string(i)));
      KVFS_ASSIGN_OR_RETURN(std::string data, r.Read(f.ino, 0, kSize));
      EXPECT_TRUE(data == Content(300, i, kSize)) << "file " << i;
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_GT((*store)->map_size(), first_map);  // adopted the child's larger map
  if (!read_only) {
    st = (*store)->Update([&](WriteTxn& w) { return w.Create(kRootIno, "parent", {}).status(); });
    EXPECT_TRUE(st.ok()) << st.message();
  }
}

TEST(StoreMultiprocessTest, OpenStoreSeesAnotherProcessWritesAndGrowth) {
  SeeAnotherProcessWrites(false);
}

TEST(StoreMultiprocessTest, ReadOnlyStoreSeesAnotherProcessWritesAndGrowth) {
  SeeAnotherProcessWrites(true);
}

}  // namespace
}  // namespace kvfs::store
