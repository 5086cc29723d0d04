// Record encodings: exact round trips, and damaged bytes reported, never misread.
#include "store/record_codec.h"

#include <gtest/gtest.h>

#include <random>

#include "store_test_util.h"

namespace kvfs::store {
namespace {

Inode SampleInode() {
  Inode n;
  n.ino = 42;
  n.oid = ObjectId{0x1122334455667788ull, 42};
  n.type = FileType::kRegular;
  n.deleted = false;
  n.mode = 04755;
  n.uid = 1000;
  n.gid = 100;
  n.size = (uint64_t{1} << 40) + 3;
  n.atime = {1'700'000'000, 1};
  n.mtime = {-5, 999'999'999};
  n.ctime = {0, 0};
  n.nlink = 3;
  n.links = {{1, "a"}, {7, std::string(255, 'z')}, {9, std::string("\xff\x00q", 3)}};
  n.stamp = HlcStamp::Make(1'800'000'000'000ull, 17, 0x99);
  n.versions = {{1, 4}, {0x99, 12}, {~uint64_t{0}, 1}};
  n.seq = 123456789;
  return n;
}

void ExpectSame(const Inode& a, const Inode& b) {
  EXPECT_EQ(a.ino, b.ino);
  EXPECT_EQ(a.oid, b.oid);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.deleted, b.deleted);
  EXPECT_EQ(a.mode, b.mode);
  EXPECT_EQ(a.uid, b.uid);
  EXPECT_EQ(a.gid, b.gid);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.atime, b.atime);
  EXPECT_EQ(a.mtime, b.mtime);
  EXPECT_EQ(a.ctime, b.ctime);
  EXPECT_EQ(a.nlink, b.nlink);
  EXPECT_EQ(a.links, b.links);
  EXPECT_EQ(a.symlink_target, b.symlink_target);
  EXPECT_EQ(a.stamp, b.stamp);
  EXPECT_EQ(a.versions, b.versions);
  EXPECT_EQ(a.seq, b.seq);
}

TEST(RecordCodecTest, InodeRoundTrip) {
  const Inode n = SampleInode();
  auto back = DecodeInode(n.ino, EncodeInode(n));
  ASSERT_TRUE(back.ok()) << back.status().message();
  ExpectSame(n, *back);
}

TEST(RecordCodecTest, SymlinkTombstoneRoundTrip) {
  Inode n = SampleInode();
  n.type = FileType::kSymlink;
  n.deleted = true;
  n.links.clear();
  n.nlink = 0;
  n.symlink_target = std::string(kMaxSymlinkLen, '/');
  n.versions.clear();
  auto back = DecodeInode(n.ino, EncodeInode(n));
  ASSERT_TRUE(back.ok()) << back.status().message();
  ExpectSame(n, *back);
}

TEST(RecordCodecTest, DefaultInodeRoundTrip) {
  Inode n;
  auto back = DecodeInode(0, EncodeInode(n));
  ASSERT_TRUE(back.ok()) << back.status().message();
  ExpectSame(n, *back);
}

TEST(RecordCodecTest, EveryTruncationOfAnInodeIsCorruption) {
  const std::string bytes = EncodeInode(SampleInode());
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto r = DecodeInode(42, std::string_view(bytes).substr(0, len));
    ASSERT_FALSE(r.ok()) << "length " << len;
    EXPECT_EQ(r.status().code(), Code::kCorruption) << "length " << len;
  }
}

TEST(RecordCodecTest, TrailingBytesAreCorruption) {
  std::string bytes = EncodeInode(SampleInode());
  bytes.push_back('\0');
  EXPECT_EQ(DecodeInode(42, bytes).status().code(), Code::kCorruption);
}

TEST(RecordCodecTest, WrongInodeVersionIsVersionError) {
  std::string bytes = EncodeInode(SampleInode());
  bytes[0] = static_cast<char>(kInodeRecordVersion + 1);
  EXPECT_EQ(DecodeInode(42, bytes).status().code(), Code::kVersion);
  bytes[0] = 0;
  EXPECT_EQ(DecodeInode(42, bytes).status().code(), Code::kVersion);
}

TEST(RecordCodecTest, BadTypeIsCorruption) {
  std::string bytes = EncodeInode(SampleInode());
  bytes[1 + 16] = 9;  // after version and oid
  EXPECT_EQ(DecodeInode(42, bytes).status().code(), Code::kCorruption);
}

