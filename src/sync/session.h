#pragma once
// Session: one sync connection with one peer, from handshake to close.
//
//   1. Handshake (crypto/handshake.h; the side that connected is the initiator), each
//      handshake message one length-prefixed frame of at most kMaxHandshakeFrame bytes.
//   2. HELLO both ways (protocol version, node id, last seq). On the peer's HELLO each
//      side answers with an ACK whose cursor says how far it has applied the peer's
//      feed; that first ACK tells the sender where to start.
//   3. Two threads until the end:
//      - the reader (its own jthread) opens frames, decodes and dispatches: OBJECT →
//        Inbox::Apply at once when its chunks came inline, else WANT the missing chunks
//        (in parts of up to kMaxWantIndexes, the next part once the previous arrived),
//        Stage each CHUNK, Apply when all are there; CHUNK_GONE → skip the object and
//        move the cursor past it in one transaction; WANT and ACK are handed to the
//        sender / recorded. After a run of applies it queues an ACK.
//      - the sender (the thread that called Run) is the only writer of the socket: it
//        posts queued control messages (WANT, ACK) first, then walks the local change
//        feed (Outbox::Next) after the peer's cursor, leaving out echoes (objects that
//        are exactly what this peer sent us; a SKIP moves the peer's cursor past them),
//        and packs what is ready into compressed BATCH frames (sync/batch.h); after an OBJECT whose
//        chunks are not inline it waits for the peer's WANT and sends those CHUNKs (or
//        CHUNK_GONE). Caught up, it waits for Wake() or polls the feed every
//        poll_interval, and PINGs when it has sent nothing for ping_interval.
//      Because only the sender writes, the reader never blocks on the socket, so two
//      peers sending big files to each other at once cannot deadlock.
//   4. The end: any error (failed handshake or frame authentication, a malformed or
//      unexpected message, no message for idle_timeout, the peer closing, a store
//      error) logs one line with the reason and the peer's address, and closes the
//      connection. Nothing is half-applied: every apply is one store transaction.
//      A clean end is a BYE sealed as the channel's final frame (sent by a one-round
//      `until_synced` session once both sides are caught up), or a stop request.
//
// Thread-safety: Run() once, from one thread; Wake(), stats(), peer_node() from any.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "crypto/channel.h"
#include "crypto/handshake.h"
#include "crypto/store_key.h"
#include "store/store.h"
#include "sync/batch.h"
#include "sync/exchange.h"
#include "sync/messages.h"
#include "sync/peer_status.h"
#include "sync/socket.h"

namespace kvfs::sync {

inline constexpr size_t kMaxHandshakeFrame = 4096;

struct SessionOptions {
  std::chrono::milliseconds handshake_timeout{10000};
  // No message from the peer for this long ends the session (peers PING meanwhile).
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds ping_interval{10000};
  // How often a caught-up sender looks at the feed when nobody calls Wake().
  std::chrono::milliseconds poll_interval{20};
  size_t batch_size = 64;
  // The sender packs what is ready into one compressed BATCH frame up to this many
  // raw bytes (it never waits for more to come).
  size_t batch_bytes = 256 * 1024;
  // One round: end with BYE once both sides have applied everything of the other
  // (set by the initiator of `kvfs sync`; a responder ends on the peer's BYE).
  bool until_synced = false;
  // Log the reason of an error end (the CLI prints it itself instead).
  bool log_errors = true;
  // The peer as configured ("host:port"); empty: the socket's remote address.
  std::string label;
  // Called once the peer's HELLO names it; an error refuses the session (kExists:
  // already connected to that node, logged quietly).
  std::function<Status(uint64_t peer_node)> on_peer;
  // Called after an apply that changed the store (to wake sessions with other peers).
  std::function<void()> on_applied;
  // A file for which it returns true is not sent yet: the sender stops before its
  // feed entry and looks again after poll_interval. The mount holds back a file
  // between the pieces of one write(2) (fs/split_writes.h). Empty: nothing is held.
  std::function<bool(uint64_t ino)> hold_back;
};

// A copy of a session's counters (see SessionStats).
struct SessionCounts {
  uint64_t objects_sent = 0, objects_received = 0, objects_changed = 0, conflicts = 0;
  uint64_t chunks_sent = 0, chunk_bytes_sent = 0, chunks_received = 0, chunk_bytes_received = 0;
  uint64_t inline_bytes_sent = 0, inline_bytes_received = 0, frames_sent = 0, bytes_sent = 0,
           bytes_received = 0;
};

// Counters of one session, readable while it runs.
struct SessionStats {
  SessionCounts Snapshot() const;

