// kvfs_store_bench: the kvfs store against raw LMDB, side by side in one run.
//
// Not a test: it prints one table. Both sides run in a scratch directory (removed at
// the end) on the same disk, with the same environment flags (MDB_NOTLS; a sync
// commit unless --no-sync, then MDB_NOSYNC on both). Raw LMDB gets a map sized for
// the whole run up front; the kvfs store starts at its default map and grows, as it
// does in use. What is measured:
//   put single   one write transaction per 1 KiB value
//                (kvfs: WriteTxn::Create + Write in one Update; raw: one mdb_put)
//   put batched  1000 values per transaction, same operations
//   get          one read transaction per 1 KiB value, random keys
//                (kvfs: Lookup + Read in one View; raw: one mdb_get, copied out)
//   big write    one value of --size-mb MiB written in 1 MiB pieces, 64 MiB per
//                transaction (kvfs: WriteTxn::Write into one file; raw: 64 KiB values
//                keyed (id, index), the store's own chunk size)
//   big read     the same value read back in 1 MiB pieces
//
//   kvfs_store_bench [--size-mb N] [--dir PARENT] [--no-sync]

#include <lmdb.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "store/store.h"
#include "store/txn.h"

namespace {

using kvfs::Status;
using kvfs::store::Ino;
using kvfs::store::Inode;
using kvfs::store::kRootIno;
using kvfs::store::ReadTxn;
using kvfs::store::Store;
using kvfs::store::StoreOptions;
using kvfs::store::WriteTxn;
using Clock = std::chrono::steady_clock;

constexpr size_t kValueSize = 1024;
constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kPiece = kMiB;             // one Write call of the big value
constexpr size_t kBigTxnBytes = 64 * kMiB;  // big value bytes per transaction
constexpr size_t kRawChunk = 64 * 1024;     // raw LMDB value size for the big value

struct Config {
  size_t size_mb = 1024;
  std::string parent;  // where the scratch directory goes
  bool no_sync = false;
  int single_max = 20000;       // single puts: at most this many...
  double single_seconds = 4.0;  // ...or this long, whichever comes first
  int batched = 100000;         // values written by the batched puts (and read by gets)
  int batch_size = 1000;
  int gets = 200000;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "kvfs_store_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const Status& st, const char* what) {
  if (!st.ok()) Die(std::string(what) + ": " + st.message());
}

void CheckRc(int rc, const char* what) {
  if (rc != MDB_SUCCESS) Die(std::string(what) + ": " + mdb_strerror(rc));
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string Name(char prefix, int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c%08d", prefix, i);
  return buf;
}

std::string Value(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t r = rng();
    std::memcpy(&s[i], &r, std::min<size_t>(8, n - i));
  }
  return s;
}

// A scratch directory removed with its contents, however the run ends normally.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& parent) {
    std::string tmpl = parent + "/kvfs-store-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) Die("cannot create a scratch dir in " + parent);
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One side of the comparison: the operations each benchmark needs.
class Target {
 public:
  virtual ~Target() = default;
  virtual void PutOne(const std::string& key, const std::string& value) = 0;
  virtual void PutBatch(const std::vector<std::string>& keys, const std::string& value) = 0;
  virtual void Get(const std::string& key, std::string* out) = 0;
  // Writes bytes [offset, offset + pieces.size() * kPiece) of the big value in one txn.
  virtual void WriteBig(uint64_t offset, const std::vector<std::string>& pieces) = 0;
  virtual void ReadBig(uint64_t offset, std::string* out) = 0;  // kPiece bytes
};

class KvfsTarget : public Target {
 public:
  KvfsTarget(const std::string& dir, bool no_sync) {
    StoreOptions options;
    options.no_sync = no_sync;
    Check(Store::Create(dir, options), "create store");
    auto store = Store::Open(dir, options);
    Check(store.status(), "open store");
    store_ = std::move(store).value();
  }

