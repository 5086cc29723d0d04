// Wire messages: every type round-trips, and every malformed input (truncated at
// any byte, oversized counts and lengths, unknown types, trailing bytes, unordered
// indexes) is refused with kCorruption and never crashes.
#include "sync/messages.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "crypto/channel.h"
#include "sync/object_codec.h"

namespace kvfs::sync {
namespace {

ObjectState SmallFile() {
  ObjectState s;
  s.oid = ObjectId{7, 42};
  s.type = FileType::kRegular;
  s.links.push_back(RemoteLink{store::kRootObject, "notes.txt"});
  s.name_stamp = HlcStamp{100, 7};
  s.mode = 0644;
  s.size = 70000;
  s.chunks = {ChunkRef{0, HlcStamp{100, 7}}, ChunkRef{1, HlcStamp{101, 7}}};
  s.content_versions = {store::VersionSlot{7, 2}};
  s.content_stamp = HlcStamp{101, 7};
  return s;
}

OutgoingObject WithInline() {
  OutgoingObject o;
  o.seq = 9;
  o.state = SmallFile();
  o.inline_chunks[0] = std::string(65536, 'a');
  o.inline_chunks[1] = std::string(4464, 'b');
  return o;
}

std::vector<Message> Samples() {
  return {
      HelloMsg{kProtocolVersion, 0x1234, 99},
      ObjectMsg{WithInline()},
      WantMsg{ObjectId{7, 42}, 9, true, {0, 3, 1000}},
      WantMsg{ObjectId{7, 42}, 9, false, {}},
      ChunkMsg{ObjectId{7, 42}, 3, HlcStamp{5, 6}, std::string(100, 'x')},
      ChunkGoneMsg{ObjectId{7, 42}, 3},
      AckMsg{12, 34},
      PingMsg{},
      ByeMsg{},
      SkipMsg{77},
  };
}

bool SameMessage(const Message& a, const Message& b) {
  if (a.index() != b.index()) return false;
  if (const auto* oa = std::get_if<ObjectMsg>(&a)) {
    const auto& ob = std::get<ObjectMsg>(b);
    return oa->object.seq == ob.object.seq && oa->object.state == ob.object.state &&
           oa->object.inline_chunks == ob.object.inline_chunks;
  }
  return std::visit(
      [&b](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ObjectMsg>) {
          return false;
        } else {
          return x == std::get<T>(b);
        }
      },
      a);
}

TEST(MessagesTest, EveryTypeRoundTrips) {
  for (const Message& m : Samples()) {
    SCOPED_TRACE(MessageTypeName(TypeOf(m)));
    const std::string bytes = EncodeMessage(m);
    auto decoded = DecodeMessage(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().message();
    EXPECT_TRUE(SameMessage(m, *decoded));
    EXPECT_EQ(TypeOf(*decoded), TypeOf(m));
  }
}

TEST(MessagesTest, TruncatedAtEveryByteIsCorruption) {
  for (const Message& m : Samples()) {
    SCOPED_TRACE(MessageTypeName(TypeOf(m)));
    const std::string bytes = EncodeMessage(m);
    for (size_t len = 0; len < bytes.size(); ++len) {
      auto decoded = DecodeMessage(std::string_view(bytes).substr(0, len));
      ASSERT_FALSE(decoded.ok()) << "decoded a message cut to " << len << " bytes";
      EXPECT_EQ(decoded.status().code(), Code::kCorruption) << decoded.status().message();
    }
  }
}

TEST(MessagesTest, TrailingBytesAreCorruption) {
  for (const Message& m : Samples()) {
    std::string bytes = EncodeMessage(m) + "z";
    auto decoded = DecodeMessage(bytes);
    ASSERT_FALSE(decoded.ok()) << MessageTypeName(TypeOf(m));
    EXPECT_EQ(decoded.status().code(), Code::kCorruption);
    EXPECT_NE(decoded.status().message().find("trailing"), std::string::npos)
        << decoded.status().message();
  }
}

TEST(MessagesTest, UnknownTypeIsCorruption) {
  for (int type : {0, 11, 100, 255}) {
    std::string bytes(1, static_cast<char>(type));
    bytes += std::string(16, '\0');
    auto decoded = DecodeMessage(bytes);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), Code::kCorruption);
    EXPECT_NE(decoded.status().message().find("unknown type"), std::string::npos);
  }
}

TEST(MessagesTest, WantCountOverLimitIsRefusedBeforeAllocating) {
  ByteWriter w;
  w.U8(static_cast<uint8_t>(MessageType::kWant));
  w.U64(7);
  w.U64(42);
  w.U64(9);
  w.U8(0);
  w.U32(0xffffffff);  // claims 4 billion indexes, carries none
  auto decoded = DecodeMessage(w.str());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Code::kCorruption);

  // Within the limit but more than the bytes that follow.
  ByteWriter w2;
  w2.U8(static_cast<uint8_t>(MessageType::kWant));
  w2.U64(7);
  w2.U64(42);
  w2.U64(9);
  w2.U8(0);
  w2.U32(1000);
  w2.U64(1);
  EXPECT_FALSE(DecodeMessage(w2.str()).ok());

  // Over kMaxWantIndexes even with the bytes present.
  WantMsg big{ObjectId{1, 2}, 3, false, {}};
  for (uint64_t i = 0; i <= kMaxWantIndexes; ++i) big.indexes.push_back(i);
  EXPECT_FALSE(DecodeMessage(EncodeMessage(big)).ok());
  big.indexes.pop_back();
  EXPECT_TRUE(DecodeMessage(EncodeMessage(big)).ok());
}

