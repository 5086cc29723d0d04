#include "store/checkpoint.h"

#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

#include "base/bytes.h"
#include "base/file_io.h"
#include "store/lmdb.h"

namespace kvfs::store {
namespace {

constexpr uint32_t kMagic = 0x6b766370;  // "kvcp"
// Room for a slot with meta pages of up to 64 KiB each.
constexpr size_t kSlotBytes = size_t{256} << 10;
constexpr size_t kSumBytes = 16;
constexpr size_t kMaxBootIdBytes = 64;

std::string Sum(std::string_view bytes) {
  unsigned char out[kSumBytes];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string EncodeSlot(uint64_t seq, const Checkpoint& cp) {
  ByteWriter w;
  w.U32(kMagic);
  w.U64(seq);
  w.U64(cp.txnid);
  w.Bytes(cp.boot_id);
  w.Bytes(cp.meta_pages);
  w.Raw(Sum(w.str()));
  return w.Take();
}

// The slot at `at`, if it holds a whole, valid one.
bool ReadSlot(int fd, off_t at, uint64_t* seq, Checkpoint* cp) {
  std::string head(4 + 8 + 8 + 4, '\0');
  if (!PreadAll(fd, head.data(), head.size(), at)) return false;
  ByteReader h(head);
  uint32_t magic = 0, boot_len = 0;
  if (!h.U32(&magic) || magic != kMagic || !h.U64(seq) || !h.U64(&cp->txnid) || !h.U32(&boot_len) ||
      boot_len > kMaxBootIdBytes) {
    return false;
  }
  // The boot id, the meta pages' length, then the pages and the sum.
  std::string mid(boot_len + 4, '\0');
  if (!PreadAll(fd, mid.data(), mid.size(), at + static_cast<off_t>(head.size()))) return false;
  ByteReader m(mid);
  std::string_view boot;
  uint32_t pages_len = 0;
  if (!m.Raw(boot_len, &boot) || !m.U32(&pages_len)) return false;
  const size_t whole = head.size() + mid.size() + pages_len + kSumBytes;
  if (whole > kSlotBytes) return false;
  std::string all(whole, '\0');
  if (!PreadAll(fd, all.data(), all.size(), at)) return false;
  const std::string_view body = std::string_view(all).substr(0, whole - kSumBytes);
  if (Sum(body) != std::string_view(all).substr(whole - kSumBytes)) return false;
  cp->boot_id = std::string(boot);
  cp->meta_pages = all.substr(head.size() + mid.size(), pages_len);
  return true;
}

// data.mdb's newest transaction, read from its meta pages alone (LMDB reads no other
// page to open an environment), so it works on a store whose tree is damaged.
Result<uint64_t> NewestTxnId(const std::string& db_dir) {
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != MDB_SUCCESS) return lmdb::FromRc(rc, "create an LMDB environment");
  rc = mdb_env_set_maxdbs(env, lmdb::kMaxTables);
  if (rc == MDB_SUCCESS) rc = mdb_env_open(env, db_dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0600);
  MDB_envinfo info{};
  if (rc == MDB_SUCCESS) rc = mdb_env_info(env, &info);
  mdb_env_close(env);
  if (rc != MDB_SUCCESS) return lmdb::FromRc(rc, "read the newest transaction of " + db_dir);
  return static_cast<uint64_t>(info.me_last_txnid);
}

}  // namespace

std::string CheckpointPath(const std::string& db_dir) { return db_dir + "/checkpoint"; }

std::string CurrentBootId() {
  // For tests that stage a reboot under a real mount (tests/integration/powercut.sh).
  if (const char* staged = std::getenv("KVFS_BOOT_ID"); staged != nullptr && *staged != '\0') {
    return std::string(staged).substr(0, kMaxBootIdBytes);
  }
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id.size() <= kMaxBootIdBytes ? id : id.substr(0, kMaxBootIdBytes);
}

Result<std::string> ReadMetaPages(MDB_env* env) {
  MDB_stat stat{};
  int fd = -1;
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(mdb_env_stat(env, &stat), "read the store's page size"));
  KVFS_RETURN_IF_ERROR(lmdb::FromRc(mdb_env_get_fd(env, &fd), "find the store's file"));
  std::string pages(2 * size_t{stat.ms_psize}, '\0');
  if (!PreadAll(fd, pages.data(), pages.size(), 0)) {
    return IoError("cannot read the meta pages of the store's data.mdb");
  }
  return pages;
}

