#include "store/redo_log.h"

#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <thread>

#include "base/bytes.h"
#include "base/file_io.h"
#include "store/lmdb.h"
#include "store/txn.h"
#include "store/txn_changes.h"

namespace kvfs::store {
namespace {

constexpr uint32_t kMagic = 0x4b565244;  // "KVRD"
// Both kinds of record start with u32 magic, u32 length, u64 generation.
constexpr size_t kCommonHeadBytes = 4 + 4 + 8;
constexpr size_t kHeadBytes = kCommonHeadBytes + 8;  // and a txn record with its u64 id
constexpr size_t kSumBytes = 16;
// Each write ends on a page boundary, padded with a pad record: u32 magic "KVPD",
// u32 length of the zeros after this head, u64 generation. A write that starts in a
// page the page cache no longer holds would make the kernel read that page from
// disk first, inside the fsync.
constexpr uint32_t kPadMagic = 0x4b565044;  // "KVPD"
constexpr size_t kPadHeadBytes = kCommonHeadBytes;  // a pad has the common head alone
constexpr uint64_t kPageBytes = 4096;
// How long Open waits for a short holder of the lock (another process's replay).
constexpr int kLockTries = 100;
constexpr auto kLockPause = std::chrono::milliseconds(10);
// A log is made only when the disk has this many times its size free.
constexpr uint64_t kRoomFactor = 8;

struct Record {
  uint64_t generation = 0;
  uint64_t txnid = 0;
  std::string body;
  size_t bytes = 0;  // on disk, with head and sum
};

std::string Sum(std::string_view bytes) {
  unsigned char out[kSumBytes];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

// The size of the record AppendRecord makes of `body`.
size_t RecordBytes(std::string_view body) { return kHeadBytes + body.size() + kSumBytes; }

// Appends the record of transaction `txnid` to `out`, encoded in place: a record is
// built on every fsync'd write, and building it apart and appending it cost a copy
// and a few allocations each time.
void AppendRecord(uint64_t generation, uint64_t txnid, std::string_view body, std::string* out) {
  const size_t start = out->size();
  ByteWriter w(std::move(*out));
  w.U32(kMagic);
  w.U32(static_cast<uint32_t>(body.size()));
  w.U64(generation);
  w.U64(txnid);
  w.Raw(body);
  const std::string sum = Sum(std::string_view(w.str()).substr(start));
  w.Raw(sum);
  *out = w.Take();
}

// The common head's fields after the magic.
struct Head {
  uint32_t len = 0;
  uint64_t generation = 0;
};

// Reads the `head_bytes` at `pos` into `raw` and the common head from them. False
// unless they are there, start with `magic`, and leave room before `end` for the
// `len` bytes after the head plus `tail`.
bool ReadHead(int fd, off_t pos, off_t end, uint32_t magic, size_t head_bytes, size_t tail,
              std::string* raw, Head* head) {
  if (end - pos < static_cast<off_t>(head_bytes + tail)) return false;
  raw->assign(head_bytes, '\0');
  if (!PreadAll(fd, raw->data(), raw->size(), pos)) return false;
  ByteReader r(*raw);
  uint32_t got_magic = 0;
  return r.U32(&got_magic) && r.U32(&head->len) && r.U64(&head->generation) &&
         got_magic == magic &&
         static_cast<off_t>(head->len) <= end - pos - static_cast<off_t>(head_bytes + tail);
}

// The whole record at `pos` of a half that ends at `end`, if there is one.
bool ReadRecord(int fd, off_t pos, off_t end, Record* out) {
  std::string head;
  Head h;
  if (!ReadHead(fd, pos, end, kMagic, kHeadBytes, kSumBytes, &head, &h)) return false;
  ByteReader r(std::string_view(head).substr(kCommonHeadBytes));
  if (!r.U64(&out->txnid)) return false;
  out->generation = h.generation;
  const size_t len = h.len;
  std::string rest(len + kSumBytes, '\0');
  if (!PreadAll(fd, rest.data(), rest.size(), pos + static_cast<off_t>(kHeadBytes))) return false;
  if (Sum(head + rest.substr(0, len)) != rest.substr(len)) return false;
  out->body = rest.substr(0, len);
  out->bytes = kHeadBytes + len + kSumBytes;
  return true;
}

// Appends a pad record of `bytes` bytes in all (head and zeros; at least
// kPadHeadBytes) to `out`.
void AppendPad(uint64_t generation, size_t bytes, std::string* out) {
  const size_t start = out->size();
  ByteWriter w(std::move(*out));
  w.U32(kPadMagic);
  w.U32(static_cast<uint32_t>(bytes - kPadHeadBytes));
  w.U64(generation);
  *out = w.Take();
  out->resize(start + bytes, '\0');
}

// The bytes to add after a write that ends at file offset `end` so that it ends on a
// page boundary with a pad record; 0 when it already does.
size_t PadBytesAfter(uint64_t end) {
  size_t pad = static_cast<size_t>((kPageBytes - end % kPageBytes) % kPageBytes);
  if (pad != 0 && pad < kPadHeadBytes) pad += kPageBytes;
  return pad;
}

// The size of the pad record of `generation` at `pos`, or 0 when there is none.
off_t PadAt(int fd, off_t pos, off_t end, uint64_t generation) {
  std::string raw;
  Head h;
  if (!ReadHead(fd, pos, end, kPadMagic, kPadHeadBytes, 0, &raw, &h) || h.generation != generation) {
    return 0;
  }
  return static_cast<off_t>(kPadHeadBytes + h.len);
}

// Reads the chain of records at the start of half `h` into `out`, by txn id.
void ReadHalf(int fd, size_t half_bytes, int h, std::map<uint64_t, std::string>* out) {
  const off_t start = static_cast<off_t>(half_bytes) * h;
  const off_t end = start + static_cast<off_t>(half_bytes);
  off_t pos = start;
  Record first, rec;
  if (!ReadRecord(fd, pos, end, &first)) return;
  pos += static_cast<off_t>(first.bytes);
  uint64_t prev = first.txnid;
  (*out)[first.txnid] = std::move(first.body);
  for (;;) {
    // A pad ends each write; a second one covers a record whose commit failed.
    for (off_t pad; (pad = PadAt(fd, pos, end, first.generation)) > 0;) pos += pad;
    if (!ReadRecord(fd, pos, end, &rec) || rec.generation != first.generation ||
        rec.txnid != prev + 1) {
      return;
    }
    pos += static_cast<off_t>(rec.bytes);
    prev = rec.txnid;
    (*out)[rec.txnid] = std::move(rec.body);
  }
}

// Makes both halves start with no record, durably.
bool MarkEmpty(int fd, size_t half_bytes) {
  const std::string zeros(kHeadBytes, '\0');
  return PwriteAll(fd, zeros.data(), zeros.size(), 0) &&
         PwriteAll(fd, zeros.data(), zeros.size(), static_cast<off_t>(half_bytes)) &&
         fdatasync(fd) == 0;
}

bool HasRecord(int fd, size_t half_bytes) {
  Record rec;
  return ReadRecord(fd, 0, static_cast<off_t>(half_bytes), &rec) ||
         ReadRecord(fd, static_cast<off_t>(half_bytes), static_cast<off_t>(2 * half_bytes), &rec);
}

// Half the size of a log file, or 0 when it cannot be one.
size_t HalfOf(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size % 2 != 0) return 0;
  return static_cast<size_t>(st.st_size / 2);
}

// Writes `bytes` of zeros from the start of `fd` and makes them durable, so later
// writes overwrite allocated blocks and change no file-system metadata.
bool FillWithZeros(int fd, uint64_t bytes, const std::string& dir_path) {
  const std::string zeros(size_t{1} << 20, '\0');
  if (ftruncate(fd, 0) != 0) return false;
  for (uint64_t done = 0; done < bytes; done += zeros.size()) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), bytes - done));
    if (!PwriteAll(fd, zeros.data(), n, static_cast<off_t>(done))) return false;
  }
  ScopedFd dir(open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fsync(fd) == 0 && dir.get() >= 0 && fsync(dir.get()) == 0;
}

