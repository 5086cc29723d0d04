#include "sync/peer_status.h"

#include <signal.h>

#include <cerrno>
#include <map>

#include "base/bytes.h"
#include "store/keys.h"
#include "sync/exchange.h"

namespace kvfs::sync {
namespace {

constexpr uint8_t kContactFormat = 1;
constexpr size_t kMaxAddressLen = 256;
// `kvfs status` counts pending objects up to this many, then says "at least".
constexpr size_t kPendingCountCap = 100000;

Status DecodeContact(std::string_view bytes, PeerContact* c) {
  ByteReader r(bytes);
  uint8_t format, connected, outgoing;
  if (!r.U8(&format) || format != kContactFormat || !r.U64(&c->last_contact_ms) ||
      !r.U8(&connected) || !r.U8(&outgoing) || !r.U32(&c->pid) ||
      !r.Bytes(kMaxAddressLen, &c->address) || !r.done()) {
    return Status(Code::kCorruption, "unreadable peer contact record");
  }
  c->connected = connected != 0;
  c->outgoing = outgoing != 0;
  return Status::Ok();
}

uint64_t NodeOfKey(std::string_view key) {
  return key.size() == 9 ? store::keys::DecodeU64(key.substr(1)) : 0;
}

Result<uint64_t> GetU64(store::ReadTxn& t, const std::string& key) {
  KVFS_ASSIGN_OR_RETURN(auto v, t.GetSyncValue(key));
  return v && v->size() == 8 ? store::keys::DecodeU64(*v) : uint64_t{0};
}

bool ProcessRuns(uint32_t pid) {
  return pid != 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace

std::string ContactKey(uint64_t node) {
  ByteWriter w;
  w.U8('n');
  w.U64(node);
  return w.Take();
}

Status WriteContact(store::WriteTxn& t, const PeerContact& c) {
  ByteWriter w;
  w.U8(kContactFormat);
  w.U64(c.last_contact_ms);
  w.U8(c.connected ? 1 : 0);
  w.U8(c.outgoing ? 1 : 0);
  w.U32(c.pid);
  w.Bytes(c.address.substr(0, kMaxAddressLen));
  return t.PutSyncValue(ContactKey(c.node), w.Take());
}

Result<std::vector<PeerStatus>> ReadPeerStatus(store::ReadTxn& t) {
  std::map<uint64_t, PeerStatus> peers;
  for (char tag : {'n', 'r', 'a'}) {
    KVFS_ASSIGN_OR_RETURN(auto entries, t.ScanSync(std::string(1, tag)));
    for (const auto& [key, value] : entries) {
      const uint64_t node = NodeOfKey(key);
      if (node == 0) continue;
      PeerStatus& p = peers[node];
      p.contact.node = node;
      if (tag == 'n' && !DecodeContact(value, &p.contact).ok()) p.contact.address = "?";
    }
  }
  KVFS_ASSIGN_OR_RETURN(uint64_t last_seq, t.LastSeq());
  std::vector<PeerStatus> out;
  for (auto& [node, p] : peers) {
    KVFS_ASSIGN_OR_RETURN(p.cursor, GetU64(t, CursorKey(node)));
    KVFS_ASSIGN_OR_RETURN(p.peer_head, GetU64(t, PeerHeadKey(node)));
    KVFS_ASSIGN_OR_RETURN(p.acked, GetU64(t, PeerAckedKey(node)));
    p.pending_in = p.peer_head > p.cursor ? p.peer_head - p.cursor : 0;
    if (p.acked < last_seq) {
      KVFS_ASSIGN_OR_RETURN(auto changes, t.ChangesSince(p.acked, kPendingCountCap + 1));
      p.pending_out = std::min(changes.size(), kPendingCountCap);
      p.pending_out_capped = changes.size() > kPendingCountCap;
    }
    p.live = p.contact.connected && ProcessRuns(p.contact.pid);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace kvfs::sync