  void PutOne(const std::string& key, const std::string& value) override {
    Check(store_->Update([&](WriteTxn& w) { return Put(w, key, value); }), "kvfs put");
  }
  void PutBatch(const std::vector<std::string>& keys, const std::string& value) override {
    Check(store_->Update([&](WriteTxn& w) {
      for (const std::string& key : keys) KVFS_RETURN_IF_ERROR(Put(w, key, value));
      return Status::Ok();
    }),
          "kvfs batched put");
  }
  void Get(const std::string& key, std::string* out) override {
    Check(store_->View([&](ReadTxn& r) {
      KVFS_ASSIGN_OR_RETURN(Inode n, r.Lookup(kRootIno, key));
      KVFS_ASSIGN_OR_RETURN(*out, r.Read(n.ino, 0, n.size));
      return Status::Ok();
    }),
          "kvfs get");
  }
  void WriteBig(uint64_t offset, const std::vector<std::string>& pieces) override {
    Check(store_->Update([&](WriteTxn& w) {
      if (big_ino_ == 0) {
        KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, "big", {}));
        big_ino_candidate_ = f.ino;
      } else {
        big_ino_candidate_ = big_ino_;
      }
      uint64_t at = offset;
      for (const std::string& piece : pieces) {
        KVFS_RETURN_IF_ERROR(w.Write(big_ino_candidate_, at, piece).status());
        at += piece.size();
      }
      return Status::Ok();
    }),
          "kvfs big write");
    big_ino_ = big_ino_candidate_;  // only once the transaction committed
  }
  void ReadBig(uint64_t offset, std::string* out) override {
    Check(store_->View([&](ReadTxn& r) {
      KVFS_ASSIGN_OR_RETURN(*out, r.Read(big_ino_, offset, kPiece));
      return Status::Ok();
    }),
          "kvfs big read");
  }
  size_t map_size() const { return store_->map_size(); }

 private:
  static Status Put(WriteTxn& w, const std::string& key, const std::string& value) {
    KVFS_ASSIGN_OR_RETURN(Inode f, w.Create(kRootIno, key, {}));
    return w.Write(f.ino, 0, value).status();
  }

  std::unique_ptr<Store> store_;
  Ino big_ino_ = 0;
  Ino big_ino_candidate_ = 0;
};

class RawLmdbTarget : public Target {
 public:
  RawLmdbTarget(const std::string& dir, bool no_sync, size_t map_size) {
    std::filesystem::create_directories(dir);
    CheckRc(mdb_env_create(&env_), "mdb_env_create");
    CheckRc(mdb_env_set_maxdbs(env_, 16), "mdb_env_set_maxdbs");
    CheckRc(mdb_env_set_mapsize(env_, map_size), "mdb_env_set_mapsize");
    unsigned flags = MDB_NOTLS;  // as the store opens its environment
    if (no_sync) flags |= MDB_NOSYNC;
    CheckRc(mdb_env_open(env_, dir.c_str(), flags, 0600), "mdb_env_open");
    MDB_txn* txn = Begin(0);
    CheckRc(mdb_dbi_open(txn, "kv", MDB_CREATE, &dbi_), "mdb_dbi_open");
    CheckRc(mdb_txn_commit(txn), "commit");
  }
  ~RawLmdbTarget() override { mdb_env_close(env_); }

  void PutOne(const std::string& key, const std::string& value) override {
    MDB_txn* txn = Begin(0);
    Put(txn, key, value);
    CheckRc(mdb_txn_commit(txn), "raw commit");
  }
  void PutBatch(const std::vector<std::string>& keys, const std::string& value) override {
    MDB_txn* txn = Begin(0);
    for (const std::string& key : keys) Put(txn, key, value);
    CheckRc(mdb_txn_commit(txn), "raw commit");
  }
  void Get(const std::string& key, std::string* out) override {
    MDB_txn* txn = Begin(MDB_RDONLY);
    MDB_val k{key.size(), const_cast<char*>(key.data())}, v;
    CheckRc(mdb_get(txn, dbi_, &k, &v), "raw get");
    out->assign(static_cast<const char*>(v.mv_data), v.mv_size);
    mdb_txn_abort(txn);
  }
  void WriteBig(uint64_t offset, const std::vector<std::string>& pieces) override {
    MDB_txn* txn = Begin(0);
    uint64_t at = offset;
    for (const std::string& piece : pieces) {
      for (size_t i = 0; i < piece.size(); i += kRawChunk) {
        Put(txn, ChunkKey(at + i), std::string_view(piece).substr(i, kRawChunk));
      }
      at += piece.size();
    }
    CheckRc(mdb_txn_commit(txn), "raw commit");
  }
  void ReadBig(uint64_t offset, std::string* out) override {
    MDB_txn* txn = Begin(MDB_RDONLY);
    out->clear();
    for (size_t i = 0; i < kPiece; i += kRawChunk) {
      const std::string key = ChunkKey(offset + i);
      MDB_val k{key.size(), const_cast<char*>(key.data())}, v;
      CheckRc(mdb_get(txn, dbi_, &k, &v), "raw big read");
      out->append(static_cast<const char*>(v.mv_data), v.mv_size);
    }
    mdb_txn_abort(txn);
  }