// `bytes` copied to page-aligned memory, as O_DIRECT needs (null when out of memory).
AlignedBytes AlignedCopy(const std::string& bytes) {
  AlignedBytes out(static_cast<char*>(std::aligned_alloc(kPageBytes, bytes.size())), &std::free);
  if (out) std::memcpy(out.get(), bytes.data(), bytes.size());
  return out;
}

// Copies `bytes` into `*buf`, page-aligned memory of `*capacity` bytes, made anew
// only when too small (null when out of memory: false).
bool CopyAligned(const std::string& bytes, AlignedBytes* buf, size_t* capacity) {
  if (!*buf || *capacity < bytes.size()) {
    *buf = AlignedCopy(bytes);
    *capacity = *buf ? bytes.size() : 0;
    return *buf != nullptr;
  }
  std::memcpy(buf->get(), bytes.data(), bytes.size());
  return true;
}

// Takes the log's lock, waiting up to kLockTries * kLockPause for a holder to let go.
bool LockWithinASecond(int fd) {
  int tries = 0;
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK || ++tries == kLockTries) return false;
    std::this_thread::sleep_for(kLockPause);
  }
  return true;
}

uint64_t NewGeneration() {
  std::random_device rd;
  return (uint64_t{rd()} << 32) | rd();
}

}  // namespace

