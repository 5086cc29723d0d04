#include "store/txn_changes.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "base/bytes.h"
#include "store/lmdb.h"
#include "store/txn.h"

namespace kvfs::store {
namespace {

enum Kind : uint8_t { kPut = 1, kPatch = 2, kDel = 3 };

// Patches compare values in blocks of this many bytes.
constexpr size_t kBlock = 64;
// A patched value or a key is never longer than this (chunks are 64 KiB + a stamp).
constexpr uint32_t kMaxValue = 1u << 20;

std::array<MDB_dbi, 8> TableList(const Tables& t) {
  return {t.meta, t.inodes, t.dirents, t.chunks, t.xattrs, t.feed, t.objects, t.sync};
}

uint8_t TableIndex(const Tables& t, MDB_dbi dbi) {
  const auto all = TableList(t);
  return static_cast<uint8_t>(std::find(all.begin(), all.end(), dbi) - all.begin());
}

// The runs of blocks of `value` that differ from `old` (bytes past old's end differ),
// written straight into `out`: the count goes in once the runs are known.
void EncodeRuns(std::string_view old, std::string_view value, ByteWriter& out) {
  out.U32(static_cast<uint32_t>(old.size()));
  out.U32(static_cast<uint32_t>(value.size()));
  const size_t count_at = out.size();
  out.U32(0);
  uint32_t count = 0;
  size_t pos = 0;
  while (pos < value.size()) {
    auto differs = [&](size_t at) {
      const size_t n = std::min(kBlock, value.size() - at);
      return at + n > old.size() || std::memcmp(value.data() + at, old.data() + at, n) != 0;
    };
    if (!differs(pos)) {
      pos += kBlock;
      continue;
    }
    size_t end = pos + kBlock;
    while (end < value.size() && differs(end)) end += kBlock;
    end = std::min(end, value.size());
    out.U32(static_cast<uint32_t>(pos));
    out.Bytes(value.substr(pos, end - pos));
    ++count;
    pos = end;
  }
  out.U32At(count_at, count);
}

Status Malformed() {
  return Status(Code::kCorruption, "a redo-log transaction is malformed");
}

}  // namespace

void TxnChanges::Head(uint8_t kind, MDB_dbi dbi, std::string_view key) {
  out_.U8(kind);
  out_.U8(TableIndex(tables_, dbi));
  out_.Bytes(key);
}

void TxnChanges::Put(MDB_dbi dbi, std::string_view key, std::string_view value,
                     std::optional<std::string_view> old) {
  if (old && value.size() >= kPatchMinBytes) {
    Head(kPatch, dbi, key);
    EncodeRuns(*old, value, out_);
  } else {
    Head(kPut, dbi, key);
    out_.Bytes(value);
  }
}

void TxnChanges::Del(MDB_dbi dbi, std::string_view key) { Head(kDel, dbi, key); }

Status ApplyTxnChanges(MDB_txn* txn, const Tables& tables, std::string_view changes,
                       bool* map_full) {
  const auto all = TableList(tables);
  ByteReader r(changes);
  *map_full = false;
  while (!r.done()) {
    uint8_t kind = 0, table = 0;
    std::string key;
    if (!r.U8(&kind) || !r.U8(&table) || table >= all.size() || !r.Bytes(kMaxValue, &key)) {
      return Malformed();
    }
    MDB_val k = lmdb::Val(key);
    int rc = MDB_SUCCESS;
    std::string value;
    if (kind == kPut) {
      if (!r.Bytes(kMaxValue, &value)) return Malformed();
    } else if (kind == kPatch) {
      uint32_t old_len = 0, new_len = 0, count = 0;
      if (!r.U32(&old_len) || !r.U32(&new_len) || !r.U32(&count) || new_len > kMaxValue) {
        return Malformed();
      }
      MDB_val old;
      rc = mdb_get(txn, all[table], &k, &old);
      if (rc != MDB_SUCCESS || old.mv_size != old_len) {
        return Status(Code::kCorruption,
                      "a redo-log transaction patches a value the store does not hold");
      }
      value.assign(lmdb::View(old).substr(0, new_len));
      value.resize(new_len);
      for (uint32_t i = 0; i < count; ++i) {
        uint32_t offset = 0;
        std::string run;
        if (!r.U32(&offset) || !r.Bytes(kMaxValue, &run) || offset > new_len ||
            run.size() > new_len - offset) {
          return Malformed();
        }
        value.replace(offset, run.size(), run);
      }
    } else if (kind != kDel) {
      return Malformed();
    }
    if (kind == kDel) {
      rc = mdb_del(txn, all[table], &k, nullptr);
      if (rc == MDB_NOTFOUND) rc = MDB_SUCCESS;
    } else {
      MDB_val v = lmdb::Val(value);
      rc = mdb_put(txn, all[table], &k, &v, 0);
    }
    if (rc == MDB_MAP_FULL) *map_full = true;
    KVFS_RETURN_IF_ERROR(lmdb::FromRc(rc, "redo a logged transaction"));
  }
  return Status::Ok();
}

}  // namespace kvfs::store
