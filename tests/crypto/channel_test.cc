#include "crypto/channel.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace kvfs::crypto {
namespace {

SessionKey RandomKey() {
  SessionKey key;
  randombytes_buf(key.data(), key.size());
  return key;
}

// Two ends of one connection, headers exchanged, as the handshake leaves them.
struct Pair {
  std::unique_ptr<SecureChannel> a;
  std::unique_ptr<SecureChannel> b;
};

Pair MakePair() {
  SessionKey a_to_b = RandomKey();
  SessionKey b_to_a = RandomKey();
  Pair p{SecureChannel::Create(a_to_b, b_to_a), SecureChannel::Create(b_to_a, a_to_b)};
  EXPECT_TRUE(p.a->OpenHeader(p.b->Header()).ok());
  EXPECT_TRUE(p.b->OpenHeader(p.a->Header()).ok());
  return p;
}

std::string SealOk(SecureChannel& ch, std::string_view plaintext, bool final = false) {
  Result<std::string> frame = ch.Seal(plaintext, final);
  EXPECT_TRUE(frame.ok()) << frame.status().message();
  return frame.ok() ? *frame : std::string();
}

// `bad` is refused, and the channel is dead afterwards: `genuine`, a frame the receiver
// would have accepted in its place, now fails too.
void ExpectRejectedAndDead(SecureChannel& receiver, std::string_view bad,
                           std::string_view genuine) {
  Result<std::string> opened = receiver.Open(bad);
  ASSERT_FALSE(opened.ok()) << "bad frame was accepted";
  EXPECT_EQ(opened.status().code(), Code::kCorruption) << opened.status().message();
  EXPECT_TRUE(receiver.broken());
  EXPECT_FALSE(receiver.Open(genuine).ok()) << "channel still open after a rejected frame";
  EXPECT_FALSE(receiver.Seal("reply").ok());
}

TEST(SecureChannelTest, HeaderHasFixedSizeAndIsFresh) {
  SessionKey k = RandomKey();
  auto a = SecureChannel::Create(k, k);
  auto b = SecureChannel::Create(k, k);
  EXPECT_EQ(a->Header().size(), kChannelHeaderSize);
  EXPECT_NE(a->Header(), b->Header());
}

TEST(SecureChannelTest, RoundTripBothDirections) {
  Pair p = MakePair();
  for (std::string msg : {std::string("hello"), std::string(), std::string(1000, '\0'),
                          std::string("\xff\x00\x01", 3)}) {
    std::string frame = SealOk(*p.a, msg);
    EXPECT_EQ(frame.size(), msg.size() + kFrameOverhead);
    if (msg.size() > 4) {
      EXPECT_EQ(frame.find(msg), std::string::npos) << "plaintext visible";
    }
    Result<std::string> opened = p.b->Open(frame);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    EXPECT_EQ(*opened, msg);

    Result<std::string> back = p.a->Open(SealOk(*p.b, msg + "!"));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, msg + "!");
  }
}

TEST(SecureChannelTest, MaxPlaintextAcceptedOneMoreRefused) {
  Pair p = MakePair();
  std::string big(kMaxFramePlaintext, 'x');
  Result<std::string> opened = p.b->Open(SealOk(*p.a, big));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(opened->size(), kMaxFramePlaintext);
  big.push_back('x');
  Result<std::string> frame = p.a->Seal(big);
  EXPECT_EQ(frame.status().code(), Code::kInvalid);
  EXPECT_FALSE(p.a->broken()) << "an oversized Seal is a caller error, not an attack";
  EXPECT_TRUE(p.b->Open(SealOk(*p.a, "after")).ok());
}

TEST(SecureChannelTest, SameMessageSealsDifferently) {
  Pair p = MakePair();
  EXPECT_NE(SealOk(*p.a, "same"), SealOk(*p.a, "same"));
}

