#include "store/record_codec.h"

#include <sys/stat.h>

#include <cstdio>

#include "base/bytes.h"

namespace kvfs::store {
namespace {

void PutTime(ByteWriter& w, const Timespec& t) {
  w.I64(t.sec);
  w.U32(static_cast<uint32_t>(t.nsec));
}

bool GetTime(ByteReader& r, Timespec* t) {
  uint32_t nsec;
  if (!r.I64(&t->sec) || !r.U32(&nsec) || nsec >= 1000000000u) return false;
  t->nsec = nsec;
  return true;
}

bool ValidType(uint8_t t) { return t >= 1 && t <= 3; }

void PutVersions(ByteWriter& w, const std::vector<VersionSlot>& versions) {
  w.U32(static_cast<uint32_t>(versions.size()));
  for (const VersionSlot& v : versions) {
    w.U64(v.node);
    w.U64(v.counter);
  }
}

bool GetVersions(ByteReader& r, std::vector<VersionSlot>* out) {
  uint32_t count;
  if (!r.U32(&count) || count > r.remaining() / 16) return false;
  out->resize(count);
  for (VersionSlot& v : *out) {
    if (!r.U64(&v.node) || !r.U64(&v.counter)) return false;
  }
  return true;
}

Status Corrupt(const char* what, uint64_t id) {
  return Status(Code::kCorruption, std::string("corrupt ") + what + " record " +
                                       std::to_string(id) +
                                       "; the store is damaged: restore it from a peer or backup");
}

}  // namespace

uint32_t Inode::StMode() const {
  uint32_t type_bits = S_IFREG;
  if (type == FileType::kDirectory) type_bits = S_IFDIR;
  if (type == FileType::kSymlink) type_bits = S_IFLNK;
  return type_bits | (mode & 07777);
}

std::string ObjectId::ToString() const {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx-%llu", static_cast<unsigned long long>(node),
                static_cast<unsigned long long>(serial));
  return buf;
}

const char* ChangeOpName(ChangeOp op) {
  switch (op) {
    case ChangeOp::kCreate: return "create";
    case ChangeOp::kWrite: return "write";
    case ChangeOp::kAttr: return "attr";
    case ChangeOp::kRename: return "rename";
    case ChangeOp::kDelete: return "delete";
    case ChangeOp::kXattr: return "xattr";
    case ChangeOp::kLink: return "link";
    case ChangeOp::kMerge: return "merge";
  }
  return "unknown";
}

std::string EncodeStamp(const HlcStamp& stamp) {
  ByteWriter w;
  w.U64(stamp.time);
  w.U64(stamp.node);
  return w.Take();
}

bool DecodeStamp(std::string_view bytes, HlcStamp* out) {
  ByteReader r(bytes);
  return r.U64(&out->time) && r.U64(&out->node);
}

std::string EncodeInode(const Inode& n) {
  ByteWriter w;
  w.U8(kInodeRecordVersion);
  w.U64(n.oid.node);
  w.U64(n.oid.serial);
  w.U8(static_cast<uint8_t>(n.type));
  w.U8(n.deleted ? 1 : 0);
  w.U32(n.mode);
  w.U32(n.uid);
  w.U32(n.gid);
  w.U64(n.size);
  PutTime(w, n.atime);
  PutTime(w, n.mtime);
  PutTime(w, n.ctime);
  w.U32(n.nlink);
  w.U32(static_cast<uint32_t>(n.links.size()));
  for (const Link& l : n.links) {
    w.U64(l.parent);
    w.Bytes(l.name);
  }
  w.Bytes(n.symlink_target);
  w.U64(n.stamp.time);
  w.U64(n.stamp.node);
  PutVersions(w, n.versions);
  w.U64(n.seq);
  for (const HlcStamp* st : {&n.name_stamp, &n.attr_stamp, &n.content_stamp, &n.delete_stamp,
                              &n.times_stamp, &n.xattr_stamp}) {
    w.U64(st->time);
    w.U64(st->node);
  }
  PutVersions(w, n.content_versions);
  PutVersions(w, n.delete_versions);
  return w.Take();
}