std::string RedoLogPath(const std::string& db_dir) { return db_dir + "/redo.log"; }

Result<std::unique_ptr<RedoLog>> RedoLog::Open(const std::string& db_dir, size_t half_bytes) {
  const std::string path = RedoLogPath(db_dir);
  ScopedFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_DSYNC, 0600));
  if (fd.get() < 0) return IoError("cannot open the redo log " + path);
  if (!LockWithinASecond(fd.get())) return std::unique_ptr<RedoLog>();
  if (HalfOf(fd.get()) != half_bytes) {
    // The log takes room the store may need: make one only on a disk with plenty free.
    const uint64_t bytes = 2 * uint64_t{half_bytes};
    struct statvfs vfs {};
    const bool roomy = fstatvfs(fd.get(), &vfs) == 0 &&
                       uint64_t{vfs.f_bavail} * vfs.f_frsize >= kRoomFactor * bytes;
    if (!roomy || !FillWithZeros(fd.get(), bytes, db_dir)) {
      if (ftruncate(fd.get(), 0) != 0) return IoError("cannot empty the redo log " + path);
      spdlog::warn("{}: cannot make a {} MiB redo log ({}); fsync flushes the whole store",
                   db_dir, bytes >> 20,
                   roomy ? std::strerror(errno) : "less than " + std::to_string(kRoomFactor * bytes >> 20) + " MiB free on its disk");
      return std::unique_ptr<RedoLog>();
    }
  }
  ScopedFd direct(open(path.c_str(), O_WRONLY | O_CLOEXEC | O_DSYNC | O_DIRECT));
  if (direct.get() < 0) spdlog::debug("redo log {}: no O_DIRECT ({})", path, std::strerror(errno));
  return std::unique_ptr<RedoLog>(
      new RedoLog(std::move(fd), std::move(direct), path, half_bytes));
}

RedoLog::RedoLog(ScopedFd fd, ScopedFd direct_fd, std::string path, size_t half_bytes)
    : fd_(std::move(fd)), direct_fd_(std::move(direct_fd)), path_(std::move(path)),
      half_bytes_(half_bytes), generation_(NewGeneration()) {
  if (direct_fd_.get() >= 0) {
    early_fd_ = ScopedFd(open(path_.c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT));
  }
}

bool RedoLog::WriteDurably(const std::string& out, off_t at) {
  if (direct_fd_.get() >= 0 && at % kPageBytes == 0 && out.size() % kPageBytes == 0) {
    AlignedBytes aligned = AlignedCopy(out);
    if (aligned) {
      if (PwriteAll(direct_fd_.get(), aligned.get(), out.size(), at)) return true;
      // A file system may accept the open and refuse the write: buffered from now on.
      spdlog::debug("redo log {}: O_DIRECT write failed ({}); writing through the page cache",
                    path_, std::strerror(errno));
      direct_fd_ = ScopedFd();
    }
  }
  return PwriteAll(fd_.get(), out.data(), out.size(), at);
}

