// Outbox::Next with a hold-back predicate (SessionOptions::hold_back): reading the
// feed stops before a held file, so neither it nor anything after it is sent, and the
// scanned position does not pass it; once it is let go, it and the rest follow.
#include <gtest/gtest.h>

#include <set>

#include "sync/exchange.h"
#include "sync_test_util.h"

namespace kvfs::sync {
namespace {

using namespace kvfs::sync::testing;

std::string Name(const OutgoingObject& o) {
  return o.state.links.empty() ? std::string() : o.state.links.front().name;
}

TEST(OutboxHoldTest, StopsBeforeAHeldFileAndSendsItOnceLetGo) {
  Scratch dir;
  auto s = MakeStore(dir.path() + "/s");
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(WriteFile(*s, "a", "first").ok());
  ASSERT_TRUE(WriteFile(*s, "b", "held: half of a write(2)").ok());
  const uint64_t b_seq = LastSeq(*s);
  ASSERT_TRUE(WriteFile(*s, "c", "after the held one").ok());
  const Ino b = InodeAt(*s, "b").ino;

  Outbox outbox(*s);
  bool holding = true;
  const auto hold = [&](uint64_t ino) { return holding && ino == b; };
  uint64_t scanned = 0;
  auto first = outbox.Next(0, 100, {}, &scanned, hold);
  ASSERT_TRUE(first.ok()) << first.status().message();
  std::set<std::string> sent;
  for (const OutgoingObject& o : *first) {
    EXPECT_LT(o.seq, b_seq) << "an entry after the held file was sent";
    sent.insert(Name(o));
  }
  EXPECT_EQ(sent.count("a"), 1u);
  EXPECT_EQ(sent.count("b"), 0u);
  EXPECT_EQ(sent.count("c"), 0u);
  EXPECT_LT(scanned, b_seq) << "the scan passed the held file";

  holding = false;
  auto rest = outbox.Next(scanned, 100, {}, &scanned, hold);
  ASSERT_TRUE(rest.ok()) << rest.status().message();
  sent.clear();
  for (const OutgoingObject& o : *rest) sent.insert(Name(o));
  EXPECT_EQ(sent.count("b"), 1u);
  EXPECT_EQ(sent.count("c"), 1u);
  EXPECT_EQ(scanned, LastSeq(*s));
}

}  // namespace
}  // namespace kvfs::sync