TEST(RecordCodecTest, HugeCountsAreRejectedWithoutAllocating) {
  // A link count of 0xffffffff with a few bytes behind it must not allocate 4G links.
  Inode n = SampleInode();
  n.links.clear();
  std::string bytes = EncodeInode(n);
  // The link count sits after: version 1, oid 16, type 1, deleted 1, mode/uid/gid 12,
  // size 8, three times 12, nlink 4.
  const size_t at = 1 + 16 + 1 + 1 + 12 + 8 + 36 + 4;
  for (int i = 0; i < 4; ++i) bytes[at + i] = '\xff';
  EXPECT_EQ(DecodeInode(42, bytes).status().code(), Code::kCorruption);
}

TEST(RecordCodecTest, RandomByteFlipsNeverCrash) {
  const uint64_t seed = testing::TestSeed();
  SCOPED_TRACE(testing::SeedNote(seed));
  std::mt19937 rng(seed);
  const std::string good = EncodeInode(SampleInode());
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 2) bytes.resize(rng() % bytes.size());
    auto r = DecodeInode(1, bytes);  // must return, ok or not
    if (!r.ok()) {
      EXPECT_TRUE(r.status().code() == Code::kCorruption || r.status().code() == Code::kVersion);
    }
  }
}

TEST(RecordCodecTest, NanosecondsOutOfRangeAreCorruption) {
  Inode n = SampleInode();
  n.mtime.nsec = 1'000'000'000;
  EXPECT_EQ(DecodeInode(42, EncodeInode(n)).status().code(), Code::kCorruption);
}

TEST(RecordCodecTest, ChangeRoundTrip) {
  Change c{77, 1234, ChangeOp::kRename, HlcStamp::Make(99, 3, 4)};
  auto back = DecodeChange(77, EncodeChange(c));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->seq, 77u);
  EXPECT_EQ(back->ino, 1234u);
  EXPECT_EQ(back->op, ChangeOp::kRename);
  EXPECT_EQ(back->stamp, c.stamp);
}

TEST(RecordCodecTest, EveryTruncationOfAChangeIsCorruption) {
  const std::string bytes = EncodeChange(Change{1, 2, ChangeOp::kWrite, HlcStamp::Make(1, 2, 3)});
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_EQ(DecodeChange(1, bytes.substr(0, len)).status().code(), Code::kCorruption)
        << "length " << len;
  }
}

TEST(RecordCodecTest, BadChangeOpIsCorruption) {
  std::string bytes = EncodeChange(Change{1, 2, ChangeOp::kWrite, HlcStamp::Make(1, 2, 3)});
  bytes[9] = 0;
  EXPECT_EQ(DecodeChange(1, bytes).status().code(), Code::kCorruption);
  bytes[9] = 9;
  EXPECT_EQ(DecodeChange(1, bytes).status().code(), Code::kCorruption);
}

TEST(RecordCodecTest, WrongChangeVersionIsVersionError) {
  std::string bytes = EncodeChange(Change{1, 2, ChangeOp::kWrite, HlcStamp::Make(1, 2, 3)});
  bytes[0] = static_cast<char>(kChangeRecordVersion + 1);
  EXPECT_EQ(DecodeChange(1, bytes).status().code(), Code::kVersion);
}

TEST(RecordCodecTest, StampRoundTrip) {
  HlcStamp s = HlcStamp::Make(1'800'000'000'000ull, 65535, ~uint64_t{0});
  std::string bytes = EncodeStamp(s);
  EXPECT_EQ(bytes.size(), 16u);
  HlcStamp back;
  ASSERT_TRUE(DecodeStamp(bytes, &back));
  EXPECT_EQ(back, s);
  EXPECT_FALSE(DecodeStamp(bytes.substr(0, 15), &back));
}

TEST(RecordCodecTest, StampEncodingSortsLikeStamps) {
  HlcStamp a = HlcStamp::Make(100, 5, 9), b = HlcStamp::Make(100, 6, 1);
  EXPECT_LT(a, b);
  EXPECT_LT(EncodeStamp(a), EncodeStamp(b));
}

TEST(RecordCodecTest, DirentRoundTripAndDamage) {
  std::string bytes = EncodeDirent(99, FileType::kSymlink);
  Ino ino = 0;
  FileType type = FileType::kRegular;
  ASSERT_TRUE(DecodeDirent(bytes, &ino, &type));
  EXPECT_EQ(ino, 99u);
  EXPECT_EQ(type, FileType::kSymlink);
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_FALSE(DecodeDirent(bytes.substr(0, len), &ino, &type)) << len;
  }
  bytes.back() = 0;
  EXPECT_FALSE(DecodeDirent(bytes, &ino, &type));
  EXPECT_FALSE(DecodeDirent(EncodeDirent(1, FileType::kRegular) + "x", &ino, &type));
}

}  // namespace
}  // namespace kvfs::store