  std::atomic<uint64_t> objects_sent{0};
  std::atomic<uint64_t> objects_received{0};  // applied or skipped
  std::atomic<uint64_t> objects_changed{0};   // applies that changed the store
  std::atomic<uint64_t> conflicts{0};
  std::atomic<uint64_t> chunks_sent{0};
  std::atomic<uint64_t> chunk_bytes_sent{0};
  std::atomic<uint64_t> chunks_received{0};
  std::atomic<uint64_t> chunk_bytes_received{0};
  std::atomic<uint64_t> inline_bytes_sent{0};  // chunk bytes that travelled inside OBJECTs
  std::atomic<uint64_t> inline_bytes_received{0};
  std::atomic<uint64_t> frames_sent{0};
  std::atomic<uint64_t> bytes_sent{0};  // on the wire, framing included
  std::atomic<uint64_t> bytes_received{0};
  // Per message type (index = type): messages and plaintext bytes, for the debug log
  // at the end of a session (where do the wire bytes go?).
  std::array<std::atomic<uint64_t>, 16> sent_msgs{}, sent_plain{}, recv_msgs{}, recv_plain{};
};

class Session {
 public:
  Session(Socket socket, store::Store& store, const crypto::StoreKey& key,
          crypto::Handshake::Role role, SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs the connection to its end and closes it. Ok for a clean end (BYE either
  // way, or `stop`); otherwise the reason, already logged when options.log_errors.
  Status Run(std::stop_token stop = {});

  // A local change was committed: the sender looks at the feed now.
  void Wake();

  const SessionStats& stats() const { return stats_; }
  uint64_t peer_node() const { return peer_node_.load(); }
  const std::string& label() const { return label_; }

 private:
  enum class Phase { kAwaitHello, kAwaitAck, kStreaming };

  // An OBJECT whose chunks are being fetched (reader side).
  struct Incoming {
    OutgoingObject object;
    std::map<uint64_t, HlcStamp> manifest;  // index -> stamp
    std::vector<uint64_t> missing;          // all chunks to fetch, increasing
    size_t next_part = 0;                   // first index of `missing` not yet wanted
    std::set<uint64_t> outstanding;         // wanted, not yet received
  };

  Status Handshake();
  Status ReadHandshakeFrame(std::string* out);
  void Fail(Status status);
  bool halted() const { return halt_.stop_requested(); }

  // Reader thread.
  void ReaderLoop();
  Status HandleFrame(const std::string& frame);
  Status OnHello(const HelloMsg& m);
  Status OnFirstAck(const AckMsg& m);
  Status OnObject(ObjectMsg& m);
  Status OnChunk(const ChunkMsg& m);
  Status OnChunkGone(const ChunkGoneMsg& m);
  Status OnAck(const AckMsg& m);
  Status RequestNextPart();
  Status ApplyObject(const OutgoingObject& obj);
  Status OnSkip(const SkipMsg& m);
  Status HandleMessage(Message& message);
  Status SkipObject(uint64_t seq);
  Status QueueAck();
  void Queue(Message message);
  Status RecordContact(bool connected, bool force);

  // Sender (Run's thread).
  Status SenderLoop();
  // Send: flushes the pending batch, then the message in a frame of its own (HELLO,
  // CHUNK, PING, BYE). Post: adds to the pending batch (sent when full or flushed).
  Status Send(const Message& message, bool final = false);
  Status Post(const Message& message);
  Status FlushBatch();
  Status SendFrame(const std::string& plain, bool final);
  Status FlushControl();  // posts the queued control messages
  bool IsEcho(uint64_t seq);
  Status SendObject(const OutgoingObject& obj, bool* awaits_want);
  Status ServeWants(const OutgoingObject& obj);
  Result<bool> CaughtUp(uint64_t sent_upto);
  Status FinishRound();
  void SayBye();
  void LogTraffic() const;

  Socket socket_;
  store::Store& store_;
  const crypto::StoreKey key_;
  const crypto::Handshake::Role role_;
  const SessionOptions options_;
  const std::string label_;
  Outbox outbox_;
  std::unique_ptr<crypto::SecureChannel> channel_;  // Seal: sender only; Open: reader only
  std::stop_source halt_;                           // ends both threads
  SessionStats stats_;
  std::atomic<uint64_t> peer_node_{0};

  // Sender-only state.
  BatchBuilder pending_;

  // Reader-only state.
  std::unique_ptr<Inbox> inbox_;
  // This peer's encoded states of objects that were parked here (waiting for their
  // parent): when a later apply brings them in unchanged, they are echoes too.
  std::map<ObjectId, std::string> parked_from_peer_;
  std::optional<Incoming> incoming_;
  uint64_t last_seq_received_ = 0;
  size_t applied_since_ack_ = 0;
  std::chrono::steady_clock::time_point last_contact_write_{};
  uint64_t last_contact_ms_ = 0;

  // Lock order: mu_ is a leaf (nothing else is locked while holding it, and no I/O or
  // store transaction runs under it).
  mutable std::mutex mu_;
  std::condition_variable_any cv_;    // wakes the sender
  std::optional<Status> error_;       // the first error; guarded by mu_
  bool finished_ = false;             // clean end seen; guarded by mu_
  bool bye_sent_ = false;             // guarded by mu_
  bool woken_ = false;                // Wake() called; guarded by mu_
  Phase phase_ = Phase::kAwaitHello;  // guarded by mu_
  std::deque<Message> control_;       // WANT/ACK for the sender; guarded by mu_
  std::deque<WantMsg> wants_;         // peer's WANTs; guarded by mu_
  std::optional<std::pair<ObjectId, uint64_t>> awaiting_;  // OBJECT awaiting WANT; mu_
  uint64_t peer_cursor_start_ = 0;                         // the peer's first ACK; guarded by mu_
  uint64_t peer_acked_ = 0;                                // guarded by mu_
  uint64_t peer_head_ = 0;                                 // guarded by mu_
  uint64_t applied_upto_ = 0;                              // guarded by mu_ (written by the reader)
  bool reader_busy_ = false;         // an object is mid-transfer; guarded by mu_
  uint64_t reader_ack_pending_ = 0;  // applies not yet ACKed; guarded by mu_
  // Local feed seqs whose object is exactly what this peer sent us (recorded by the
  // reader after each apply): the sender skips them instead of echoing them back. A
  // later local change gives the object a new seq, so it is sent. Guarded by mu_.
  std::set<uint64_t> echoes_;
};

}  // namespace kvfs::sync
