#include "sync/object_codec.h"

#include "store/path.h"

namespace kvfs::sync {
namespace {

Status Bad(const std::string& what) {
  return Status(Code::kCorruption, "malformed object from peer: " + what);
}

void PutOid(ByteWriter& w, const ObjectId& id) {
  w.U64(id.node);
  w.U64(id.serial);
}
void PutStamp(ByteWriter& w, const HlcStamp& s) {
  w.U64(s.time);
  w.U64(s.node);
}
void PutTime(ByteWriter& w, const Timespec& t) {
  w.I64(t.sec);
  w.U32(static_cast<uint32_t>(t.nsec));
}
void PutVersions(ByteWriter& w, const VersionVector& v) {
  w.U32(static_cast<uint32_t>(v.size()));
  for (const auto& s : v) {
    w.U64(s.node);
    w.U64(s.counter);
  }
}

bool GetOid(ByteReader& r, ObjectId* id) { return r.U64(&id->node) && r.U64(&id->serial); }
bool GetStamp(ByteReader& r, HlcStamp* s) { return r.U64(&s->time) && r.U64(&s->node); }
bool GetTime(ByteReader& r, Timespec* t) {
  uint32_t ns;
  if (!r.I64(&t->sec) || !r.U32(&ns) || ns >= 1000000000u) return false;
  t->nsec = ns;
  return true;
}
// Counts are checked against what remains (each element takes >= min_size bytes).
bool GetCount(ByteReader& r, size_t max, size_t min_size, uint32_t* n) {
  return r.U32(n) && *n <= max && *n <= r.remaining() / min_size;
}
bool GetVersions(ByteReader& r, VersionVector* v) {
  uint32_t n;
  if (!GetCount(r, kMaxVersionSlots, 16, &n)) return false;
  v->resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!r.U64(&(*v)[i].node) || !r.U64(&(*v)[i].counter)) return false;
    if (i > 0 && (*v)[i].node <= (*v)[i - 1].node) return false;  // sorted, unique
  }
  return true;
}

}  // namespace

void EncodeObject(const ObjectState& s, ByteWriter& w) {
  w.U8(kObjectCodecVersion);
  PutOid(w, s.oid);
  w.U8(static_cast<uint8_t>(s.type));
  w.U32(static_cast<uint32_t>(s.links.size()));
  for (const auto& l : s.links) {
    PutOid(w, l.parent);
    w.Bytes(l.name);
  }
  PutStamp(w, s.name_stamp);
  PutStamp(w, s.delete_stamp);
  PutVersions(w, s.delete_versions);
  w.U32(s.mode);
  w.U32(s.uid);
  w.U32(s.gid);
  PutStamp(w, s.attr_stamp);
  PutTime(w, s.atime);
  PutTime(w, s.mtime);
  PutStamp(w, s.times_stamp);
  w.U32(static_cast<uint32_t>(s.xattrs.size()));
  for (const auto& [k, v] : s.xattrs) {
    w.Bytes(k);
    w.Bytes(v);
  }
  PutStamp(w, s.xattr_stamp);
  w.U64(s.size);
  w.Bytes(s.symlink_target);
  w.U32(static_cast<uint32_t>(s.chunks.size()));
  for (const auto& c : s.chunks) {
    w.U64(c.index);
    PutStamp(w, c.stamp);
  }
  PutVersions(w, s.content_versions);
  PutStamp(w, s.content_stamp);
}

std::string EncodeObject(const ObjectState& s) {
  ByteWriter w;
  EncodeObject(s, w);
  return w.Take();
}

Status DecodeObject(ByteReader& r, ObjectState* out) {
  ObjectState s;
  uint8_t version, type;
  uint32_t n;
  if (!r.U8(&version)) return Bad("empty");
  if (version != kObjectCodecVersion) {
    return Status(Code::kVersion, "peer sent object format " + std::to_string(version) +
                                      "; upgrade kvfs on both machines");
  }
  if (!GetOid(r, &s.oid) || !r.U8(&type) || type < 1 || type > 3) return Bad("header");
  s.type = static_cast<FileType>(type);
  if (!GetCount(r, kMaxLinks, 20, &n)) return Bad("link count");
  s.links.resize(n);
  for (auto& l : s.links) {
    if (!GetOid(r, &l.parent) || !r.Bytes(store::kMaxNameLen, &l.name)) return Bad("link");
    if (!store::ValidateName(l.name).ok()) return Bad("invalid name");
  }
  if (!GetStamp(r, &s.name_stamp) || !GetStamp(r, &s.delete_stamp) ||
      !GetVersions(r, &s.delete_versions) || !r.U32(&s.mode) || !r.U32(&s.uid) ||
      !r.U32(&s.gid) || !GetStamp(r, &s.attr_stamp) || !GetTime(r, &s.atime) ||
      !GetTime(r, &s.mtime) || !GetStamp(r, &s.times_stamp)) {
    return Bad("attributes");
  }
  if (s.mode > 07777) return Bad("mode");
  if (!GetCount(r, kMaxXattrs, 8, &n)) return Bad("xattr count");
  for (uint32_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!r.Bytes(store::kMaxNameLen, &k) || k.empty() || !r.Bytes(store::kMaxXattrValue, &v)) {
      return Bad("xattr");
    }
    s.xattrs[std::move(k)] = std::move(v);
  }
  if (!GetStamp(r, &s.xattr_stamp) || !r.U64(&s.size) ||
      !r.Bytes(store::kMaxSymlinkLen, &s.symlink_target)) {
    return Bad("content header");
  }
  if (s.size > store::kMaxFileSize) return Bad("size");
  const uint64_t max_chunks = (s.size + store::kChunkSize - 1) / store::kChunkSize;
  if (!GetCount(r, static_cast<size_t>(std::min<uint64_t>(max_chunks, UINT32_MAX)), 24, &n)) {
    return Bad("chunk count");
  }
  s.chunks.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!r.U64(&s.chunks[i].index) || !GetStamp(r, &s.chunks[i].stamp)) return Bad("chunk");
    if (s.chunks[i].index >= max_chunks || (i > 0 && s.chunks[i].index <= s.chunks[i - 1].index)) {
      return Bad("chunk index");
    }
  }
  if (!GetVersions(r, &s.content_versions) || !GetStamp(r, &s.content_stamp)) {
    return Bad("content versions");
  }
  if (s.type != FileType::kRegular && (!s.chunks.empty())) return Bad("chunks on a non-file");
  if (s.type == FileType::kSymlink && s.symlink_target.empty()) return Bad("empty symlink");
  *out = std::move(s);
  return Status::Ok();
}

Result<ObjectState> DecodeObject(std::string_view bytes) {
  ByteReader r(bytes);
  ObjectState s;
  KVFS_RETURN_IF_ERROR(DecodeObject(r, &s));
  if (!r.done()) return Bad("trailing bytes");
  return s;
}

}  // namespace kvfs::sync
