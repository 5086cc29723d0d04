#pragma once
// Thin RAII handles over LMDB. A transaction aborts in its destructor unless it was
// committed; a cursor closes in its destructor. Handles are move-only and never
// convert implicitly to raw pointers. MDB_NOTFOUND is an ordinary outcome (an empty
// optional or false), not an error.

#include <lmdb.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kvfs::store::lmdb {

// Named databases an environment may hold (the store has 8 tables).
inline constexpr unsigned kMaxTables = 16;

// Maps an LMDB/errno return code to a Status. `what` names the operation.
Status FromRc(int rc, std::string_view what);

// FromRc for a commit or sync of the environment in `db_dir`. LMDB reports a short
// write as EIO, and a short write is how a full disk shows up in the middle of a
// commit; so an EIO while the disk holding the store has (almost) no free space left
// is reported as kNoSpace (ENOSPC to a FUSE writer), which says what to do.
Status FromWriteRc(int rc, std::string_view what, const std::string& db_dir);

inline MDB_val Val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view View(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

class Txn {
 public:
  Txn() = default;
  explicit Txn(MDB_txn* txn) : txn_(txn) {}
  Txn(Txn&& o) noexcept : txn_(o.txn_) { o.txn_ = nullptr; }
  Txn& operator=(Txn&& o) noexcept {
    Abort();
    txn_ = o.txn_;
    o.txn_ = nullptr;
    return *this;
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn() { Abort(); }

  // Returns the raw code so the caller can tell MDB_MAP_FULL from other errors.
  int Commit() {
    MDB_txn* t = txn_;
    txn_ = nullptr;
    return mdb_txn_commit(t);
  }
  void Abort() {
    if (txn_) mdb_txn_abort(txn_);
    txn_ = nullptr;
  }
  MDB_txn* get() const { return txn_; }

 private:
  MDB_txn* txn_ = nullptr;
};

class Cursor {
 public:
  Cursor(MDB_txn* txn, MDB_dbi dbi);
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor() {
    if (cur_) mdb_cursor_close(cur_);
  }
  bool ok() const { return cur_ != nullptr; }

  // Positions at the first key >= `key`; false when there is none.
  bool Seek(std::string_view key);
  bool First();
  bool Next();
  bool Last();
  bool Prev();
  std::string_view key() const { return View(k_); }
  std::string_view value() const { return View(v_); }
  // The code of the last move: MDB_NOTFOUND at the end, anything else but
  // MDB_SUCCESS an error (a damaged page), which the moves report only as false.
  int rc() const { return rc_; }
  // Deletes the entry under the cursor; the next Next() moves to the following one.
  int Delete() { return mdb_cursor_del(cur_, 0); }

 private:
  bool Op(MDB_cursor_op op);
  MDB_cursor* cur_ = nullptr;
  int rc_ = MDB_SUCCESS;
  MDB_val k_{0, nullptr};
  MDB_val v_{0, nullptr};
};

}  // namespace kvfs::store::lmdb