 private:
  MDB_txn* Begin(unsigned flags) {
    MDB_txn* txn = nullptr;
    CheckRc(mdb_txn_begin(env_, nullptr, flags, &txn), "mdb_txn_begin");
    return txn;
  }
  void Put(MDB_txn* txn, std::string_view key, std::string_view value) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), const_cast<char*>(value.data())};
    CheckRc(mdb_put(txn, dbi_, &k, &v, 0), "raw put");
  }
  static std::string ChunkKey(uint64_t offset) {
    kvfs::ByteWriter w;
    w.U64(1);  // the big value's id
    w.U64(offset / kRawChunk);
    return w.Take();
  }

  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
};

struct Row {
  std::string what;
  std::string unit;
  double kvfs = 0;
  double raw = 0;
};

// Each function runs one benchmark on one target and returns its rate.
double SinglePuts(Target& t, const Config& c, int* done) {
  const std::string value = Value(kValueSize, 1);
  const auto start = Clock::now();
  int i = 0;
  for (; i < c.single_max; ++i) {
    t.PutOne(Name('s', i), value);
    if ((i & 63) == 63 && Seconds(start) > c.single_seconds) {
      ++i;
      break;
    }
  }
  *done = i;
  return i / Seconds(start);
}

double BatchedPuts(Target& t, const Config& c) {
  const std::string value = Value(kValueSize, 2);
  const auto start = Clock::now();
  std::vector<std::string> keys;
  for (int i = 0; i < c.batched; i += c.batch_size) {
    keys.clear();
    for (int j = i; j < std::min(c.batched, i + c.batch_size); ++j) keys.push_back(Name('b', j));
    t.PutBatch(keys, value);
  }
  return c.batched / Seconds(start);
}

double Gets(Target& t, const Config& c) {
  const std::string want = Value(kValueSize, 2);
  std::mt19937 rng(42);  // the same key order for both targets
  std::string got;
  const auto start = Clock::now();
  for (int i = 0; i < c.gets; ++i) {
    t.Get(Name('b', static_cast<int>(rng() % c.batched)), &got);
    if (got.size() != kValueSize) Die("a get returned " + std::to_string(got.size()) + " bytes");
  }
  const double rate = c.gets / Seconds(start);
  if (got != want) Die("a get returned the wrong bytes");
  return rate;
}

double BigWrite(Target& t, const Config& c) {
  const size_t total = c.size_mb * kMiB;
  std::vector<std::string> pieces;
  const auto start = Clock::now();
  for (size_t off = 0; off < total; off += kBigTxnBytes) {
    pieces.clear();
    for (size_t p = off; p < std::min(total, off + kBigTxnBytes); p += kPiece) {
      pieces.push_back(Value(kPiece, p / kPiece));
    }
    t.WriteBig(off, pieces);
  }
  return static_cast<double>(total) / kMiB / Seconds(start);
}

double BigRead(Target& t, const Config& c) {
  const size_t total = c.size_mb * kMiB;
  std::string got;
  const auto start = Clock::now();
  for (size_t off = 0; off < total; off += kPiece) {
    t.ReadBig(off, &got);
    if (got.size() != kPiece) Die("the big value read back short");
  }
  const double rate = static_cast<double>(total) / kMiB / Seconds(start);
  if (got != Value(kPiece, (total - kPiece) / kPiece)) Die("the big value read back wrong");
  return rate;
}

// Generating the big value's pieces is part of BigWrite's time on both sides alike;
// measured here so the table can say how much of it that is.
double PieceGenerationMBps(size_t mb) {
  const auto start = Clock::now();
  size_t sink = 0;
  for (size_t i = 0; i < std::min<size_t>(mb, 256); ++i) sink += Value(kPiece, i)[7];
  const double secs = Seconds(start);
  return sink == SIZE_MAX ? 0 : static_cast<double>(std::min<size_t>(mb, 256)) / secs;
}