TEST(MessagesTest, WantIndexesMustIncrease) {
  EXPECT_FALSE(DecodeMessage(EncodeMessage(WantMsg{ObjectId{1, 2}, 3, false, {5, 5}})).ok());
  EXPECT_FALSE(DecodeMessage(EncodeMessage(WantMsg{ObjectId{1, 2}, 3, false, {6, 5}})).ok());
}

TEST(MessagesTest, WantMoreFlagIsZeroOrOne) {
  std::string bytes = EncodeMessage(WantMsg{ObjectId{1, 2}, 3, true, {}});
  bytes[1 + 16 + 8] = 2;
  EXPECT_FALSE(DecodeMessage(bytes).ok());
}

TEST(MessagesTest, ChunkOverSixtyFourKibIsCorruption) {
  ChunkMsg c{ObjectId{1, 2}, 0, HlcStamp{1, 1}, std::string(store::kChunkSize + 1, 'x')};
  auto decoded = DecodeMessage(EncodeMessage(c));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Code::kCorruption);
  c.data.resize(store::kChunkSize);
  EXPECT_TRUE(DecodeMessage(EncodeMessage(c)).ok());
}

TEST(MessagesTest, ChunkLengthLargerThanMessageIsCorruption) {
  ByteWriter w;
  w.U8(static_cast<uint8_t>(MessageType::kChunk));
  for (int i = 0; i < 5; ++i) w.U64(1);
  w.U32(60000);  // announces 60000 bytes, carries 3
  w.Raw("abc");
  EXPECT_FALSE(DecodeMessage(w.str()).ok());
}

TEST(MessagesTest, InlineChunkCountOverLimitIsCorruption) {
  ByteWriter w;
  w.U8(static_cast<uint8_t>(MessageType::kObject));
  w.U64(9);
  w.Bytes(EncodeObject(SmallFile()));
  w.U32(static_cast<uint32_t>(kMaxInlineChunks + 1));
  for (size_t i = 0; i <= kMaxInlineChunks; ++i) {
    w.U64(i);
    w.U32(0);
  }
  auto decoded = DecodeMessage(w.str());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Code::kCorruption);
}

TEST(MessagesTest, InlineChunkOutsideTheManifestIsCorruption) {
  OutgoingObject o = WithInline();
  o.inline_chunks[5] = "zz";  // the manifest has chunks 0 and 1 only
  auto decoded = DecodeMessage(EncodeMessage(ObjectMsg{o}));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("not in the manifest"), std::string::npos);
}

TEST(MessagesTest, MalformedEmbeddedObjectIsCorruption) {
  ByteWriter w;
  w.U8(static_cast<uint8_t>(MessageType::kObject));
  w.U64(9);
  w.Bytes("\x01garbage");
  w.U32(0);
  auto decoded = DecodeMessage(w.str());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Code::kCorruption);
  EXPECT_NE(decoded.status().message().find("OBJECT"), std::string::npos);
}

TEST(MessagesTest, ObjectSeqZeroIsCorruption) {
  OutgoingObject o = WithInline();
  o.seq = 0;
  EXPECT_FALSE(DecodeMessage(EncodeMessage(ObjectMsg{o})).ok());
}

TEST(MessagesTest, EmptyInputIsCorruption) {
  auto decoded = DecodeMessage("");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Code::kCorruption);
}

TEST(MessagesTest, RandomBytesNeverCrash) {
  uint32_t x = 12345;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(static_cast<size_t>(x % 200), '\0');
    for (char& c : bytes) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      c = static_cast<char>(x);
    }
    if (!bytes.empty()) bytes[0] = static_cast<char>(1 + x % 8);  // a valid type, mostly
    auto decoded = DecodeMessage(bytes);
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), Code::kCorruption);
    }
  }
}

TEST(MessagesTest, NeedsWantWhenAnyChunkIsNotInline) {
  OutgoingObject o = WithInline();
  EXPECT_FALSE(NeedsWant(o));
  o.inline_chunks.erase(1);
  EXPECT_TRUE(NeedsWant(o));
  o.inline_chunks.clear();
  o.state.chunks.clear();
  EXPECT_FALSE(NeedsWant(o));  // an empty file needs nothing
}

TEST(MessagesTest, FullSizeObjectFitsInOneFrame) {
  OutgoingObject o = WithInline();
  o.state.size = 4 * store::kChunkSize;
  o.state.chunks.clear();
  o.inline_chunks.clear();
  for (uint64_t i = 0; i < 4; ++i) {
    o.state.chunks.push_back(ChunkRef{i, HlcStamp{100 + i, 7}});
    o.inline_chunks[i] = std::string(store::kChunkSize, 'q');
  }
  EXPECT_LT(EncodeMessage(ObjectMsg{o}).size(), crypto::kMaxFramePlaintext);
}

}  // namespace
}  // namespace kvfs::sync