RedoLog::~RedoLog() {
  {
    std::lock_guard write_lock(write_mu_);
    CollectEarlyWrite();
  }
  std::lock_guard lock(mu_);
  // Everything the log holds is flushed in the store: the next open has nothing to
  // redo, and compaction may renumber the transactions.
  if (flushed_once_ && !failed_ && logged_upto_ <= synced_) MarkEmpty(fd_.get(), half_bytes_);
}

void RedoLog::Committed(uint64_t txnid, std::string changes) {
  std::lock_guard lock(mu_);
  if (early_ && early_->txnid == txnid) early_.reset();
  if (overflowed_.load(std::memory_order_relaxed) || txnid <= synced_) return;
  pending_bytes_ += RecordBytes(changes);
  pending_[txnid] = std::move(changes);
  if (pending_bytes_ > half_bytes_) {
    // Too much for one half: MakeDurable flushes the store until the next flush.
    overflowed_ = true;
    pending_.clear();
    pending_bytes_ = 0;
  }
}

bool RedoLog::AppendPending(uint64_t last_txnid, std::string* out) const {
  for (uint64_t id = logged_upto_ + 1; id <= last_txnid; ++id) {
    auto it = pending_.find(id);
    if (it == pending_.end()) {  // not recorded here
      spdlog::debug("redo log: transaction {} is not recorded; flushing the store", id);
      return false;
    }
    AppendRecord(generation_, id, it->second, out);
  }
  return true;
}

bool RedoLog::Fits(const std::string& out) const {
  if (offset_ + out.size() <= half_bytes_) return true;
  spdlog::debug("redo log: {} bytes do not fit; flushing the store", out.size());
  return false;
}

off_t RedoLog::NextAt() const {
  return static_cast<off_t>(half_bytes_) * half_ + static_cast<off_t>(offset_);
}

void RedoLog::PadToPage(off_t at, std::string* out) const {
  // At a half's very end there may be no room to pad: the next write, if one
  // fits, then starts inside a page, which is slower but as sound.
  const size_t pad = PadBytesAfter(static_cast<uint64_t>(at) + out->size());
  if (pad > 0 && offset_ + out->size() + pad <= half_bytes_) AppendPad(generation_, pad, out);
}

bool RedoLog::Persist(uint64_t last_txnid) {
  std::lock_guard write_lock(write_mu_);
  CollectEarlyWrite();
  std::string out;
  off_t at = 0;
  {
    std::lock_guard lock(mu_);
    if (!flushed_once_ || failed_) return false;
    if (last_txnid <= logged_upto_) return true;
    if (overflowed_.load(std::memory_order_relaxed)) {
      spdlog::debug("redo log: too much changed since the last flush; flushing the store");
      return false;
    }
    if (!AppendPending(last_txnid, &out) || !Fits(out)) return false;
    at = NextAt();
    PadToPage(at, &out);
  }
  const bool written = WriteDurably(out, at);
  const int write_errno = errno;
  std::lock_guard lock(mu_);
  if (!written) {
    failed_ = true;  // the store's own flush still works; say why fsync got slower
    spdlog::warn("cannot write the redo log {}: {}; fsync flushes the whole store from now on",
                 path_, std::strerror(write_errno));
    return false;
  }
  offset_ += out.size();
  logged_upto_ = last_txnid;
  bytes_written_ += out.size();
  return true;
}

