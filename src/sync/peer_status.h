#pragma once
// Per-peer bookkeeping that outlives a connection, kept in the store's sync table so
// that `kvfs status` (another process, reading the store) can show it:
//
//   'r' | node   how far we applied the peer's feed      (Inbox, exchange.h)
//   'h' | node   the peer's own last seq, as last told    (Inbox::NotePeerHead)
//   'a' | node   how far the peer applied our feed        (Inbox::NotePeerHead)
//   'n' | node   contact record (below), written by the session at HELLO, about every
//                few seconds while traffic flows, and when the connection ends
//
// A contact record says "connected" only while the process `pid` lives: a daemon
// killed with -9 cannot clear it, so readers check the pid (PeerStatus::live).
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/txn.h"

namespace kvfs::sync {

struct PeerContact {
  uint64_t node = 0;
  std::string address;           // the other end as last seen, "ADDR:PORT"
  uint64_t last_contact_ms = 0;  // wall clock of the last message received
  bool connected = false;
  uint32_t pid = 0;       // process that holds (or held) the connection
  bool outgoing = false;  // we dialled it
};

std::string ContactKey(uint64_t node);
Status WriteContact(store::WriteTxn& t, const PeerContact& contact);

// What `kvfs status` shows for one peer.
struct PeerStatus {
  PeerContact contact;
  uint64_t cursor = 0;       // their feed applied here
  uint64_t peer_head = 0;    // their last seq, as last told
  uint64_t acked = 0;        // our feed they applied, as last told
  uint64_t pending_out = 0;  // our changed objects after `acked` (counted up to a cap)
  bool pending_out_capped = false;
  uint64_t pending_in = 0;  // peer_head - cursor: feed positions, an upper bound on objects
  bool live = false;        // connected, and the connecting process still runs
};

// Every peer this store has bookkeeping for, by node id.
Result<std::vector<PeerStatus>> ReadPeerStatus(store::ReadTxn& t);

}  // namespace kvfs::sync