TEST(SecureChannelTest, TamperedByteAtAnyPositionIsRejected) {
  const std::string msg = "the quick brown fox jumps over the lazy dog";
  const std::size_t frame_size = msg.size() + kFrameOverhead;
  for (std::size_t pos : {std::size_t{0}, std::size_t{1}, std::size_t{10}, msg.size(),
                          frame_size - 16, frame_size - 1}) {
    for (unsigned char flip : {0x01, 0x80}) {
      SCOPED_TRACE("position " + std::to_string(pos) + " flip " + std::to_string(flip));
      Pair p = MakePair();
      const std::string frame = SealOk(*p.a, msg);
      std::string tampered = frame;
      tampered[pos] = static_cast<char>(tampered[pos] ^ flip);
      ExpectRejectedAndDead(*p.b, tampered, frame);
    }
  }
}

TEST(SecureChannelTest, TruncatedFrameIsRejected) {
  for (std::size_t keep :
       {std::size_t{0}, std::size_t{1}, kFrameOverhead - 1, kFrameOverhead, kFrameOverhead + 4}) {
    SCOPED_TRACE("kept " + std::to_string(keep));
    Pair p = MakePair();
    std::string frame = SealOk(*p.a, "twelve bytes");
    ExpectRejectedAndDead(*p.b, frame.substr(0, keep), frame);
  }
}

TEST(SecureChannelTest, ExtendedFrameIsRejected) {
  Pair p = MakePair();
  std::string frame = SealOk(*p.a, "data");
  ExpectRejectedAndDead(*p.b, frame + "x", frame);
}

TEST(SecureChannelTest, ReplayedFrameIsRejected) {
  Pair p = MakePair();
  std::string frame = SealOk(*p.a, "pay 10");
  ASSERT_TRUE(p.b->Open(frame).ok());
  ExpectRejectedAndDead(*p.b, frame, SealOk(*p.a, "pay 20"));
}

TEST(SecureChannelTest, ReorderedFramesAreRejected) {
  Pair p = MakePair();
  std::string first = SealOk(*p.a, "first");
  std::string second = SealOk(*p.a, "second");
  Result<std::string> opened = p.b->Open(second);
  EXPECT_FALSE(opened.ok());
  EXPECT_TRUE(p.b->broken());
  EXPECT_FALSE(p.b->Open(first).ok()) << "the right frame must not help after an error";
}

TEST(SecureChannelTest, DroppedFrameIsDetected) {
  Pair p = MakePair();
  std::string dropped = SealOk(*p.a, "dropped on the wire");
  ExpectRejectedAndDead(*p.b, SealOk(*p.a, "next"), dropped);
}

TEST(SecureChannelTest, ReflectedFrameIsRejected) {
  // A frame sent by A and bounced back to A: the directions use different keys.
  Pair p = MakePair();
  std::string frame = SealOk(*p.a, "to b");
  EXPECT_FALSE(p.a->Open(frame).ok());
}

TEST(SecureChannelTest, FrameFromAnotherConnectionIsRejected) {
  Pair p = MakePair();
  Pair other = MakePair();
  ExpectRejectedAndDead(*p.b, SealOk(*other.a, "foreign"), SealOk(*p.a, "own"));
}

TEST(SecureChannelTest, FinalFrameEndsTheStream) {
  Pair p = MakePair();
  EXPECT_FALSE(p.b->PeerFinished());
  Result<std::string> opened = p.b->Open(SealOk(*p.a, "bye", /*final=*/true));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "bye");
  EXPECT_TRUE(p.b->PeerFinished());
  Result<std::string> more = p.a->Seal("more");
  EXPECT_EQ(more.status().code(), Code::kInvalid);
  // The other direction keeps working.
  EXPECT_TRUE(p.a->Open(SealOk(*p.b, "ack")).ok());
}