bool RedoLog::StartEarly(uint64_t txnid, std::string_view changes) {
  // Never make a commit wait for the disk: when an fsync is writing, or the last
  // early write is still on its way, this one goes the usual way.
  std::unique_lock write_lock(write_mu_, std::try_to_lock);
  if (!write_lock.owns_lock() || early_fd_.get() < 0 || direct_fd_.get() < 0 ||
      early_write_.pending()) {
    return false;
  }
  std::string out;
  out.reserve(RecordBytes(changes) + kPageBytes);  // with its pad, usually
  off_t at = 0, record_at = 0;
  {
    std::lock_guard lock(mu_);
    if (!flushed_once_ || failed_ || overflowed_.load(std::memory_order_relaxed)) return false;
    if (txnid <= logged_upto_) return false;
    if (!AppendPending(txnid - 1, &out)) return false;
    at = NextAt();
    record_at = at + static_cast<off_t>(out.size());
    AppendRecord(generation_, txnid, changes, &out);
    PadToPage(at, &out);
    if (!Fits(out) || at % kPageBytes != 0 || out.size() % kPageBytes != 0) return false;
  }
  if (!CopyAligned(out, &early_buf_, &early_buf_bytes_)) return false;
  if (!early_write_.Start(early_fd_.get(), early_buf_.get(), out.size(), at)) return false;
  std::lock_guard lock(mu_);
  offset_ += out.size();
  early_upto_ = txnid;
  early_bytes_ = out.size();
  ++early_writes_;
  early_ = EarlyRecord{txnid, generation_, record_at, at + static_cast<off_t>(out.size())};
  return true;
}

void RedoLog::CollectEarlyWrite() {
  if (!early_write_.pending()) return;
  // The write went to the disk's cache; the flush makes it durable.
  const bool written = early_write_.Wait() && fdatasync(early_fd_.get()) == 0;
  const int write_errno = errno;
  std::lock_guard lock(mu_);
  if (!written) {
    failed_ = true;
    spdlog::warn("cannot write the redo log {}: {}; fsync flushes the whole store from now on",
                 path_, std::strerror(write_errno));
    return;
  }
  logged_upto_ = std::max(logged_upto_, early_upto_);
  bytes_written_ += early_bytes_;
}

void RedoLog::Abandoned(uint64_t txnid) {
  std::lock_guard write_lock(write_mu_);
  CollectEarlyWrite();
  EarlyRecord rec;
  {
    std::lock_guard lock(mu_);
    if (!early_ || early_->txnid != txnid) return;
    rec = *early_;
    early_.reset();
    if (rec.generation == generation_ && logged_upto_ >= txnid) logged_upto_ = txnid - 1;
  }
  // Unless a newer generation has written over it since, the record is still there:
  // overwrite it and the rest of its write with one pad of its generation.
  const off_t half_end =
      (rec.record_at / static_cast<off_t>(half_bytes_) + 1) * static_cast<off_t>(half_bytes_);
  Record there;
  if (!ReadRecord(fd_.get(), rec.record_at, half_end, &there) ||
      there.generation != rec.generation || there.txnid != txnid) {
    return;
  }
  std::string pad;
  AppendPad(rec.generation, static_cast<size_t>(rec.end - rec.record_at), &pad);
  if (!PwriteAll(fd_.get(), pad.data(), pad.size(), rec.record_at)) {
    std::lock_guard lock(mu_);
    failed_ = true;
    spdlog::error("cannot cancel the record of a failed commit in the redo log {} ({}): a crash "
                  "before the next flush of the store would redo transaction {}",
                  path_, std::strerror(errno), txnid);
  }
}

void RedoLog::Flushed(uint64_t synced_txnid) {
  std::lock_guard write_lock(write_mu_);  // no record is being written to the old half
  CollectEarlyWrite();
  std::lock_guard lock(mu_);
  if (flushed_once_ && synced_txnid <= synced_) return;
  flushed_once_ = true;
  synced_ = synced_txnid;
  while (!pending_.empty() && pending_.begin()->first <= synced_txnid) {
    pending_bytes_ -= RecordBytes(pending_.begin()->second);
    pending_.erase(pending_.begin());
  }
  // Txns after the flush that the old generation holds are written again in the new.
  logged_upto_ = synced_txnid;
  if (offset_ > 0) {
    half_ ^= 1;
    offset_ = 0;
    generation_ = NewGeneration();
  }
  overflowed_ = false;
}

bool RedoLog::WantsFlush() const { return BacklogPast(half_bytes_ / 4); }

