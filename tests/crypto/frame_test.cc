#include "crypto/frame.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

// Records the largest single heap allocation while tracking is on, so a test can prove
// that an announced frame length is not allocated before it is checked.
namespace {
std::atomic<bool> g_track_allocations{false};
std::atomic<std::size_t> g_largest_allocation{0};
}  // namespace

// These replace the global operators for the whole test binary. GCC cannot see that
// the replaced new and delete pair malloc with free, hence the pragma.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (g_track_allocations.load(std::memory_order_relaxed)) {
    std::size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
    while (size > seen && !g_largest_allocation.compare_exchange_weak(seen, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace kvfs::crypto {
namespace {

class AllocationTracker {
 public:
  AllocationTracker() {
    g_largest_allocation = 0;
    g_track_allocations = true;
  }
  ~AllocationTracker() { g_track_allocations = false; }
  std::size_t largest() const { return g_largest_allocation.load(); }
};

std::string Encode(std::string_view payload) {
  Result<std::string> frame = EncodeFrame(payload);
  EXPECT_TRUE(frame.ok());
  return frame.ok() ? *frame : std::string();
}

std::vector<std::string> Drain(FrameReader& reader) {
  std::vector<std::string> out;
  while (std::optional<std::string> frame = reader.Next()) out.push_back(std::move(*frame));
  return out;
}

std::string Header(std::uint32_t len) {
  return {static_cast<char>(len >> 24), static_cast<char>(len >> 16), static_cast<char>(len >> 8),
          static_cast<char>(len)};
}

std::vector<std::string> SamplePayloads() {
  std::vector<std::string> payloads = {"", "a",    std::string(3, '\0'),
                                       "", "four", std::string(17, 'x')};
  std::string ramp;
  for (int i = 0; i < 300; ++i) ramp.push_back(static_cast<char>(i));
  payloads.push_back(ramp);
  payloads.push_back(std::string(1000, '\xff'));
  return payloads;
}

TEST(FrameTest, EncodeWritesBigEndianLength) {
  std::string frame = Encode("abc");
  EXPECT_EQ(frame, std::string("\0\0\0\3abc", 7));
  std::string big(0x010203, 'q');
  frame = Encode(big);
  ASSERT_EQ(frame.size(), big.size() + 4);
  EXPECT_EQ(frame.substr(0, 4), std::string("\x00\x01\x02\x03", 4));
  EXPECT_EQ(Encode(""), std::string(4, '\0'));
}

TEST(FrameTest, WholeStreamInOneChunk) {
  std::string stream;
  for (const std::string& p : SamplePayloads()) stream += Encode(p);
  FrameReader reader;
  ASSERT_TRUE(reader.Feed(stream).ok());
  EXPECT_EQ(Drain(reader), SamplePayloads());
  EXPECT_TRUE(reader.AtFrameBoundary());
  EXPECT_FALSE(reader.Next().has_value());
}

TEST(FrameTest, SplitAtEveryByteBoundary) {
  std::string stream;
  for (const std::string& p : SamplePayloads()) stream += Encode(p);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameReader reader;
    ASSERT_TRUE(reader.Feed(std::string_view(stream).substr(0, cut)).ok());
    std::vector<std::string> frames = Drain(reader);
    ASSERT_TRUE(reader.Feed(std::string_view(stream).substr(cut)).ok());
    for (std::string& f : Drain(reader)) frames.push_back(std::move(f));
    ASSERT_EQ(frames, SamplePayloads()) << "cut at byte " << cut;
  }
}

TEST(FrameTest, OneByteAtATime) {
  std::string stream;
  for (const std::string& p : SamplePayloads()) stream += Encode(p);
  FrameReader reader;
  std::vector<std::string> frames;
  for (char c : stream) {
    ASSERT_TRUE(reader.Feed(std::string_view(&c, 1)).ok());
    for (std::string& f : Drain(reader)) frames.push_back(std::move(f));
  }
  EXPECT_EQ(frames, SamplePayloads());
  EXPECT_TRUE(reader.AtFrameBoundary());
}

TEST(FrameTest, RandomChunks) {
  std::string stream;
  for (const std::string& p : SamplePayloads()) stream += Encode(p);
  for (unsigned seed = 1; seed <= 50; ++seed) {
    std::mt19937 rng(seed);
    FrameReader reader;
    std::size_t pos = 0;
    while (pos < stream.size()) {
      std::size_t n = std::uniform_int_distribution<std::size_t>(0, 40)(rng);
      n = std::min(n, stream.size() - pos);
      ASSERT_TRUE(reader.Feed(std::string_view(stream).substr(pos, n)).ok());
      pos += n;
    }
    ASSERT_EQ(Drain(reader), SamplePayloads()) << "seed " << seed;
  }
}

TEST(FrameTest, ZeroLengthFramesAreYieldedEmpty) {
  FrameReader reader;
  ASSERT_TRUE(reader.Feed(Encode("") + Encode("") + Encode("x") + Encode("")).ok());
  EXPECT_EQ(Drain(reader), (std::vector<std::string>{"", "", "x", ""}));
  EXPECT_TRUE(reader.AtFrameBoundary());
  // An empty payload is framing-valid but never a valid sealed frame.
  SessionKey k;
  auto a = SecureChannel::Create(k, k);
  auto b = SecureChannel::Create(k, k);
  ASSERT_TRUE(b->OpenHeader(a->Header()).ok());
  EXPECT_EQ(b->Open("").status().code(), Code::kCorruption);
}

TEST(FrameTest, PartialFrameIsHeldBack) {
  std::string frame = Encode("hello world");
  FrameReader reader;
  ASSERT_TRUE(reader.Feed(frame.substr(0, 2)).ok());
  EXPECT_FALSE(reader.AtFrameBoundary());
  EXPECT_EQ(reader.PartialBytes(), 2u);
  ASSERT_TRUE(reader.Feed(frame.substr(2, 6)).ok());
  EXPECT_FALSE(reader.Next().has_value());
  EXPECT_EQ(reader.PartialBytes(), 8u);
  ASSERT_TRUE(reader.Feed(frame.substr(8)).ok());
  EXPECT_EQ(reader.Next(), std::optional<std::string>("hello world"));
  EXPECT_TRUE(reader.AtFrameBoundary());
}

TEST(FrameTest, LengthAtLimitIsAccepted) {
  FrameReader reader(10);
  ASSERT_TRUE(reader.Feed(Encode(std::string(10, 'k'))).ok());
  EXPECT_EQ(reader.Next(), std::optional<std::string>(std::string(10, 'k')));
}

TEST(FrameTest, OversizeLengthRejectedBeforeAnyPayload) {
  FrameReader reader(10);
  std::string stream = Header(11) + std::string(11, 'k');
  ASSERT_TRUE(reader.Feed(stream.substr(0, 3)).ok()) << "three header bytes are not enough";
  Status st = reader.Feed(stream.substr(3));
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("11"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("10"), std::string::npos) << st.message();
  EXPECT_TRUE(reader.dead());
  EXPECT_FALSE(reader.Next().has_value());
  EXPECT_EQ(reader.Feed(Encode("ok")).code(), Code::kInvalid) << "dead reader must stay dead";
}

TEST(FrameTest, HugeLengthRejectedWithoutAllocating) {
  FrameReader reader;  // Default limit: one maximal sealed frame.
  Status st;
  std::size_t largest = 0;
  {
    AllocationTracker tracker;
    st = reader.Feed(Header(0xffffffff) + "junk");
    largest = tracker.largest();
  }
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("4294967295"), std::string::npos) << st.message();
  EXPECT_LT(largest, 4096u) << "reader allocated " << largest << " bytes";

  FrameReader just_over;
  st = just_over.Feed(Header(static_cast<std::uint32_t>(kDefaultMaxFramePayload + 1)));
  EXPECT_EQ(st.code(), Code::kCorruption);
}

TEST(FrameTest, AnnouncedLengthIsNotPreallocated) {
  // A valid but large announced length with only a few bytes sent must not make the
  // reader allocate the announced size (a cheap memory attack on many connections).
  FrameReader reader;
  std::size_t largest = 0;
  {
    AllocationTracker tracker;
    ASSERT_TRUE(reader.Feed(Header(8u << 20) + "only a little").ok());
    largest = tracker.largest();
  }
  EXPECT_LT(largest, 4096u) << "reader allocated " << largest << " bytes";
  EXPECT_EQ(reader.PartialBytes(), 4u + 13u);
  EXPECT_FALSE(reader.AtFrameBoundary());
}

}  // namespace
}  // namespace kvfs::crypto
