// BATCH frames: what the sender builds decodes to the same messages, and a hostile
// BATCH (truncated, lying about its raw length, a zip bomb, nested, garbage, empty)
// is refused with kCorruption before anything big is allocated.
#include "sync/batch.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include "base/bytes.h"

namespace kvfs::sync {
namespace {

std::string Enc(const Message& m) { return EncodeMessage(m); }

std::string Raw(const std::vector<Message>& messages) {
  ByteWriter w;
  for (const Message& m : messages) w.Bytes(EncodeMessage(m));
  return w.Take();
}

// A BATCH whose header says `raw_length` around arbitrary zstd bytes.
std::string Batch(uint32_t raw_length, std::string_view zstd_bytes) {
  ByteWriter w;
  w.U8(static_cast<uint8_t>(MessageType::kBatch));
  w.U32(raw_length);
  w.Raw(zstd_bytes);
  return w.Take();
}

std::string Compress(std::string_view raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 1);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

void ExpectCorrupt(std::string_view plaintext, const std::string& what) {
  auto decoded = DecodeFrameMessages(plaintext);
  ASSERT_FALSE(decoded.ok()) << what;
  EXPECT_EQ(decoded.status().code(), Code::kCorruption) << what;
  EXPECT_NE(decoded.status().message().find("BATCH"), std::string::npos)
      << what << ": " << decoded.status().message();
}

TEST(BatchTest, BuilderRoundTripsAndCompresses) {
  BatchBuilder b;
  std::vector<Message> sent;
  for (uint64_t i = 1; i <= 200; ++i) {
    sent.push_back(AckMsg{i, 1000 + i});
    sent.push_back(SkipMsg{i});
  }
  for (const Message& m : sent) b.Add(EncodeMessage(m));
  EXPECT_EQ(b.count(), sent.size());
  auto plain = b.Take();
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(static_cast<uint8_t>((*plain)[0]), static_cast<uint8_t>(MessageType::kBatch));
  EXPECT_LT(plain->size(), Raw(sent).size() / 4);  // repetitive: compresses a lot
  auto got = DecodeFrameMessages(*plain);
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(Enc((*got)[i]), Enc(sent[i])) << i;
}

TEST(BatchTest, LoneSmallMessageTravelsAsItIs) {
  BatchBuilder b;
  b.Add(EncodeMessage(AckMsg{1, 2}));
  auto plain = b.Take();
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, EncodeMessage(AckMsg{1, 2}));
  auto got = DecodeFrameMessages(*plain);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(Enc((*got)[0]), Enc(AckMsg{1, 2}));
}

TEST(BatchTest, IncompressibleBatchStillDecodes) {
  std::string noise(50000, '\0');
  uint64_t x = 88172645463325252ULL;
  for (char& c : noise) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  const std::vector<Message> sent = {ChunkMsg{ObjectId{1, 2}, 0, HlcStamp{3, 4}, noise},
                                     AckMsg{5, 6}};
  auto plain = EncodeBatch(Raw(sent));
  ASSERT_TRUE(plain.ok());
  EXPECT_LT(plain->size(), Raw(sent).size() + 64);  // zstd stores it, barely larger
  auto got = DecodeFrameMessages(*plain);
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ(Enc((*got)[0]), Enc(sent[0]));
}

TEST(BatchTest, TruncatedIsRefused) {
  const std::string good = EncodeBatch(Raw({AckMsg{1, 2}, PingMsg{}, AckMsg{3, 4}})).value();
  for (size_t len = 1; len < good.size(); ++len) {
    ExpectCorrupt(std::string_view(good).substr(0, len), "cut at " + std::to_string(len));
  }
}

TEST(BatchTest, WrongRawLengthIsRefused) {
  const std::string raw = Raw({AckMsg{1, 2}, AckMsg{3, 4}});
  const std::string z = Compress(raw);
  ExpectCorrupt(Batch(static_cast<uint32_t>(raw.size() + 1), z), "declared one more");
  ExpectCorrupt(Batch(static_cast<uint32_t>(raw.size() - 1), z), "declared one less");
  ExpectCorrupt(Batch(0, z), "declared zero");
  ASSERT_TRUE(DecodeFrameMessages(Batch(static_cast<uint32_t>(raw.size()), z)).ok());
}

TEST(BatchTest, FrameWithoutContentSizeIsRefused) {
  // A streamed zstd frame does not declare its size: nothing to check it against.
  const std::string raw = Raw({AckMsg{1, 2}, AckMsg{3, 4}});
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ASSERT_EQ(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0)), 0u);
  std::string z(ZSTD_compressBound(raw.size()), '\0');
  const size_t n = ZSTD_compress2(c, z.data(), z.size(), raw.data(), raw.size());
  ZSTD_freeCCtx(c);
  ASSERT_FALSE(ZSTD_isError(n));
  z.resize(n);
  ExpectCorrupt(Batch(static_cast<uint32_t>(raw.size()), z), "no content size");
}