Result<CheckpointFile> CheckpointFile::Open(const std::string& db_dir, bool pin_holder) {
  const std::string path = CheckpointPath(db_dir);
  ScopedFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return IoError("cannot open " + path);
  if (pin_holder) {
    while (flock(fd.get(), LOCK_SH) != 0) {
      if (errno != EINTR) return IoError("cannot lock " + path);
    }
  }
  return CheckpointFile(std::move(fd), path);
}

std::optional<CheckpointFile::Slot> CheckpointFile::Newest() const {
  std::optional<Slot> newest;
  for (int i = 0; i < 2; ++i) {
    Slot slot;
    if (ReadSlot(fd_.get(), static_cast<off_t>(i * kSlotBytes), &slot.seq, &slot.cp) &&
        (!newest || slot.seq > newest->seq)) {
      newest = std::move(slot);
    }
  }
  return newest;
}

std::optional<Checkpoint> CheckpointFile::Current() const {
  auto newest = Newest();
  if (!newest || newest->cp.txnid == 0) return std::nullopt;
  return newest->cp;
}

Status CheckpointFile::WriteSlot(const Checkpoint& cp) {
  const auto newest = Newest();
  const uint64_t seq = newest ? newest->seq + 1 : 1;
  const std::string slot = EncodeSlot(seq, cp);
  if (slot.size() > kSlotBytes) {
    return Status(Code::kInvalid, "the store's meta pages are too large for a checkpoint");
  }
  // The other slot than the newest: a torn write leaves the newest whole.
  const off_t at = static_cast<off_t>((seq % 2) * kSlotBytes);
  if (!PwriteAll(fd_.get(), slot.data(), slot.size(), at) || fdatasync(fd_.get()) != 0) {
    return IoError("cannot write the checkpoint " + path_);
  }
  return Status::Ok();
}

Status CheckpointFile::Record(const Checkpoint& cp) {
  if (auto current = Current(); current && current->txnid > cp.txnid) return Status::Ok();
  return WriteSlot(cp);
}

Status CheckpointFile::Clear() {
  if (!Current()) return Status::Ok();
  return WriteSlot(Checkpoint{});
}

bool CheckpointFile::Pinned() const {
  ScopedFd probe(open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  // A pin holder's shared lock refuses this exclusive one; closing the fd drops it.
  return probe.get() >= 0 && flock(probe.get(), LOCK_EX | LOCK_NB) != 0;
}

bool CheckpointOfAnotherBoot(const std::string& db_dir, const std::string& boot_id) {
  if (access(CheckpointPath(db_dir).c_str(), F_OK) != 0) return false;
  auto file = CheckpointFile::Open(db_dir, /*pin_holder=*/false);
  if (!file.ok()) return false;
  auto cp = file->Current();
  return cp && cp->boot_id != boot_id;
}

Result<bool> RestoreCheckpointAfterReboot(const std::string& db_dir, const std::string& boot_id) {
  if (!CheckpointOfAnotherBoot(db_dir, boot_id)) return false;
  KVFS_ASSIGN_OR_RETURN(CheckpointFile file, CheckpointFile::Open(db_dir, /*pin_holder=*/false));
  const std::optional<Checkpoint> cp = file.Current();
  if (!cp) return false;
  KVFS_ASSIGN_OR_RETURN(uint64_t newest, NewestTxnId(db_dir));
  if (newest <= cp->txnid) return false;  // nothing was committed after it
  const std::string data = db_dir + "/data.mdb";
  ScopedFd fd(open(data.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0 || !PwriteAll(fd.get(), cp->meta_pages.data(), cp->meta_pages.size(), 0) ||
      fdatasync(fd.get()) != 0) {
    return IoError("cannot write the checkpoint's meta pages back into " + data);
  }
  spdlog::warn(
      "{}: the machine stopped (power cut or crash) before the store was flushed; "
      "it is set back to its last flush (transaction {}, was {}), and the redo log "
      "redoes what fsync made durable since",
      db_dir, cp->txnid, newest);
  return true;
}

}  // namespace kvfs::store
