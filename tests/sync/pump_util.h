#pragma once
// In-process exchanges between real stores: the Outbox of one store feeds the Inbox
// of another as a network session does (chunks of big files fetched one by one,
// staged, then the object applied with the cursor), without sockets.
#include <gtest/gtest.h>

#include <vector>

#include "store/store.h"
#include "sync/exchange.h"

namespace kvfs::sync::testing {

struct Pumped {
  size_t objects = 0;  // objects sent
  size_t chunks = 0;   // chunks fetched (WANT/CHUNK), not counting inline ones
};

// Sends everything `from` has that `to` has not seen (chunks fetched as a session
// does).
inline Pumped Pump(store::Store& from, store::Store& to) {
  Outbox out(from);
  Inbox in(to, from.node_id());
  auto cursor = in.Cursor();
  EXPECT_TRUE(cursor.ok());
  uint64_t seq = cursor.ok() ? *cursor : 0;
  Pumped sent;
  for (int guard = 0; guard < 1000; ++guard) {
    auto batch = out.Next(seq, 50);
    EXPECT_TRUE(batch.ok()) << batch.status().message();
    if (!batch.ok() || batch->empty()) break;
    for (const OutgoingObject& obj : *batch) {
      auto missing = in.Missing(obj);
      EXPECT_TRUE(missing.ok()) << missing.status().message();
      for (uint64_t index : missing.ok() ? *missing : std::vector<uint64_t>{}) {
        HlcStamp stamp;
        for (const auto& c : obj.state.chunks) {
          if (c.index == index) stamp = c.stamp;
        }
        auto data = out.ReadChunk(obj.state.oid, index, stamp);
        EXPECT_TRUE(data.ok()) << data.status().message();
        if (data.ok()) {
          EXPECT_TRUE(in.Stage(obj.state.oid, index, stamp, *data).ok());
        }
        ++sent.chunks;
      }
      auto applied = in.Apply(obj);
      EXPECT_TRUE(applied.ok()) << applied.status().message();
      seq = obj.seq;
      ++sent.objects;
    }
  }
  return sent;
}

// Pumps between every ordered pair until a full pass sends nothing new (bounded).
inline void SyncUntilQuiet(const std::vector<store::Store*>& stores) {
  for (int pass = 0; pass < 10; ++pass) {
    size_t sent = 0;
    for (store::Store* a : stores) {
      for (store::Store* b : stores) {
        if (a != b) sent += Pump(*a, *b).objects;
      }
    }
    if (sent == 0) return;
  }
  ADD_FAILURE() << "the stores kept sending after 10 passes";
}

}  // namespace kvfs::sync::testing