Result<Inode> DecodeInode(Ino ino, std::string_view bytes) {
  ByteReader r(bytes);
  Inode n;
  n.ino = ino;
  uint8_t version, type, deleted;
  uint32_t link_count;
  if (!r.U8(&version)) return Corrupt("inode", ino);
  if (version != kInodeRecordVersion) {
    return Status(Code::kVersion, "inode record " + std::to_string(ino) + " has format " +
                                      std::to_string(version) +
                                      "; upgrade kvfs to read this store");
  }
  if (!r.U64(&n.oid.node) || !r.U64(&n.oid.serial) || !r.U8(&type) || !ValidType(type) ||
      !r.U8(&deleted) || !r.U32(&n.mode) || !r.U32(&n.uid) || !r.U32(&n.gid) ||
      !r.U64(&n.size) || !GetTime(r, &n.atime) || !GetTime(r, &n.mtime) ||
      !GetTime(r, &n.ctime) || !r.U32(&n.nlink) || !r.U32(&link_count) ||
      link_count > r.remaining() / 12) {
    return Corrupt("inode", ino);
  }
  n.type = static_cast<FileType>(type);
  n.deleted = deleted != 0;
  n.links.resize(link_count);
  for (Link& l : n.links) {
    if (!r.U64(&l.parent) || !r.Bytes(kMaxNameLen, &l.name)) return Corrupt("inode", ino);
  }
  if (!r.Bytes(kMaxSymlinkLen, &n.symlink_target) || !r.U64(&n.stamp.time) ||
      !r.U64(&n.stamp.node) || !GetVersions(r, &n.versions) || !r.U64(&n.seq)) {
    return Corrupt("inode", ino);
  }
  for (HlcStamp* st : {&n.name_stamp, &n.attr_stamp, &n.content_stamp, &n.delete_stamp,
                              &n.times_stamp, &n.xattr_stamp}) {
    if (!r.U64(&st->time) || !r.U64(&st->node)) return Corrupt("inode", ino);
  }
  if (!GetVersions(r, &n.content_versions) || !GetVersions(r, &n.delete_versions) ||
      !r.done()) {
    return Corrupt("inode", ino);
  }
  return n;
}

std::string EncodeChange(const Change& c) {
  ByteWriter w;
  w.U8(kChangeRecordVersion);
  w.U64(c.ino);
  w.U8(static_cast<uint8_t>(c.op));
  w.U64(c.stamp.time);
  w.U64(c.stamp.node);
  return w.Take();
}

Result<Change> DecodeChange(uint64_t seq, std::string_view bytes) {
  ByteReader r(bytes);
  Change c;
  c.seq = seq;
  uint8_t version, op;
  if (!r.U8(&version)) return Corrupt("change feed", seq);
  if (version != kChangeRecordVersion) {
    return Status(Code::kVersion, "change feed record " + std::to_string(seq) + " has format " +
                                      std::to_string(version) +
                                      "; upgrade kvfs to read this store");
  }
  if (!r.U64(&c.ino) || !r.U8(&op) || op < 1 || op > 8 || !r.U64(&c.stamp.time) ||
      !r.U64(&c.stamp.node) || !r.done()) {
    return Corrupt("change feed", seq);
  }
  c.op = static_cast<ChangeOp>(op);
  return c;
}

std::string EncodeDirent(Ino child, FileType type) {
  ByteWriter w;
  w.U64(child);
  w.U8(static_cast<uint8_t>(type));
  return w.Take();
}

bool DecodeDirent(std::string_view bytes, Ino* child, FileType* type) {
  ByteReader r(bytes);
  uint8_t t;
  if (!r.U64(child) || !r.U8(&t) || !ValidType(t) || !r.done()) return false;
  *type = static_cast<FileType>(t);
  return true;
}

}  // namespace kvfs::store
