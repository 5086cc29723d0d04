// Property tests of the merge rules: replicas make random changes, exchange their
// objects in random orders and batches, and must end byte-for-byte identical, with
// no written version lost. Seeds are printed so a failure can be replayed.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "sync/merge.h"

namespace kvfs::sync {
namespace {

using store::VersionSlot;

struct Replica {
  explicit Replica(uint64_t n) : node(n) {}
  uint64_t node;
  uint64_t clock = 0;  // HLC time component, shared counter for simplicity
  std::map<ObjectId, ObjectState> objects;

  HlcStamp Tick(uint64_t& global_time) {
    clock = std::max(clock, global_time) + 1;
    global_time = std::max(global_time, clock);
    return HlcStamp{clock, node};
  }
};

void Bump(VersionVector& v, uint64_t node) {
  for (auto& s : v) {
    if (s.node == node) {
      ++s.counter;
      return;
    }
  }
  v.push_back({node, 1});
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.node < b.node; });
}

// Applies a remote state to a replica the way the sync receiver does.
void Receive(Replica& r, const ObjectState& remote) {
  auto it = r.objects.find(remote.oid);
  if (it == r.objects.end()) {
    r.objects[remote.oid] = remote;
    return;
  }
  MergeOutcome out = MergeObject(it->second, remote);
  it->second = out.state;
  if (out.conflict) Receive(r, out.conflict->state);
}

struct WrittenVersion {
  ObjectId id;
  HlcStamp stamp;
  VersionVector versions;
  bool is_delete = false;  // a delete that had seen `versions`
};

void RandomChange(Replica& r, std::mt19937_64& rng, uint64_t& global_time,
                  std::vector<ObjectId>& all_ids, uint64_t& serial,
                  std::vector<WrittenVersion>* written = nullptr) {
  const int kind = static_cast<int>(rng() % 7);
  HlcStamp st = r.Tick(global_time);
  if (kind == 0 || all_ids.empty()) {
    ObjectState s;
    s.oid = ObjectId{r.node, ++serial};
    s.links.push_back({store::kRootObject, "f" + std::to_string(serial)});
    s.name_stamp = s.attr_stamp = s.times_stamp = s.xattr_stamp = s.content_stamp = st;
    s.mode = 0644;
    Bump(s.content_versions, r.node);
    r.objects[s.oid] = s;
    all_ids.push_back(s.oid);
    if (written) written->push_back({s.oid, st, s.content_versions});
    return;
  }
  ObjectId id = all_ids[rng() % all_ids.size()];
  auto it = r.objects.find(id);
  if (it == r.objects.end()) return;  // this replica has not seen it yet
  ObjectState& s = it->second;
  switch (kind) {
    case 1:
    case 2:  // write
      s.size = rng() % 1000;
      s.chunks = {ChunkRef{0, st}};
      s.content_stamp = st;
      s.times_stamp = st;
      s.mtime = Timespec{static_cast<int64_t>(st.time), 0};
      Bump(s.content_versions, r.node);
      if (written) written->push_back({s.oid, st, s.content_versions});
      break;
    case 3:  // chmod
      s.mode = static_cast<uint32_t>(rng() % 0777);
      s.attr_stamp = st;
      break;
    case 4:  // rename
      s.links = {RemoteLink{store::kRootObject, "r" + std::to_string(rng() % 50)}};
      s.name_stamp = st;
      break;
    case 5:  // delete
      s.delete_stamp = st;
      s.delete_versions = s.content_versions;
      s.Canonicalize();  // as if the store purged the deleted bytes at once
      if (written) written->push_back({s.oid, st, s.delete_versions, true});
      break;
    case 6:  // xattr
      s.xattrs["user.k" + std::to_string(rng() % 3)] = std::to_string(rng() % 100);
      s.xattr_stamp = st;
      break;
  }
}

// Sends every object of `from` to `to`, in a random order and in random batches.
void Exchange(Replica& from, Replica& to, std::mt19937_64& rng) {
  std::vector<ObjectState> states;
  for (auto& [id, s] : from.objects) states.push_back(s);
  std::shuffle(states.begin(), states.end(), rng);
  for (const auto& s : states) Receive(to, s);
}

class MergePropertyTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(MergePropertyTest, ReplicasConvergeWhateverTheOrder) {
  const uint64_t seed = GetParam();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::vector<Replica> replicas{Replica(0x1111), Replica(0x2222), Replica(0x3333)};
  std::vector<ObjectId> ids;
  uint64_t global_time = 1000, serial = 0;
  std::vector<WrittenVersion> written;  // every content version any replica made

  for (int round = 0; round < 30; ++round) {
    for (int i = 0; i < 10; ++i) {
      Replica& r = replicas[rng() % replicas.size()];
      RandomChange(r, rng, global_time, ids, serial, &written);
    }
    // A random partial exchange: some pairs talk, some do not (a partition).
    for (int i = 0; i < 3; ++i) {
      size_t a = rng() % 3, b = rng() % 3;
      if (a != b && rng() % 2) Exchange(replicas[a], replicas[b], rng);
    }
  }
  // Heal: everyone talks to everyone until nothing changes.
  for (int pass = 0; pass < 4; ++pass) {
    for (size_t a = 0; a < 3; ++a) {
      for (size_t b = 0; b < 3; ++b) {
        if (a != b) Exchange(replicas[a], replicas[b], rng);
      }
    }
  }
  ASSERT_EQ(replicas[0].objects.size(), replicas[1].objects.size());
  ASSERT_EQ(replicas[0].objects.size(), replicas[2].objects.size());
  for (auto& [id, s] : replicas[0].objects) {
    EXPECT_EQ(s, replicas[1].objects.at(id)) << id.ToString();
    EXPECT_EQ(s, replicas[2].objects.at(id)) << id.ToString();
  }
  // Nothing written is lost: every content version is still the content of its
  // object or of a conflict copy, unless a later edit or a delete had seen it.
  const auto& final_objects = replicas[0].objects;
  for (const WrittenVersion& w : written) {
    if (w.is_delete) continue;
    bool superseded = false;
    for (const WrittenVersion& later : written) {
      if (later.id == w.id && (later.stamp != w.stamp || later.is_delete) &&
          Dominates(later.versions, w.versions)) {
        superseded = true;
      }
    }
    if (superseded) continue;
    bool present = false;
    for (const auto& [oid, s] : final_objects) {
      if (s.content_stamp == w.stamp && !s.IsDeleted()) present = true;
    }
    EXPECT_TRUE(present) << "content version " << w.stamp.ToString() << " of "
                         << w.id.ToString() << " is lost";
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, MergePropertyTest, ::testing::Range<uint64_t>(1, 41));

// Two states of one object built from a shared history, changed apart.
std::vector<ObjectState> ForkedStates(std::mt19937_64& rng) {
  std::vector<Replica> rs{Replica(0xa), Replica(0xb), Replica(0xc)};
  std::vector<ObjectId> ids;
  uint64_t t = 1, serial = 0;
  RandomChange(rs[0], rng, t, ids, serial);
  ids.resize(1);
  rs[1].objects = rs[2].objects = rs[0].objects;
  for (int i = 0; i < 6; ++i) {
    Replica& r = rs[rng() % 3];
    uint64_t s2 = 1000;  // never create: only change the shared object
    RandomChange(r, rng, t, ids, s2);
    ids.resize(1);
  }
  return {rs[0].objects.begin()->second, rs[1].objects.begin()->second,
          rs[2].objects.begin()->second};
}

TEST(MergeAlgebraTest, CommutativeAssociativeIdempotent) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    std::mt19937_64 rng(seed);
    auto v = ForkedStates(rng);
    if (v[0].oid != v[1].oid || v[0].oid != v[2].oid) continue;
    const auto& a = v[0];
    const auto& b = v[1];
    const auto& c = v[2];
    EXPECT_EQ(MergeObject(a, b).state, MergeObject(b, a).state);
    EXPECT_EQ(MergeObject(MergeObject(a, b).state, c).state,
              MergeObject(a, MergeObject(b, c).state).state);
    EXPECT_EQ(MergeObject(a, a).state, a);
    EXPECT_FALSE(MergeObject(a, a).changed);
    EXPECT_FALSE(MergeObject(a, a).conflict.has_value());
  }
}

}  // namespace
}  // namespace kvfs::sync
