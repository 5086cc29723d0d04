#include "sync/exchange.h"

#include "base/bytes.h"
#include "store/keys.h"
#include "sync/object_codec.h"

namespace kvfs::sync {
namespace {

std::string PeerKey(char tag, uint64_t node) {
  ByteWriter w;
  w.U8(static_cast<uint8_t>(tag));
  w.U64(node);
  return w.Take();
}

}  // namespace

std::string CursorKey(uint64_t peer_node) { return PeerKey('r', peer_node); }
std::string PeerHeadKey(uint64_t peer_node) { return PeerKey('h', peer_node); }
std::string PeerAckedKey(uint64_t peer_node) { return PeerKey('a', peer_node); }

Result<std::vector<OutgoingObject>> Outbox::Next(uint64_t after_seq, size_t max_objects) {
  uint64_t scanned = after_seq;
  return Next(after_seq, max_objects, {}, &scanned);
}

Result<std::vector<OutgoingObject>> Outbox::Next(uint64_t after_seq, size_t max_objects,
                                                 const std::function<bool(uint64_t)>& skip,
                                                 uint64_t* scanned_upto,
                                                 const std::function<bool(uint64_t ino)>& hold) {
  std::vector<OutgoingObject> out;
  KVFS_RETURN_IF_ERROR(store_.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(auto changes, t.ChangesSince(after_seq, max_objects));
    for (const store::Change& c : changes) {
      // Stop before a held file: the feed is read in order, and the peer's cursor
      // must not pass an entry that was not sent.
      if (hold && hold(c.ino)) break;
      *scanned_upto = c.seq;
      if (skip && skip(c.seq)) continue;
      OutgoingObject obj;
      obj.seq = c.seq;
      KVFS_ASSIGN_OR_RETURN(obj.state, ExportObject(t, c.ino));
      if (obj.state.size <= kInlineLimit) {
        for (const ChunkRef& ref : obj.state.chunks) {
          KVFS_ASSIGN_OR_RETURN(auto chunk, t.ReadChunk(c.ino, ref.index));
          if (chunk) obj.inline_chunks[ref.index] = std::move(chunk->second);
        }
      }
      out.push_back(std::move(obj));
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::string> Outbox::ReadChunk(const ObjectId& oid, uint64_t index, const HlcStamp& stamp) {
  std::string data;
  KVFS_RETURN_IF_ERROR(store_.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(store::Ino ino, t.FindObject(oid));
    KVFS_ASSIGN_OR_RETURN(auto chunk, t.ReadChunk(ino, index));
    if (!chunk || chunk->first != stamp) {
      return Status(Code::kNotFound, "chunk " + std::to_string(index) + " of " + oid.ToString() +
                                         " changed since it was announced");
    }
    data = std::move(chunk->second);
    return Status::Ok();
  }));
  return data;
}

Result<uint64_t> Outbox::LastSeq() {
  uint64_t seq = 0;
  KVFS_RETURN_IF_ERROR(store_.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(seq, t.LastSeq());
    return Status::Ok();
  }));
  return seq;
}

Result<uint64_t> Inbox::Cursor() {
  uint64_t cursor = 0;
  KVFS_RETURN_IF_ERROR(store_.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(auto v, t.GetSyncValue(CursorKey(peer_node_)));
    if (v && v->size() == 8) cursor = store::keys::DecodeU64(*v);
    return Status::Ok();
  }));
  return cursor;
}

Result<std::vector<uint64_t>> Inbox::Missing(const OutgoingObject& obj) {
  std::vector<uint64_t> missing;
  KVFS_RETURN_IF_ERROR(store_.View([&](store::ReadTxn& t) -> Status {
    KVFS_ASSIGN_OR_RETURN(auto all, MissingChunks(t, obj.state));
    for (uint64_t index : all) {
      if (!obj.inline_chunks.count(index)) missing.push_back(index);
    }
    return Status::Ok();
  }));
  return missing;
}

Status Inbox::Stage(const ObjectId& oid, uint64_t index, const HlcStamp& stamp,
                    std::string_view data) {
  return store_.Update([&](store::WriteTxn& t) {
    return t.PutSyncValue(StagedChunkKey(oid, index, stamp), data);
  });
}

Result<ApplyResult> Inbox::Apply(const OutgoingObject& obj, std::vector<uint64_t>* echoes,
                                  const std::map<ObjectId, std::string>* parked_from_peer) {
  ApplyResult result;
  std::vector<uint64_t> found;
  KVFS_RETURN_IF_ERROR(store_.Update([&](store::WriteTxn& t) -> Status {
    found.clear();  // the callback may run again after a map resize
    uint64_t before = 0;
    if (echoes) {
      KVFS_ASSIGN_OR_RETURN(before, t.LastSeq());
    }
    ChunkReader staged = StagedChunkReader(t, obj.state.oid);
    ChunkReader read = [&](uint64_t index, const HlcStamp& stamp) -> Result<std::string> {
      auto it = obj.inline_chunks.find(index);
      if (it != obj.inline_chunks.end()) return it->second;
      return staged(index, stamp);
    };
    KVFS_ASSIGN_OR_RETURN(result, ApplyObject(t, obj.state, read));
    if (!result.parked) {
      // A version of this object parked earlier (sent by any peer, whose cursor has
      // moved past it) still needs its staged bytes when its parent arrives: nobody
      // sends them again, and without them every apply of that parent fails.
      KVFS_ASSIGN_OR_RETURN(bool waiting, IsParked(t, obj.state.oid));
      if (!waiting) KVFS_RETURN_IF_ERROR(DropStaged(t, obj.state.oid));
    }
    if (result.changed && obj.state.type == FileType::kDirectory) {
      KVFS_RETURN_IF_ERROR(ApplyParked(t).status());
    }
    if (echoes && result.changed) {
      // Only an exact match is an echo: a merge that kept anything of ours (a newer
      // local register, a conflict copy) must reach the peer.
      KVFS_ASSIGN_OR_RETURN(auto changes, t.ChangesSince(before));
      for (const store::Change& c : changes) {
        KVFS_ASSIGN_OR_RETURN(store::Inode n, t.Get(c.ino));
        std::string sent;
        if (n.oid == obj.state.oid) {
          sent = EncodeObject(obj.state);
        } else if (parked_from_peer && parked_from_peer->count(n.oid)) {
          sent = parked_from_peer->at(n.oid);
        } else {
          continue;
        }
        KVFS_ASSIGN_OR_RETURN(ObjectState now, ExportObject(t, c.ino));
        if (EncodeObject(now) == sent) found.push_back(c.seq);
      }
    }
    return t.PutSyncValue(CursorKey(peer_node_), store::keys::U64Key(obj.seq));
  }));
  if (echoes) echoes->insert(echoes->end(), found.begin(), found.end());
  return result;
}

Status Inbox::NotePeerHead(uint64_t peer_last_seq, uint64_t peer_cursor_of_us) {
  return store_.Update([&](store::WriteTxn& t) -> Status {
    KVFS_RETURN_IF_ERROR(t.PutSyncValue(PeerHeadKey(peer_node_), store::keys::U64Key(peer_last_seq)));
    return t.PutSyncValue(PeerAckedKey(peer_node_), store::keys::U64Key(peer_cursor_of_us));
  });
}

}  // namespace kvfs::sync
