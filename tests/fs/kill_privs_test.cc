// kill_privs (fs/kill_privs.h): which raw requests ask the daemon to drop
// set-user-ID bits, the INIT reply patch, and the mode left afterwards.
#include "fs/kill_privs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <sys/stat.h>

#include <cstring>
#include <string>

namespace kvfs::fs {
namespace {

// A request as the kernel writes it: fuse_in_header, then `body`.
template <typename Body>
std::string Request(uint32_t opcode, uint64_t unique, const Body& body) {
  fuse_in_header head{};
  head.opcode = opcode;
  head.unique = unique;
  head.len = sizeof head + sizeof body;
  std::string out(reinterpret_cast<const char*>(&head), sizeof head);
  out.append(reinterpret_cast<const char*>(&body), sizeof body);
  return out;
}

RequestPrivs Parse(const std::string& request) {
  return ParseRequestPrivs(request.data(), request.size());
}

// Whether a request of `opcode` with `body` asks to drop the bits.
template <typename Body>
bool Kills(uint32_t opcode, const Body& body) {
  return Parse(Request(opcode, 1, body)).kill;
}

TEST(KillPrivsTest, WithoutPrivsDropsSetUidAndAnExecutableSetGid) {
  EXPECT_EQ(WithoutPrivs(06777), 0777u);
  EXPECT_EQ(WithoutPrivs(04755), 0755u);
  EXPECT_EQ(WithoutPrivs(02755), 0755u);
  EXPECT_EQ(WithoutPrivs(02767), 02767u);  // no group execute: a locking mark, kept
  EXPECT_EQ(WithoutPrivs(01777), 01777u);  // sticky is not a privilege
  EXPECT_EQ(WithoutPrivs(0644), 0644u);
}

TEST(KillPrivsTest, AWriteAsksOnlyWhenTheKernelFlagsIt) {
  fuse_write_in write{};
  EXPECT_FALSE(Kills(FUSE_WRITE, write));
  write.write_flags = FUSE_WRITE_KILL_SUIDGID;
  EXPECT_TRUE(Kills(FUSE_WRITE, write));
  write.write_flags = FUSE_WRITE_CACHE;
  EXPECT_FALSE(Kills(FUSE_WRITE, write));
}

TEST(KillPrivsTest, SetattrAndOpenAskThroughTheirOwnFlags) {
  fuse_setattr_in setattr{};
  setattr.valid = FATTR_SIZE;
  fuse_open_in open{};
  open.flags = O_WRONLY | O_TRUNC;
  EXPECT_FALSE(Kills(FUSE_SETATTR, setattr));
  EXPECT_FALSE(Kills(FUSE_OPEN, open));
  setattr.valid |= FATTR_KILL_SUIDGID;
  open.open_flags = FUSE_OPEN_KILL_SUIDGID;
  EXPECT_TRUE(Kills(FUSE_SETATTR, setattr));
  EXPECT_TRUE(Kills(FUSE_OPEN, open));
}

TEST(KillPrivsTest, ShortOrOtherRequestsAskNothing) {
  fuse_write_in write{};
  write.write_flags = FUSE_WRITE_KILL_SUIDGID;
  std::string request = Request(FUSE_WRITE, 8, write);
  request.resize(sizeof(fuse_in_header) + offsetof(fuse_write_in, write_flags));
  EXPECT_FALSE(Parse(request).kill);
  EXPECT_FALSE(ParseRequestPrivs(request.data(), 10).kill);
  // The same flag bits in a request that has no such meaning.
  EXPECT_FALSE(Kills(FUSE_READ, write));
}

TEST(KillPrivsTest, InitOffersTheFlagOnlyWhenTheKernelDoes) {
  fuse_init_in init{};
  init.major = FUSE_KERNEL_VERSION;
  init.flags = FUSE_ASYNC_READ;
  RequestPrivs privs = Parse(Request(FUSE_INIT, 2, init));
  EXPECT_FALSE(privs.init_offers_killpriv_v2);
  init.flags |= FUSE_HANDLE_KILLPRIV_V2;
  privs = Parse(Request(FUSE_INIT, 2, init));
  EXPECT_TRUE(privs.init_offers_killpriv_v2);
  EXPECT_EQ(privs.unique, 2u);
  EXPECT_FALSE(privs.kill);
}

// An INIT reply as libfuse hands it to writev: header, then fuse_init_out.
struct InitReply {
  fuse_out_header head{};
  fuse_init_out out{};
  iovec iov[2];
  explicit InitReply(uint64_t unique, int32_t error = 0) {
    head.unique = unique;
    head.error = error;
    head.len = sizeof head + sizeof out;
    out.flags = FUSE_ASYNC_READ | FUSE_BIG_WRITES;
    iov[0] = {&head, sizeof head};
    iov[1] = {&out, sizeof out};
  }
  uint32_t SentFlags() const {
    fuse_init_out sent;
    std::memcpy(&sent, iov[1].iov_base, sizeof sent);
    return sent.flags;
  }
};

TEST(KillPrivsTest, TheInitReplyGetsTheFlagInACopy) {
  InitReply reply(2);
  char patched[sizeof(fuse_init_out)];
  ASSERT_TRUE(AcceptKillPrivV2(reply.iov, 2, 2, patched, sizeof patched));
  EXPECT_EQ(reply.iov[1].iov_base, static_cast<void*>(patched));
  EXPECT_EQ(reply.SentFlags(),
            uint32_t{FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_HANDLE_KILLPRIV_V2});
  EXPECT_EQ(reply.out.flags,
            uint32_t{FUSE_ASYNC_READ | FUSE_BIG_WRITES});  // libfuse's own untouched
}

TEST(KillPrivsTest, OtherRepliesAreLeftAlone) {
  char patched[sizeof(fuse_init_out)];
  InitReply other(3);
  EXPECT_FALSE(AcceptKillPrivV2(other.iov, 2, 2, patched, sizeof patched));
  EXPECT_EQ(other.iov[1].iov_base, static_cast<void*>(&other.out));
  InitReply refused(2, -EPROTO);
  EXPECT_FALSE(AcceptKillPrivV2(refused.iov, 2, 2, patched, sizeof patched));
  InitReply alone(2);
  EXPECT_FALSE(AcceptKillPrivV2(alone.iov, 1, 2, patched, sizeof patched));
  InitReply too_big(2);
  EXPECT_FALSE(AcceptKillPrivV2(too_big.iov, 2, 2, patched, sizeof patched - 1));
  EXPECT_EQ(too_big.SentFlags(), uint32_t{FUSE_ASYNC_READ | FUSE_BIG_WRITES});
}

}  // namespace
}  // namespace kvfs::fs