bool RedoLog::MustFlush() const { return BacklogPast(half_bytes_ / 4 * 3); }

bool RedoLog::BacklogPast(size_t bytes) const {
  std::lock_guard lock(mu_);
  return overflowed_.load(std::memory_order_relaxed) ||
         std::max(offset_, pending_bytes_) > bytes;
}

uint64_t RedoLog::bytes_written() const {
  std::lock_guard lock(mu_);
  return bytes_written_;
}

uint64_t RedoLog::early_writes() const {
  std::lock_guard lock(mu_);
  return early_writes_;
}

Result<ReplayReport> ReplayRedoLog(MDB_env* env, const Tables& tables, const std::string& db_dir,
                                   const std::function<Status()>& before_done) {
  ReplayReport report;
  const std::string path = RedoLogPath(db_dir);
  ScopedFd fd(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return report;
    return IoError("cannot open the redo log " + path);
  }
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return report;  // its writer is live
  const size_t half = HalfOf(fd.get());
  if (half == 0) return report;
  std::map<uint64_t, std::string> records;
  ReadHalf(fd.get(), half, 0, &records);
  ReadHalf(fd.get(), half, 1, &records);
  report.logged = records.size();
  if (records.empty()) return report;

  uint64_t next = 0;
  for (;;) {
    MDB_txn* raw = nullptr;
    KVFS_RETURN_IF_ERROR(lmdb::FromRc(mdb_txn_begin(env, nullptr, 0, &raw), "begin a replay"));
    lmdb::Txn txn(raw);
    next = mdb_txn_id(raw);
    auto it = records.find(next);
    if (it == records.end()) break;
    bool map_full = false;
    Status st = ApplyTxnChanges(raw, tables, it->second, &map_full);
    if (st.ok()) st = lmdb::FromRc(txn.Commit(), "commit a replayed transaction");
    if (map_full) {
      txn.Abort();
      MDB_envinfo info;
      mdb_env_info(env, &info);
      KVFS_RETURN_IF_ERROR(
          lmdb::FromRc(mdb_env_set_mapsize(env, info.me_mapsize * 2), "grow the store map"));
      continue;
    }
    if (!st.ok()) {
      report.problem = "transaction " + std::to_string(next) + ": " + st.message();
      break;
    }
    ++report.replayed;
  }
  if (report.problem.empty() && records.rbegin()->first >= next) {
    report.problem = "the log continues at transaction " +
                     std::to_string(records.upper_bound(next)->first) + " but the store at " +
                     std::to_string(next - 1);
  }
  if (report.replayed > 0) {
    KVFS_RETURN_IF_ERROR(lmdb::FromRc(mdb_env_sync(env, 1), "flush the replayed transactions"));
  }
  if (before_done) KVFS_RETURN_IF_ERROR(before_done());
  if (report.problem.empty()) {
    if (!MarkEmpty(fd.get(), half)) return IoError("cannot mark the redo log " + path + " done");
  } else if (rename(path.c_str(), (path + ".unreplayed").c_str()) != 0) {
    return IoError("cannot set aside the redo log " + path);
  }
  return report;
}

bool WaitForRedoLogLock(const std::string& db_dir) {
  ScopedFd fd(open(RedoLogPath(db_dir).c_str(), O_RDONLY | O_CLOEXEC));
  return fd.get() < 0 || LockWithinASecond(fd.get());  // closing the fd drops the lock
}

bool RedoLogHasRecords(const std::string& db_dir) {
  ScopedFd fd(open(RedoLogPath(db_dir).c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  const size_t half = HalfOf(fd.get());
  return half > 0 && HasRecord(fd.get(), half);
}

bool RedoLogAwaitsReplay(const std::string& db_dir) {
  ScopedFd fd(open(RedoLogPath(db_dir).c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  // Its writer holds LOCK_EX while it runs; closing the fd drops this probe's lock.
  if (flock(fd.get(), LOCK_SH | LOCK_NB) != 0) return false;
  const size_t half = HalfOf(fd.get());
  return half > 0 && HasRecord(fd.get(), half);
}

}  // namespace kvfs::store