TEST(BatchTest, BombWithHugeDeclaredSizeIsRefusedBeforeAllocating) {
  // 1 GiB of zeros compresses to ~32 KiB; the header check refuses it at once.
  const size_t huge = size_t{1} << 30;
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ASSERT_TRUE(c);
  std::string z(ZSTD_compressBound(1 << 20), '\0');
  ZSTD_outBuffer out{z.data(), z.size(), 0};
  ASSERT_EQ(ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(c, huge)), 0u);
  const std::string zeros(1 << 20, '\0');
  for (size_t done = 0; done < huge; done += zeros.size()) {
    ZSTD_inBuffer in{zeros.data(), zeros.size(), 0};
    const auto mode = done + zeros.size() == huge ? ZSTD_e_end : ZSTD_e_continue;
    size_t left;
    do {
      left = ZSTD_compressStream2(c, &out, &in, mode);
      ASSERT_FALSE(ZSTD_isError(left));
    } while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
  }
  ZSTD_freeCCtx(c);
  z.resize(out.pos);
  EXPECT_EQ(ZSTD_getFrameContentSize(z.data(), z.size()), huge);
  ExpectCorrupt(Batch(UINT32_MAX, z), "declared 4 GiB");
  ExpectCorrupt(Batch(static_cast<uint32_t>(huge), z), "declared 1 GiB");
  // Declaring the limit while the frame holds more: the frame's own size disagrees.
  ExpectCorrupt(Batch(static_cast<uint32_t>(kMaxBatchRaw), z), "declared the limit");
}

TEST(BatchTest, NestedBatchIsRefused) {
  const std::string inner = EncodeBatch(Raw({AckMsg{1, 2}, AckMsg{3, 4}})).value();
  ByteWriter raw;
  raw.Bytes(EncodeMessage(AckMsg{5, 6}));
  raw.Bytes(inner);
  auto outer = EncodeBatch(raw.Take());
  ASSERT_TRUE(outer.ok());
  auto decoded = DecodeFrameMessages(*outer);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Code::kCorruption);
  EXPECT_NE(decoded.status().message().find("nested"), std::string::npos)
      << decoded.status().message();
}

TEST(BatchTest, GarbageZstdIsRefused) {
  ExpectCorrupt(Batch(100, std::string(40, '\x5a')), "garbage");
  // A valid header followed by corrupted blocks.
  const std::string raw = Raw({AckMsg{1, 2}, ChunkMsg{ObjectId{1, 2}, 0, HlcStamp{3, 4},
                                                       std::string(5000, 'q')}});
  std::string z = Compress(raw);
  for (size_t i = 6; i < z.size(); ++i) z[i] = static_cast<char>(z[i] ^ 0xa5);
  ExpectCorrupt(Batch(static_cast<uint32_t>(raw.size()), z), "corrupted blocks");
  // Two frames where one is expected.
  const std::string half = Raw({AckMsg{1, 2}});
  ExpectCorrupt(Batch(static_cast<uint32_t>(2 * half.size()), Compress(half) + Compress(half)),
                "two frames");
}

TEST(BatchTest, EmptyOrMalformedInnerIsRefused) {
  ExpectCorrupt(Batch(0, Compress("")), "empty batch");
  ExpectCorrupt(Batch(3, Compress("abc")), "shorter than one message");
  // An inner length beyond what remains.
  ByteWriter lie;
  lie.U32(1000);
  lie.Raw(EncodeMessage(AckMsg{1, 2}));
  const std::string l = lie.Take();
  ExpectCorrupt(Batch(static_cast<uint32_t>(l.size()), Compress(l)), "inner length lies");
  // An inner message that is itself malformed: refused by DecodeMessage.
  ByteWriter bad;
  bad.Bytes(std::string("\x06\x01", 2));  // a truncated ACK
  const std::string b = bad.Take();
  auto decoded = DecodeFrameMessages(Batch(static_cast<uint32_t>(b.size()), Compress(b)));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Code::kCorruption);
  // An empty inner message.
  ByteWriter empty;
  empty.Bytes(EncodeMessage(AckMsg{1, 2}));
  empty.U32(0);
  const std::string e = empty.Take();
  decoded = DecodeFrameMessages(Batch(static_cast<uint32_t>(e.size()), Compress(e)));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Code::kCorruption);
}

TEST(BatchTest, EncodeRefusesMoreThanTheLimit) {
  auto plain = EncodeBatch(std::string(kMaxBatchRaw + 1, 'x'));
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().code(), Code::kInvalid);
}

}  // namespace
}  // namespace kvfs::sync
