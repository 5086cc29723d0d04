#include "crypto/handshake.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "crypto/frame.h"

namespace kvfs::crypto {
namespace {

using Channel = std::unique_ptr<SecureChannel>;

struct Connection {
  Channel initiator;
  Channel responder;
};

// Runs both sides to completion over in-memory messages; fails the test on any error.
Connection Connect(const StoreKey& initiator_key, const StoreKey& responder_key) {
  Handshake i = Handshake::Initiator(initiator_key);
  Handshake r = Handshake::Responder(responder_key);
  Result<std::string> i_confirm = i.ReceiveHello(r.Hello());
  Result<std::string> r_confirm = r.ReceiveHello(i.Hello());
  EXPECT_TRUE(i_confirm.ok()) << i_confirm.status().message();
  EXPECT_TRUE(r_confirm.ok()) << r_confirm.status().message();
  if (!i_confirm.ok() || !r_confirm.ok()) return {};
  Result<Channel> ic = i.Finish(*r_confirm);
  Result<Channel> rc = r.Finish(*i_confirm);
  EXPECT_TRUE(ic.ok()) << ic.status().message();
  EXPECT_TRUE(rc.ok()) << rc.status().message();
  if (!ic.ok() || !rc.ok()) return {};
  return {std::move(*ic), std::move(*rc)};
}

void ExpectRoundTrip(SecureChannel& from, SecureChannel& to, const std::string& msg) {
  Result<std::string> frame = from.Seal(msg);
  ASSERT_TRUE(frame.ok()) << frame.status().message();
  Result<std::string> opened = to.Open(*frame);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(*opened, msg);
}

// Feeds `hello` to a fresh responder and returns the error (or OK).
Status ResponderVerdict(std::string_view hello) {
  Handshake r = Handshake::Responder(GenerateStoreKey());
  return r.ReceiveHello(hello).status();
}

TEST(HandshakeTest, HelloLayout) {
  Handshake i = Handshake::Initiator(GenerateStoreKey());
  Handshake r = Handshake::Responder(GenerateStoreKey());
  ASSERT_EQ(i.Hello().size(), kHelloSize);
  EXPECT_EQ(kHelloSize, 70u);
  EXPECT_EQ(i.Hello().substr(0, 6), std::string("KVFS\x01\x01", 6));
  EXPECT_EQ(r.Hello().substr(0, 6), std::string("KVFS\x01\x02", 6));
  EXPECT_EQ(i.Hello(), i.Hello());
  EXPECT_EQ(i.role(), Handshake::Role::kInitiator);
  EXPECT_EQ(r.role(), Handshake::Role::kResponder);
}

TEST(HandshakeTest, HelloDoesNotRevealTheStoreKey) {
  StoreKey key = GenerateStoreKey();
  Handshake a = Handshake::Initiator(key);
  Handshake b = Handshake::Initiator(key);
  std::string raw(reinterpret_cast<const char*>(key.data()), key.size());
  EXPECT_EQ(a.Hello().find(raw.substr(0, 8)), std::string::npos);
  EXPECT_NE(a.Hello(), b.Hello()) << "ephemeral key and nonce must be fresh";
}

TEST(HandshakeTest, SameKeySucceedsAndCarriesDataBothWays) {
  StoreKey key = GenerateStoreKey();
  Connection c = Connect(key, StoreKey(key));
  ASSERT_TRUE(c.initiator && c.responder);
  for (int i = 0; i < 5; ++i) {
    ExpectRoundTrip(*c.initiator, *c.responder, "to responder " + std::to_string(i));
    ExpectRoundTrip(*c.responder, *c.initiator, "to initiator " + std::to_string(i));
  }
  ExpectRoundTrip(*c.initiator, *c.responder, std::string(100000, 'z'));
}

TEST(HandshakeTest, ResponderMayAnswerBeforeSeeingInitiatorConfirm) {
  // Message order on the wire: I hello, R hello, R confirm, I confirm.
  StoreKey key = GenerateStoreKey();
  Handshake i = Handshake::Initiator(key);
  Handshake r = Handshake::Responder(key);
  Result<std::string> r_confirm = r.ReceiveHello(i.Hello());
  ASSERT_TRUE(r_confirm.ok());
  Result<std::string> i_confirm = i.ReceiveHello(r.Hello());
  ASSERT_TRUE(i_confirm.ok());
  Result<Channel> ic = i.Finish(*r_confirm);
  ASSERT_TRUE(ic.ok()) << ic.status().message();
  Result<Channel> rc = r.Finish(*i_confirm);
  ASSERT_TRUE(rc.ok()) << rc.status().message();
  ExpectRoundTrip(**rc, **ic, "hi");
}

TEST(HandshakeTest, WrongStoreKeyFailsInBothRoles) {
  Handshake i = Handshake::Initiator(GenerateStoreKey());
  Handshake r = Handshake::Responder(GenerateStoreKey());
  Result<std::string> i_confirm = i.ReceiveHello(r.Hello());
  Result<std::string> r_confirm = r.ReceiveHello(i.Hello());
  ASSERT_TRUE(i_confirm.ok() && r_confirm.ok()) << "hellos carry no key proof yet";
  Result<Channel> ic = i.Finish(*r_confirm);
  Result<Channel> rc = r.Finish(*i_confirm);
  for (const Result<Channel>* res : {&ic, &rc}) {
    ASSERT_FALSE(res->ok());
    EXPECT_EQ(res->status().code(), Code::kAccess);
    EXPECT_NE(res->status().message().find("does not hold this store's key"), std::string::npos)
        << res->status().message();
  }
}

TEST(HandshakeTest, KeysDifferingInOneBitFail) {
  StoreKey key = GenerateStoreKey();
  StoreKey other = key;
  other.data()[17] ^= 0x04;
  Handshake i = Handshake::Initiator(key);
  Handshake r = Handshake::Responder(other);
  Result<std::string> i_confirm = i.ReceiveHello(r.Hello());
  Result<std::string> r_confirm = r.ReceiveHello(i.Hello());
  ASSERT_TRUE(i_confirm.ok() && r_confirm.ok());
  EXPECT_EQ(r.Finish(*i_confirm).status().code(), Code::kAccess);
}

TEST(HandshakeTest, SessionKeysAreFreshPerConnection) {
  // Two connections between the same key holders. If session keys repeated, the
  // second responder would accept the first initiator's confirm (header and frame).
  StoreKey key = GenerateStoreKey();
  Handshake i1 = Handshake::Initiator(key);
  Handshake r1 = Handshake::Responder(key);
  Handshake i2 = Handshake::Initiator(key);
  Handshake r2 = Handshake::Responder(key);
  Result<std::string> i1_confirm = i1.ReceiveHello(r1.Hello());
  Result<std::string> i2_confirm = i2.ReceiveHello(r2.Hello());
  Result<std::string> r2_confirm = r2.ReceiveHello(i2.Hello());
  ASSERT_TRUE(i1_confirm.ok() && i2_confirm.ok() && r2_confirm.ok());
  EXPECT_NE(*i1_confirm, *i2_confirm);
  Result<Channel> crossed = r2.Finish(*i1_confirm);
  ASSERT_FALSE(crossed.ok()) << "a confirm from another connection was accepted";
  EXPECT_EQ(crossed.status().code(), Code::kAccess);
}

TEST(HandshakeTest, FramesDoNotCarryOverBetweenConnections) {
  StoreKey key = GenerateStoreKey();
  Connection c1 = Connect(key, key);
  Connection c2 = Connect(key, key);
  ASSERT_TRUE(c1.initiator && c2.responder);
  Result<std::string> frame = c1.initiator->Seal("replay me elsewhere");
  ASSERT_TRUE(frame.ok());
  EXPECT_FALSE(c2.responder->Open(*frame).ok());
}

TEST(HandshakeTest, TamperedHelloNonceMakesBothSidesFail) {
  // The nonce is not checked on its own; it changes the transcript, so the two sides
  // derive different keys and neither confirm opens.
  StoreKey key = GenerateStoreKey();
  Handshake i = Handshake::Initiator(key);
  Handshake r = Handshake::Responder(key);
  std::string hello = i.Hello();
  hello[kHelloSize - 1] ^= 0x01;
  Result<std::string> r_confirm = r.ReceiveHello(hello);
  Result<std::string> i_confirm = i.ReceiveHello(r.Hello());
  ASSERT_TRUE(r_confirm.ok() && i_confirm.ok());
  EXPECT_EQ(i.Finish(*r_confirm).status().code(), Code::kAccess);
  EXPECT_EQ(r.Finish(*i_confirm).status().code(), Code::kAccess);
}

TEST(HandshakeTest, TamperedHelloPublicKeyFails) {
  StoreKey key = GenerateStoreKey();
  for (std::size_t pos : {std::size_t{6}, std::size_t{20}, std::size_t{37}}) {
    Handshake i = Handshake::Initiator(key);
    Handshake r = Handshake::Responder(key);
    std::string hello = r.Hello();
    hello[pos] ^= 0x40;
    Result<std::string> i_confirm = i.ReceiveHello(hello);
    Result<std::string> r_confirm = r.ReceiveHello(i.Hello());
    ASSERT_TRUE(r_confirm.ok());
    bool failed = !i_confirm.ok() || !i.Finish(*r_confirm).ok();
    EXPECT_TRUE(failed) << "initiator accepted a tampered public key at byte " << pos;
    if (i_confirm.ok()) {
      EXPECT_FALSE(r.Finish(*i_confirm).ok());
    }
  }
}

TEST(HandshakeTest, TamperedConfirmFails) {
  StoreKey key = GenerateStoreKey();
  Handshake probe = Handshake::Initiator(key);
  Handshake probe_r = Handshake::Responder(key);
  const std::size_t confirm_size = probe_r.ReceiveHello(probe.Hello())->size();
  for (std::size_t pos = 0; pos < confirm_size; pos += 5) {
    SCOPED_TRACE("byte " + std::to_string(pos));
    Handshake i = Handshake::Initiator(key);
    Handshake r = Handshake::Responder(key);
    ASSERT_TRUE(i.ReceiveHello(r.Hello()).ok());
    Result<std::string> r_confirm = r.ReceiveHello(i.Hello());
    ASSERT_TRUE(r_confirm.ok());
    std::string tampered = *r_confirm;
    tampered[pos] ^= 0x10;
    Result<Channel> ch = i.Finish(tampered);
    ASSERT_FALSE(ch.ok());
    EXPECT_EQ(ch.status().code(), Code::kAccess);
  }
}

TEST(HandshakeTest, TruncatedOrExtendedConfirmFails) {
  StoreKey key = GenerateStoreKey();
  for (int delta : {-1000, -1, +1}) {
    Handshake i = Handshake::Initiator(key);
    Handshake r = Handshake::Responder(key);
    ASSERT_TRUE(i.ReceiveHello(r.Hello()).ok());
    std::string confirm = *r.ReceiveHello(i.Hello());
    if (delta == -1000) confirm.clear();
    if (delta == -1) confirm.pop_back();
    if (delta == +1) confirm.push_back('x');
    Result<Channel> ch = i.Finish(confirm);
    EXPECT_EQ(ch.status().code(), Code::kCorruption) << delta;
  }
}

TEST(HandshakeTest, ReflectedConfirmFails) {
  StoreKey key = GenerateStoreKey();
  Handshake i = Handshake::Initiator(key);
  Handshake r = Handshake::Responder(key);
  Result<std::string> own_confirm = i.ReceiveHello(r.Hello());
  ASSERT_TRUE(own_confirm.ok());
  EXPECT_EQ(i.Finish(*own_confirm).status().code(), Code::kAccess);
}

TEST(HandshakeTest, GarbageHellosAreRejected) {
  std::string good = Handshake::Initiator(GenerateStoreKey()).Hello();

  EXPECT_EQ(ResponderVerdict("").code(), Code::kCorruption);
  EXPECT_EQ(ResponderVerdict("KVF").code(), Code::kCorruption);
  EXPECT_EQ(ResponderVerdict("KVFS").code(), Code::kCorruption);
  EXPECT_EQ(ResponderVerdict(good.substr(0, 6)).code(), Code::kCorruption);
  EXPECT_EQ(ResponderVerdict(good.substr(0, kHelloSize - 1)).code(), Code::kCorruption);
  EXPECT_EQ(ResponderVerdict(good + "x").code(), Code::kCorruption);
  EXPECT_EQ(ResponderVerdict("GET / HTTP/1.1\r\nHost: x\r\n\r\n").code(), Code::kCorruption);

  std::string wrong_magic = good;
  wrong_magic[0] = 'k';
  Status st = ResponderVerdict(wrong_magic);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("not a kvfs node"), std::string::npos) << st.message();