void Usage() {
  std::printf(
      "usage: kvfs_store_bench [--size-mb N] [--dir PARENT] [--no-sync]\n"
      "  --size-mb N    size of the big value in MiB (default 1024)\n"
      "  --dir PARENT   where the scratch directory is made (default $TMPDIR or /tmp)\n"
      "  --no-sync      commit without fsync on both sides (MDB_NOSYNC, as the mount does)\n");
}

Config ParseArgs(int argc, char** argv) {
  Config c;
  const char* tmp = std::getenv("TMPDIR");
  c.parent = tmp && *tmp ? tmp : "/tmp";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--size-mb") {
      const std::string v = next();
      char* end = nullptr;
      const unsigned long long mb = std::strtoull(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || mb == 0 || mb > (1u << 20)) {
        Die("--size-mb wants a whole number of MiB from 1 to 1048576, not '" + v + "'");
      }
      c.size_mb = static_cast<size_t>(mb);
    } else if (arg == "--dir") {
      c.parent = next();
    } else if (arg == "--no-sync") {
      c.no_sync = true;
    } else if (arg == "--help" || arg == "-h") {
      Usage();
      std::exit(0);
    } else {
      Usage();
      Die("unknown argument '" + arg + "'");
    }
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const Config c = ParseArgs(argc, argv);
  ScratchDir scratch(c.parent);
  const size_t raw_map = (c.size_mb + 1024) * kMiB + c.size_mb * kMiB / 8;
  KvfsTarget kvfs(scratch.path() + "/kvfs", c.no_sync);
  RawLmdbTarget raw(scratch.path() + "/raw", c.no_sync, raw_map);

  std::printf("kvfs store vs raw LMDB, %s commits, scratch dir %s\n",
              c.no_sync ? "no-sync (MDB_NOSYNC)" : "durable (fsync)", scratch.path().c_str());
  std::fflush(stdout);
  std::vector<Row> rows;
  int kvfs_singles = 0, raw_singles = 0;
  // Each benchmark runs on both targets back to back, so both see the same machine.
  Row single{"1 KiB put, 1 per txn", "ops/s"};
  single.kvfs = SinglePuts(kvfs, c, &kvfs_singles);
  single.raw = SinglePuts(raw, c, &raw_singles);
  rows.push_back(single);
  Row batched{"1 KiB put, " + std::to_string(c.batch_size) + " per txn", "ops/s"};
  batched.kvfs = BatchedPuts(kvfs, c);
  batched.raw = BatchedPuts(raw, c);
  rows.push_back(batched);
  Row gets{"1 KiB get, 1 per txn", "ops/s"};
  gets.kvfs = Gets(kvfs, c);
  gets.raw = Gets(raw, c);
  rows.push_back(gets);
  Row big_write{std::to_string(c.size_mb) + " MiB value write", "MB/s"};
  big_write.kvfs = BigWrite(kvfs, c);
  big_write.raw = BigWrite(raw, c);
  rows.push_back(big_write);
  Row big_read{std::to_string(c.size_mb) + " MiB value read", "MB/s"};
  big_read.kvfs = BigRead(kvfs, c);
  big_read.raw = BigRead(raw, c);
  rows.push_back(big_read);

  std::printf("\n%-28s %6s %14s %14s %9s\n", "operation", "unit", "kvfs store", "raw LMDB",
              "kvfs/raw");
  for (const Row& r : rows) {
    std::printf("%-28s %6s %14.0f %14.0f %9.2f\n", r.what.c_str(), r.unit.c_str(), r.kvfs, r.raw,
                r.raw > 0 ? r.kvfs / r.raw : 0.0);
  }
  std::printf(
      "\nsingle puts: %d kvfs, %d raw (each side stops after %d or %.0f s); batched: %d values; "
      "gets: %d random keys of those\n"
      "big value: 1 MiB pieces, 64 MiB per txn (raw: 64 KiB values); generating pieces "
      "alone runs at %.0f MB/s\n"
      "kvfs map grew to %zu MiB from the default start; raw map preset to %zu MiB\n",
      kvfs_singles, raw_singles, c.single_max, c.single_seconds, c.batched, c.gets,
      PieceGenerationMBps(c.size_mb), kvfs.map_size() / kMiB, raw_map / kMiB);
  return 0;
}