// Frames made with raw libsodium, as an attacker holding the key could, to send what
// SecureChannel itself never seals.
class RawSender {
 public:
  explicit RawSender(const SessionKey& key) : header_(kChannelHeaderSize, '\0') {
    crypto_secretstream_xchacha20poly1305_init_push(
        &state_, reinterpret_cast<unsigned char*>(header_.data()), key.data());
  }
  const std::string& header() const { return header_; }
  std::string Push(std::string_view msg, unsigned char tag) {
    std::string out(msg.size() + kFrameOverhead, '\0');
    crypto_secretstream_xchacha20poly1305_push(
        &state_, reinterpret_cast<unsigned char*>(out.data()), nullptr,
        reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), nullptr, 0, tag);
    return out;
  }

 private:
  crypto_secretstream_xchacha20poly1305_state state_;
  std::string header_;
};

TEST(SecureChannelTest, FrameAfterFinalIsRejected) {
  SessionKey key = RandomKey();
  RawSender sender(key);
  auto receiver = SecureChannel::Create(RandomKey(), key);
  ASSERT_TRUE(receiver->OpenHeader(sender.header()).ok());
  ASSERT_TRUE(
      receiver->Open(sender.Push("last", crypto_secretstream_xchacha20poly1305_TAG_FINAL)).ok());
  Result<std::string> after =
      receiver->Open(sender.Push("smuggled", crypto_secretstream_xchacha20poly1305_TAG_MESSAGE));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), Code::kCorruption);
  EXPECT_NE(after.status().message().find("after its final frame"), std::string::npos);
  EXPECT_TRUE(receiver->broken());
}

TEST(SecureChannelTest, UnexpectedStreamTagIsRejected) {
  SessionKey key = RandomKey();
  RawSender sender(key);
  auto receiver = SecureChannel::Create(RandomKey(), key);
  ASSERT_TRUE(receiver->OpenHeader(sender.header()).ok());
  ASSERT_TRUE(
      receiver->Open(sender.Push("ok", crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)).ok());
  Result<std::string> pushed =
      receiver->Open(sender.Push("odd", crypto_secretstream_xchacha20poly1305_TAG_PUSH));
  EXPECT_FALSE(pushed.ok());
  EXPECT_TRUE(receiver->broken());
}

TEST(SecureChannelTest, OpenBeforeHeaderFails) {
  SessionKey k = RandomKey();
  auto a = SecureChannel::Create(k, k);
  auto b = SecureChannel::Create(k, k);
  Result<std::string> opened = b->Open(SealOk(*a, "early"));
  EXPECT_EQ(opened.status().code(), Code::kInvalid);
  EXPECT_TRUE(b->broken());
}

TEST(SecureChannelTest, BadHeaderIsRejected) {
  SessionKey k = RandomKey();
  auto a = SecureChannel::Create(k, k);
  for (std::size_t size : {std::size_t{0}, kChannelHeaderSize - 1, kChannelHeaderSize + 1}) {
    auto b = SecureChannel::Create(k, k);
    Status st = b->OpenHeader(std::string(size, 'h'));
    EXPECT_EQ(st.code(), Code::kCorruption) << size;
    EXPECT_TRUE(b->broken());
  }
  // A header altered on the wire gives a stream whose frames fail.
  auto b = SecureChannel::Create(k, k);
  std::string header = a->Header();
  header[3] ^= 0x20;
  ASSERT_TRUE(b->OpenHeader(header).ok());
  EXPECT_FALSE(b->Open(SealOk(*a, "x")).ok());
}

TEST(SecureChannelTest, HeaderTwiceFails) {
  Pair p = MakePair();
  EXPECT_EQ(p.b->OpenHeader(p.a->Header()).code(), Code::kInvalid);
}

TEST(SecureChannelTest, OverlongFrameIsRejectedWithoutDecrypting) {
  Pair p = MakePair();
  ExpectRejectedAndDead(*p.b, std::string(kMaxFrameCiphertext + 1, 'z'), SealOk(*p.a, "ok"));
}

}  // namespace
}  // namespace kvfs::crypto