  for (unsigned char version : {0, 2, 255}) {
    std::string wrong_version = good;
    wrong_version[4] = static_cast<char>(version);
    st = ResponderVerdict(wrong_version);
    EXPECT_EQ(st.code(), Code::kVersion) << int{version};
    EXPECT_NE(st.message().find("version " + std::to_string(version)), std::string::npos)
        << st.message();
  }
  // A newer version is reported as such even when its hello has another size.
  std::string newer = good.substr(0, 5) + "rest";
  newer[4] = 2;
  EXPECT_EQ(ResponderVerdict(newer).code(), Code::kVersion);

  for (unsigned char role : {0, 3, 0xff}) {
    std::string bad_role = good;
    bad_role[5] = static_cast<char>(role);
    EXPECT_EQ(ResponderVerdict(bad_role).code(), Code::kCorruption) << int{role};
  }

  std::mt19937 rng(7);
  for (int n = 0; n < 50; ++n) {
    std::string noise(kHelloSize, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    EXPECT_FALSE(ResponderVerdict(noise).ok());
  }
}

TEST(HandshakeTest, SameRoleIsRejected) {
  StoreKey key = GenerateStoreKey();
  Handshake a = Handshake::Initiator(key);
  Handshake b = Handshake::Initiator(key);
  EXPECT_EQ(a.ReceiveHello(b.Hello()).status().code(), Code::kInvalid);
  Handshake c = Handshake::Responder(key);
  Handshake d = Handshake::Responder(key);
  EXPECT_EQ(c.ReceiveHello(d.Hello()).status().code(), Code::kInvalid);
}

TEST(HandshakeTest, EchoedHelloIsRejected) {
  Handshake i = Handshake::Initiator(GenerateStoreKey());
  std::string echoed = i.Hello();
  echoed[5] = static_cast<char>(Handshake::Role::kResponder);
  Result<std::string> res = i.ReceiveHello(echoed);
  EXPECT_EQ(res.status().code(), Code::kInvalid);
  EXPECT_NE(res.status().message().find("echoed"), std::string::npos);
}

TEST(HandshakeTest, LowOrderPublicKeyIsRejected) {
  std::string hello = Handshake::Initiator(GenerateStoreKey()).Hello();
  std::fill(hello.begin() + 6, hello.begin() + 38, '\0');  // The identity point.
  Status st = ResponderVerdict(hello);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("public key"), std::string::npos) << st.message();
}

TEST(HandshakeTest, CallsOutOfOrderFail) {
  StoreKey key = GenerateStoreKey();
  Handshake i = Handshake::Initiator(key);
  Handshake r = Handshake::Responder(key);
  EXPECT_EQ(i.Finish("anything").status().code(), Code::kInvalid);
  // Once failed, it stays failed.
  EXPECT_EQ(i.ReceiveHello(r.Hello()).status().code(), Code::kInvalid);

  Handshake i2 = Handshake::Initiator(key);
  Handshake r2 = Handshake::Responder(key);
  ASSERT_TRUE(i2.ReceiveHello(r2.Hello()).ok());
  EXPECT_EQ(i2.ReceiveHello(r2.Hello()).status().code(), Code::kInvalid);
}

TEST(HandshakeTest, FailedFinishCannotBeRetried) {
  StoreKey key = GenerateStoreKey();
  Handshake i = Handshake::Initiator(key);
  Handshake r = Handshake::Responder(key);
  ASSERT_TRUE(i.ReceiveHello(r.Hello()).ok());
  std::string confirm = *r.ReceiveHello(i.Hello());
  std::string tampered = confirm;
  tampered.back() ^= 1;
  ASSERT_FALSE(i.Finish(tampered).ok());
  EXPECT_EQ(i.Finish(confirm).status().code(), Code::kInvalid)
      << "a second try with the genuine confirm must not succeed";
}

// The whole exchange over two byte streams that deliver one byte at a time, as a real
// transport would use it: handshake messages and sealed frames, each length-prefixed.
TEST(HandshakeTest, EndToEndOverFramedByteStreams) {
  StoreKey key = GenerateStoreKey();
  Handshake i = Handshake::Initiator(key);
  Handshake r = Handshake::Responder(key);
  std::string to_r;  // Bytes on the wire, initiator -> responder.
  std::string to_i;
  FrameReader r_reader;
  FrameReader i_reader;
  auto deliver = [](std::string& wire, FrameReader& reader) {
    for (char c : wire) EXPECT_TRUE(reader.Feed(std::string_view(&c, 1)).ok());
    wire.clear();
    std::optional<std::string> frame = reader.Next();
    EXPECT_TRUE(frame.has_value());
    return frame.value_or("");
  };

  to_r += *EncodeFrame(i.Hello());
  to_i += *EncodeFrame(r.Hello());
  Result<std::string> r_confirm = r.ReceiveHello(deliver(to_r, r_reader));
  Result<std::string> i_confirm = i.ReceiveHello(deliver(to_i, i_reader));
  ASSERT_TRUE(r_confirm.ok() && i_confirm.ok());
  to_r += *EncodeFrame(*i_confirm);
  to_i += *EncodeFrame(*r_confirm);
  Result<Channel> rc = r.Finish(deliver(to_r, r_reader));
  Result<Channel> ic = i.Finish(deliver(to_i, i_reader));
  ASSERT_TRUE(rc.ok() && ic.ok());

  for (const std::string& msg : {std::string("put a/b"), std::string(), std::string(5000, 'v')}) {
    to_r += *EncodeFrame(*(*ic)->Seal(msg));
    Result<std::string> got = (*rc)->Open(deliver(to_r, r_reader));
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(*got, msg);
  }
  to_i += *EncodeFrame(*(*rc)->Seal("done", /*final=*/true));
  Result<std::string> last = (*ic)->Open(deliver(to_i, i_reader));
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE((*ic)->PeerFinished());
  EXPECT_TRUE(i_reader.AtFrameBoundary());
}

}  // namespace
}  // namespace kvfs::crypto
