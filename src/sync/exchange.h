#pragma once
// The transport-independent halves of a sync exchange, used by the network session
// and by in-process tests alike.
//
// Outbox (sending side): reads the change feed after the peer's cursor and turns each
// changed object into an OutgoingObject: its replicated state plus, for small files,
// the bytes of its chunks inline. Big files' chunks are sent only when the receiver
// asks for them (WANT), so a 1-byte change to a 1 GiB file costs one chunk.
//
// Inbox (receiving side): tells which chunks an object still needs, stages fetched
// chunks in the store's sync table (so an interrupted transfer resumes where it
// stopped), and applies an object in ONE write transaction together with the new
// cursor for the sending peer: a sync cut at any byte leaves nothing half-applied.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"
#include "sync/object_state.h"
#include "sync/replica.h"

namespace kvfs::sync {

// Objects whose chunk bytes add up to at most this travel with their chunks inline.
inline constexpr uint64_t kInlineLimit = 256 * 1024;

struct OutgoingObject {
  uint64_t seq = 0;  // the sender's feed position of this object
  ObjectState state;
  std::map<uint64_t, std::string> inline_chunks;  // index -> bytes
};

class Outbox {
 public:
  explicit Outbox(store::Store& store) : store_(store) {}
  // Up to `max_objects` objects changed after `after_seq`, oldest first.
  Result<std::vector<OutgoingObject>> Next(uint64_t after_seq, size_t max_objects);
  // The same, leaving out (unread) the feed entries for which `skip(seq)` is true;
  // skipped entries count towards `max_objects`. `*scanned_upto` becomes the last seq
  // looked at (unchanged when the feed has nothing after `after_seq`). Reading stops
  // before the first entry whose file `hold(ino)` holds back.
  Result<std::vector<OutgoingObject>> Next(uint64_t after_seq, size_t max_objects,
                                           const std::function<bool(uint64_t seq)>& skip,
                                           uint64_t* scanned_upto,
                                           const std::function<bool(uint64_t ino)>& hold = {});
  // The bytes of chunk `index` of `oid`, if it still has that stamp.
  Result<std::string> ReadChunk(const ObjectId& oid, uint64_t index, const HlcStamp& stamp);
  Result<uint64_t> LastSeq();

 private:
  store::Store& store_;
};

class Inbox {
 public:
  Inbox(store::Store& store, uint64_t peer_node) : store_(store), peer_node_(peer_node) {}
  // The highest seq of the peer's feed applied here (0 at first contact).
  Result<uint64_t> Cursor();
  // Chunks of `obj` that must still be fetched (neither local, staged nor inline).
  Result<std::vector<uint64_t>> Missing(const OutgoingObject& obj);
  Status Stage(const ObjectId& oid, uint64_t index, const HlcStamp& stamp, std::string_view data);
  // Merges `obj` and moves the cursor to obj.seq, in one transaction.
  // With `echoes`: appends the local feed seqs this apply produced whose object is now
  // exactly what the peer sent (`obj` itself, or an object of `parked_from_peer`, the
  // peer's encoded states of objects parked earlier, brought in by this apply).
  // Sending those back to the peer would only echo what it has.
  Result<ApplyResult> Apply(const OutgoingObject& obj, std::vector<uint64_t>* echoes = nullptr,
                            const std::map<ObjectId, std::string>* parked_from_peer = nullptr);
  // Records the peer's own last seq (for `kvfs status`: what is pending inbound).
  Status NotePeerHead(uint64_t peer_last_seq, uint64_t peer_cursor_of_us);

 private:
  store::Store& store_;
  uint64_t peer_node_;
};

// Sync-table keys of per-peer bookkeeping.
std::string CursorKey(uint64_t peer_node);     // peer's feed applied here up to
std::string PeerHeadKey(uint64_t peer_node);   // peer's own last seq, as last told
std::string PeerAckedKey(uint64_t peer_node);  // our feed the peer has applied, as last told

}  // namespace kvfs::sync
