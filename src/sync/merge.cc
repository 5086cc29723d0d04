#include "sync/merge.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <tuple>

namespace kvfs::sync {
namespace {

// Last writer wins: the larger stamp, then the larger value, so that the result is
// the same whichever side is "local".
template <typename T>
bool RemoteWins(const HlcStamp& ls, const T& lv, const HlcStamp& rs, const T& rv) {
  if (rs != ls) return rs > ls;
  return lv < rv;
}

auto VersionsKey(const VersionVector& v) {
  std::vector<std::pair<uint64_t, uint64_t>> key;
  for (const auto& s : v) key.emplace_back(s.node, s.counter);
  return key;
}

auto ContentKey(const ObjectState& s) {
  return std::tie(s.size, s.symlink_target, s.chunks);
}

void TakeContent(ObjectState& to, const ObjectState& from) {
  to.size = from.size;
  to.symlink_target = from.symlink_target;
  to.chunks = from.chunks;
  to.content_versions = from.content_versions;
  to.content_stamp = from.content_stamp;
}

uint64_t Fnv1a(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 1099511628211ull;
  }
  return h;
}

ConflictCopy MakeCopy(const ObjectState& loser, Side side) {
  ConflictCopy copy;
  ObjectState& c = copy.state;
  const HlcStamp& st = loser.content_stamp;
  c.oid = ConflictCopyId(loser.oid, st);
  c.type = loser.type;
  if (!loser.links.empty()) {
    c.links.push_back({loser.links.front().parent, ConflictName(loser.links.front().name, st)});
  }
  c.name_stamp = c.attr_stamp = c.times_stamp = c.xattr_stamp = c.content_stamp = st;
  c.mode = loser.mode;
  c.uid = loser.uid;
  c.gid = loser.gid;
  c.atime = loser.atime;
  c.mtime = loser.mtime;
  c.xattrs = loser.xattrs;
  c.size = loser.size;
  c.symlink_target = loser.symlink_target;
  c.chunks = loser.chunks;
  c.content_versions = loser.content_versions;
  copy.content_from = side;
  return copy;
}

}  // namespace

ObjectId ConflictCopyId(const ObjectId& oid, const HlcStamp& loser_stamp) {
  uint64_t h = 14695981039346656037ull;
  for (uint64_t v : {oid.node, oid.serial, loser_stamp.time, loser_stamp.node}) h = Fnv1a(h, v);
  // The top bit keeps copy ids apart from ids minted from inode numbers.
  return ObjectId{loser_stamp.node, h | (uint64_t{1} << 63)};
}

std::string ConflictName(const std::string& name, const HlcStamp& stamp) {
  const uint64_t ms = stamp.physical_ms();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  // Milliseconds and the logical counter make the name unique per stamp, so two
  // copies minted by one node within one second never take the same name.
  char logical[16] = "";
  if (stamp.logical() != 0) std::snprintf(logical, sizeof logical, ".%u", stamp.logical());
  char suffix[80];
  std::snprintf(suffix, sizeof suffix, ".sync-conflict-%04d%02d%02d-%02d%02d%02d.%03u%s-%08llx",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned>(ms % 1000), logical,
                static_cast<unsigned long long>(stamp.node >> 32));
  std::string s(suffix);
  return name.substr(0, std::min(name.size(), store::kMaxNameLen - s.size())) + s;
}

std::string DisplacedName(const std::string& name, const ObjectId& oid, const HlcStamp& stamp) {
  const std::string suffix = ConflictName("", stamp);
  const size_t at = name.find(suffix);
  if (at == std::string::npos) return ConflictName(name, stamp);
  // It lost its conflict name too: the conflict name plus a hash of its id, stamp and
  // the name it lost, so each further step gives another name of the same length.
  uint64_t h = 14695981039346656037ull;
  for (uint64_t v : {oid.node, oid.serial, stamp.time, stamp.node, uint64_t{name.size()}}) {
    h = Fnv1a(h, v);
  }
  for (unsigned char c : name) h = Fnv1a(h, c);
  char hex[24];
  std::snprintf(hex, sizeof hex, "-%016llx", static_cast<unsigned long long>(h));
  const std::string tail = suffix + hex;
  std::string out = name.substr(0, std::min(at, store::kMaxNameLen - tail.size())) + tail;
  if (out == name) out.back() = out.back() == '0' ? '1' : '0';  // never a fixed point
  return out;
}

MergeOutcome MergeObject(const ObjectState& local, const ObjectState& remote) {
  MergeOutcome out;
  ObjectState& m = out.state;
  m = local;
  if (RemoteWins(local.name_stamp, local.links, remote.name_stamp, remote.links)) {
    m.links = remote.links;
    m.name_stamp = remote.name_stamp;
  }
  if (RemoteWins(local.delete_stamp, VersionsKey(local.delete_versions), remote.delete_stamp,
                 VersionsKey(remote.delete_versions))) {
    m.delete_stamp = remote.delete_stamp;
    m.delete_versions = remote.delete_versions;
  }
  if (RemoteWins(local.attr_stamp, std::tie(local.mode, local.uid, local.gid), remote.attr_stamp,
                 std::tie(remote.mode, remote.uid, remote.gid))) {
    m.mode = remote.mode;
    m.uid = remote.uid;
    m.gid = remote.gid;
    m.attr_stamp = remote.attr_stamp;
  }
  if (RemoteWins(local.times_stamp, std::tie(local.atime, local.mtime), remote.times_stamp,
                 std::tie(remote.atime, remote.mtime))) {
    m.atime = remote.atime;
    m.mtime = remote.mtime;
    m.times_stamp = remote.times_stamp;
  }
  if (RemoteWins(local.xattr_stamp, local.xattrs, remote.xattr_stamp, remote.xattrs)) {
    m.xattrs = remote.xattrs;
    m.xattr_stamp = remote.xattr_stamp;
  }

  switch (Compare(local.content_versions, remote.content_versions)) {
    case VvOrder::kAfter:
      break;
    case VvOrder::kBefore:
      TakeContent(m, remote);
      out.content_from = Side::kRemote;
      break;
    case VvOrder::kEqual:
      // Same history: the same bytes, unless two peers minted one conflict copy.
      if (RemoteWins(local.content_stamp, ContentKey(local), remote.content_stamp,
                     ContentKey(remote))) {
        TakeContent(m, remote);
        out.content_from = Side::kRemote;
      }
      break;
    case VvOrder::kConcurrent: {
      // Ranking by stamp alone keeps the join associative. (Ranking a deleted side's
      // version below a live one reads better but depends on the delete register,
      // which breaks associativity: the property tests catch it.)
      const bool remote_wins = RemoteWins(local.content_stamp, ContentKey(local),
                                          remote.content_stamp, ContentKey(remote));
      const ObjectState& loser = remote_wins ? local : remote;
      if (remote_wins) {
        TakeContent(m, remote);
        out.content_from = Side::kRemote;
      }
      m.content_versions = Join(local.content_versions, remote.content_versions);
      // A version that a later delete had seen was thrown away on purpose: no copy.
      const bool loser_deleted_knowingly =
          !m.delete_stamp.IsZero() && Dominates(m.delete_versions, loser.content_versions);
      if (!loser_deleted_knowingly && loser.type == FileType::kRegular) {
        out.conflict = MakeCopy(loser, remote_wins ? Side::kLocal : Side::kRemote);
      }
      break;
    }
  }
  m.Canonicalize();
  out.changed = !(m == local);
  return out;
}

}  // namespace kvfs::sync
