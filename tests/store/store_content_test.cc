// File content in chunks: writes at any offset, truncate, holes, and xattrs.
#include <gtest/gtest.h>
#include <sys/xattr.h>

#include <random>

#include "store/txn.h"
#include "store_test_util.h"

namespace kvfs::store {
namespace {

using testing::StoreFixture;

class StoreContentTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    auto f = Create(kRootIno, "f");
    ASSERT_TRUE(f.ok());
    ino_ = f->ino;
  }
  std::string ReadAll() {
    auto n = Get(ino_);
    EXPECT_TRUE(n.ok());
    auto data = Read(ino_, 0, n.ok() ? n->size : 0);
    EXPECT_TRUE(data.ok()) << data.status().message();
    return data.ok() ? *data : std::string();
  }
  Ino ino_ = 0;
};

std::string Pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 7 + i / 251);
  return s;
}

TEST_F(StoreContentTest, WriteAndReadBack) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode n, Write(ino_, 0, "hello world"));
  EXPECT_EQ(n.size, 11u);
  EXPECT_EQ(*Read(ino_, 0, 100), "hello world");
  EXPECT_EQ(*Read(ino_, 6, 3), "wor");
  EXPECT_EQ(*Read(ino_, 11, 5), "");
  EXPECT_EQ(*Read(ino_, 1000, 5), "");
}

TEST_F(StoreContentTest, WriteAcrossChunkBoundary) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode n, Write(ino_, kChunkSize - 3, "0123456789"));
  EXPECT_EQ(n.size, kChunkSize + 7);
  EXPECT_EQ(*Read(ino_, kChunkSize - 3, 10), "0123456789");
  EXPECT_EQ(*Read(ino_, kChunkSize - 1, 3), "234");
  EXPECT_EQ(*Read(ino_, 0, 4), std::string(4, '\0'));
  // Overwrite the middle of that span, across the boundary again.
  ASSERT_TRUE(Write(ino_, kChunkSize - 1, "ab").ok());
  EXPECT_EQ(*Read(ino_, kChunkSize - 3, 10), "01ab456789");
  EXPECT_EQ(Get(ino_)->size, kChunkSize + 7);
}

TEST_F(StoreContentTest, LargeWriteSpanningManyChunks) {
  const std::string data = Pattern(5 * kChunkSize + 123, 'a');
  ASSERT_TRUE(Write(ino_, 17, data).ok());
  EXPECT_EQ(Get(ino_)->size, 17 + data.size());
  EXPECT_EQ(ReadAll(), std::string(17, '\0') + data);
  EXPECT_EQ(*Read(ino_, 17 + 2 * kChunkSize, 5), data.substr(2 * kChunkSize, 5));
}

// A read of more chunks than it prefetches at once (64), with holes between them:
// the copy must pick each chunk's bytes, whatever the window does.
TEST_F(StoreContentTest, ReadLongerThanReadAheadWindow) {
  std::string expected(150 * kChunkSize, '\0');
  for (uint64_t c = 0; c < 150; c += (c % 7 == 3) ? 2 : 1) {  // every 7th chunk a hole
    const std::string piece = Pattern(kChunkSize - 11, static_cast<char>(c));
    ASSERT_TRUE(Write(ino_, c * kChunkSize + 5, piece).ok());
    expected.replace(c * kChunkSize + 5, piece.size(), piece);
  }
  expected.resize(Get(ino_)->size);
  EXPECT_EQ(ReadAll(), expected);
  EXPECT_EQ(*Read(ino_, 70 * kChunkSize + 3, 2 * kChunkSize),
            expected.substr(70 * kChunkSize + 3, 2 * kChunkSize));
}

TEST_F(StoreContentTest, PrefetchContentCountsOnlyThisFilesChunks) {
  ASSERT_TRUE(Write(ino_, 0, Pattern(10 * kChunkSize + 1, 'p')).ok());  // 11 chunks
  KVFS_ASSERT_OK_AND_ASSIGN(Inode other, Create(kRootIno, "other"));
  ASSERT_TRUE(Write(other.ino, 0, Pattern(3 * kChunkSize, 'q')).ok());
  size_t all = 0, capped = 0, none = 0;
  KVFS_ASSERT_OK(View([&](ReadTxn& r) -> Status {
    KVFS_ASSIGN_OR_RETURN(all, r.PrefetchContent(ino_, 1000));
    KVFS_ASSIGN_OR_RETURN(capped, r.PrefetchContent(ino_, 4));
    KVFS_ASSIGN_OR_RETURN(none, r.PrefetchContent(other.ino + 1000, 1000));
    return Status::Ok();
  }));
  EXPECT_EQ(all, 11u);
  EXPECT_EQ(capped, 4u);
  EXPECT_EQ(none, 0u);
}

TEST_F(StoreContentTest, PrefetchRangeAsksForTheChunksThatOverlapIt) {
  ASSERT_TRUE(Write(ino_, 0, Pattern(10 * kChunkSize + 1, 'p')).ok());  // chunks 0-10
  ASSERT_TRUE(Write(ino_, 20 * kChunkSize, "tail").ok());               // a hole, chunk 20
  KVFS_ASSERT_OK_AND_ASSIGN(Inode other, Create(kRootIno, "other"));
  ASSERT_TRUE(Write(other.ino, 0, Pattern(3 * kChunkSize, 'q')).ok());
  size_t middle = 0, across_hole = 0, past_end = 0, empty = 0;
  KVFS_ASSERT_OK(View([&](ReadTxn& r) -> Status {
    KVFS_ASSIGN_OR_RETURN(middle, r.PrefetchRange(ino_, 2 * kChunkSize + 5, 5 * kChunkSize));
    KVFS_ASSIGN_OR_RETURN(across_hole, r.PrefetchRange(ino_, 9 * kChunkSize, 30 * kChunkSize));
    KVFS_ASSIGN_OR_RETURN(past_end, r.PrefetchRange(ino_, 21 * kChunkSize, 40 * kChunkSize));
    KVFS_ASSIGN_OR_RETURN(empty, r.PrefetchRange(ino_, 3 * kChunkSize, 3 * kChunkSize));
    return Status::Ok();
  }));
  EXPECT_EQ(middle, 3u) << "chunks 2, 3 and 4";
  EXPECT_EQ(across_hole, 3u) << "chunks 9, 10 and 20; the hole has none";
  EXPECT_EQ(past_end, 0u) << "nothing past the end, and nothing of the next file";
  EXPECT_EQ(empty, 0u);
}

TEST_F(StoreContentTest, OverwriteInsideKeepsTheRest) {
  ASSERT_TRUE(Write(ino_, 0, std::string(3 * kChunkSize, 'x')).ok());
  ASSERT_TRUE(Write(ino_, kChunkSize, "yy").ok());  // chunk-aligned, shorter than the chunk
  ASSERT_TRUE(Write(ino_, 10, "zz").ok());
  std::string expected(3 * kChunkSize, 'x');
  expected.replace(kChunkSize, 2, "yy");
  expected.replace(10, 2, "zz");
  EXPECT_EQ(ReadAll(), expected);
}

TEST_F(StoreContentTest, AppendGrowsFile) {
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    std::string piece = Pattern(1000 + i * 97, static_cast<char>(i));
    KVFS_ASSERT_OK_AND_ASSIGN(Inode n, Write(ino_, expected.size(), piece));
    expected += piece;
    ASSERT_EQ(n.size, expected.size());
  }
  EXPECT_EQ(ReadAll(), expected);
}

TEST_F(StoreContentTest, HolesReadAsZeros) {
  ASSERT_TRUE(Write(ino_, 3 * kChunkSize + 5, "end").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode n, Get(ino_));
  EXPECT_EQ(n.size, 3 * kChunkSize + 8);
  std::string all = ReadAll();
  EXPECT_EQ(all.substr(0, 3 * kChunkSize + 5), std::string(3 * kChunkSize + 5, '\0'));
  EXPECT_EQ(all.substr(3 * kChunkSize + 5), "end");
}

TEST_F(StoreContentTest, ReadViewsPointIntoTheStoreAndHoles) {
  // Chunk 0 short (100 bytes, then its zero tail), chunks 1-2 a hole, chunk 3 whole.
  const std::string head = Pattern(100, 'h'), last = Pattern(kChunkSize, 'l');
  ASSERT_TRUE(Write(ino_, 0, head).ok());
  ASSERT_TRUE(Write(ino_, 3 * kChunkSize, last).ok());
  std::vector<std::string_view> views;
  size_t bytes = 0;
  std::string joined;
  KVFS_ASSERT_OK(View([&](ReadTxn& r) -> Status {
    // From inside the first chunk to inside the last: every kind of piece.
    KVFS_ASSIGN_OR_RETURN(bytes, r.ReadViews(ino_, 50, 3 * kChunkSize + 10 - 50, &views));
    for (std::string_view v : views) joined.append(v);
    return Status::Ok();
  }));
  EXPECT_EQ(bytes, 3 * kChunkSize + 10 - 50);
  EXPECT_EQ(joined, head.substr(50) + std::string(3 * kChunkSize - 100, '\0') +
                        last.substr(0, 10));
  ASSERT_GE(views.size(), 3u);
  EXPECT_EQ(views.front(), head.substr(50)) << "the first view is the stored bytes alone";
  EXPECT_EQ(views.back(), last.substr(0, 10));
  // Past the end: nothing, and no views.
  views.clear();
  KVFS_ASSERT_OK(View([&](ReadTxn& r) -> Status {
    KVFS_ASSIGN_OR_RETURN(bytes, r.ReadViews(ino_, 4 * kChunkSize, 10, &views));
    return Status::Ok();
  }));
  EXPECT_EQ(bytes, 0u);
  EXPECT_TRUE(views.empty());
}

TEST_F(StoreContentTest, BigSparseOffset) {
  const uint64_t off = (uint64_t{1} << 40) + 12345;  // 1 TiB in
  ASSERT_TRUE(Write(ino_, off, "far away").ok());
  EXPECT_EQ(Get(ino_)->size, off + 8);
  EXPECT_EQ(*Read(ino_, off - 4, 12), std::string(4, '\0') + "far away");
  EXPECT_EQ(*Read(ino_, 12345, 8), std::string(8, '\0'));
  ASSERT_TRUE(Write(ino_, 0, "near").ok());
  EXPECT_EQ(*Read(ino_, 0, 4), "near");
  EXPECT_EQ(*Read(ino_, off, 8), "far away");
}

TEST_F(StoreContentTest, WritePastLargestFileIsFileTooBig) {
  EXPECT_EQ(Write(ino_, kMaxFileSize, "x").status().code(), Code::kFileTooBig);
  EXPECT_EQ(Write(ino_, ~uint64_t{0} - 2, "xyz").status().code(), Code::kFileTooBig);
  EXPECT_EQ(Truncate(ino_, kMaxFileSize + 1).status().code(), Code::kFileTooBig);
  EXPECT_EQ(Get(ino_)->size, 0u);
}

TEST_F(StoreContentTest, EmptyWritePastEndDoesNotGrowFile) {
  ASSERT_TRUE(Write(ino_, 0, "abc").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode n, Write(ino_, 1000, ""));
  EXPECT_EQ(n.size, 3u);
  EXPECT_EQ(Get(ino_)->size, 3u);
}

TEST_F(StoreContentTest, ReadWithHugeSizeIsShortAtEnd) {
  ASSERT_TRUE(Write(ino_, 0, "abcdef").ok());
  auto whole = Read(ino_, 0, SIZE_MAX);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(*whole, "abcdef");
  auto tail = Read(ino_, 2, SIZE_MAX);  // offset + size wraps around
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, "cdef");
  auto tail2 = Read(ino_, 5, SIZE_MAX - 2);
  ASSERT_TRUE(tail2.ok());
  EXPECT_EQ(*tail2, "f");
}

TEST_F(StoreContentTest, WriteToDirectoryOrSymlinkFails) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode l, Create(kRootIno, "l", FileType::kSymlink));
  EXPECT_EQ(Write(d.ino, 0, "x").status().code(), Code::kIsDir);
  EXPECT_EQ(Write(l.ino, 0, "x").status().code(), Code::kInvalid);
  EXPECT_EQ(Read(d.ino, 0, 1).status().code(), Code::kIsDir);
  EXPECT_EQ(Truncate(d.ino, 0).status().code(), Code::kIsDir);
  EXPECT_EQ(Truncate(l.ino, 0).status().code(), Code::kInvalid);
  EXPECT_EQ(Write(999, 0, "x").status().code(), Code::kNotFound);
}

TEST_F(StoreContentTest, TruncateGrowReadsZeros) {
  ASSERT_TRUE(Write(ino_, 0, "abc").ok());
  KVFS_ASSERT_OK_AND_ASSIGN(Inode n, Truncate(ino_, 2 * kChunkSize + 10));
  EXPECT_EQ(n.size, 2 * kChunkSize + 10);
  std::string expected = "abc" + std::string(2 * kChunkSize + 7, '\0');
  EXPECT_EQ(ReadAll(), expected);
}

TEST_F(StoreContentTest, TruncateShrinkThenGrowReadsZerosNotOldData) {
  const std::string data = Pattern(3 * kChunkSize, 'q');
  ASSERT_TRUE(Write(ino_, 0, data).ok());
  for (uint64_t cut : {kChunkSize + 100, kChunkSize, uint64_t{7}, uint64_t{0}}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    ASSERT_TRUE(Write(ino_, 0, data).ok());
    ASSERT_TRUE(Truncate(ino_, cut).ok());
    EXPECT_EQ(Get(ino_)->size, cut);
    EXPECT_EQ(ReadAll(), data.substr(0, cut));
    ASSERT_TRUE(Truncate(ino_, 3 * kChunkSize).ok());
    EXPECT_EQ(ReadAll(), data.substr(0, cut) + std::string(3 * kChunkSize - cut, '\0'));
    // Writing past the cut after growing also leaves zeros between.
    ASSERT_TRUE(Truncate(ino_, cut).ok());
    ASSERT_TRUE(Write(ino_, 2 * kChunkSize + 1, "Z").ok());
    std::string want = data.substr(0, cut) + std::string(2 * kChunkSize + 1 - cut, '\0') + "Z";
    EXPECT_EQ(ReadAll(), want);
  }
}

TEST_F(StoreContentTest, ReplaceSetsWholeContent) {
  ASSERT_TRUE(Write(ino_, 0, Pattern(2 * kChunkSize, 'a')).ok());
  Result<Inode> out = Status(Code::kIo, "");
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    out = w.Replace(ino_, "short");
    return out.status();
  }));
  EXPECT_EQ(out->size, 5u);
  EXPECT_EQ(ReadAll(), "short");
  ASSERT_TRUE(Truncate(ino_, kChunkSize + 1).ok());
  EXPECT_EQ(ReadAll(), "short" + std::string(kChunkSize - 4, '\0'));
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Replace(ino_, "").status(); }));
  EXPECT_EQ(Get(ino_)->size, 0u);
  KVFS_ASSERT_OK_AND_ASSIGN(Inode d, Mkdir(kRootIno, "d"));
  EXPECT_FALSE(Update([&](WriteTxn& w) { return w.Replace(d.ino, "x").status(); }).ok());
}

TEST_F(StoreContentTest, TombstoneStillWritableUntilPurged) {
  ASSERT_TRUE(Write(ino_, 0, "abc").ok());
  KVFS_ASSERT_OK(Update([](WriteTxn& w) { return w.Unlink(kRootIno, "f").status(); }));
  ASSERT_TRUE(Write(ino_, 3, "def").ok());  // an open fd keeps writing
  EXPECT_EQ(ReadAll(), "abcdef");
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.Purge(ino_); }));
  EXPECT_EQ(Get(ino_)->size, 0u);
  EXPECT_EQ(*Read(ino_, 0, 10), "");
}

// Random writes and truncates against an in-memory model of the file.
TEST_F(StoreContentTest, RandomOpsMatchModel) {
  const uint64_t seed = testing::TestSeed();
  SCOPED_TRACE(testing::SeedNote(seed));
  std::mt19937_64 rng(seed);
  std::string model;
  const uint64_t span = 4 * kChunkSize + 1000;
  auto pick_len = [&]() -> size_t {
    switch (rng() % 4) {
      case 0:
        return rng() % 16;
      case 1:
        return rng() % kChunkSize;
      case 2:
        return kChunkSize - 2 + rng() % 5;
      default:
        return rng() % (2 * kChunkSize + 10);
    }
  };
  for (int op = 0; op < 300; ++op) {
    SCOPED_TRACE("op " + std::to_string(op));
    const int kind = static_cast<int>(rng() % 10);
    if (kind < 7) {
      uint64_t off = rng() % span;
      if (rng() % 4 == 0) off = (off / kChunkSize) * kChunkSize;  // aligned
      if (rng() % 5 == 0) off = model.size();                     // append
      std::string data(pick_len(), '\0');
      for (char& c : data) c = static_cast<char>(rng());
      ASSERT_TRUE(Write(ino_, off, data).ok());
      if (!data.empty()) {
        if (model.size() < off + data.size()) model.resize(off + data.size(), '\0');
        model.replace(off, data.size(), data);
      }
    } else if (kind < 9) {
      const uint64_t size = rng() % span;
      ASSERT_TRUE(Truncate(ino_, size).ok());
      model.resize(size, '\0');
    } else {
      // Several writes in one transaction.
      std::vector<std::pair<uint64_t, std::string>> writes;
      for (int i = 0; i < 3; ++i) {
        std::string data(pick_len(), '\0');
        for (char& c : data) c = static_cast<char>(rng());
        writes.emplace_back(rng() % span, std::move(data));
      }
      KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
        for (auto& [off, data] : writes) KVFS_RETURN_IF_ERROR(w.Write(ino_, off, data).status());
        return Status::Ok();
      }));
      for (auto& [off, data] : writes) {
        if (data.empty()) continue;
        if (model.size() < off + data.size()) model.resize(off + data.size(), '\0');
        model.replace(off, data.size(), data);
      }
    }
    KVFS_ASSERT_OK_AND_ASSIGN(Inode n, Get(ino_));
    ASSERT_EQ(n.size, model.size());
    // A random window, and every so often the whole file.
    const uint64_t off = rng() % (model.size() + 10);
    const size_t len = pick_len();
    KVFS_ASSERT_OK_AND_ASSIGN(std::string got, Read(ino_, off, len));
    const std::string want = off >= model.size() ? "" : model.substr(off, len);
    ASSERT_EQ(got, want) << "read at " << off << " len " << len;
    if (op % 25 == 0) {
      ASSERT_EQ(ReadAll(), model);
    }
  }
  ASSERT_EQ(ReadAll(), model);
}

// --- extended attributes -----------------------------------------------------

TEST_F(StoreContentTest, XattrSetGetListRemove) {
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    KVFS_RETURN_IF_ERROR(w.SetXattr(ino_, "user.b", "2", 0));
    KVFS_RETURN_IF_ERROR(w.SetXattr(ino_, "user.a", std::string("\0bin\0", 5), 0));
    return w.SetXattr(ino_, "user.empty", "", 0);
  }));
  Status st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(std::string a, r.GetXattr(ino_, "user.a"));
    EXPECT_EQ(a, std::string("\0bin\0", 5));
    KVFS_ASSIGN_OR_RETURN(std::string e, r.GetXattr(ino_, "user.empty"));
    EXPECT_EQ(e, "");
    EXPECT_EQ(r.GetXattr(ino_, "user.c").status().code(), Code::kNoData);
    KVFS_ASSIGN_OR_RETURN(auto names, r.ListXattrs(ino_));
    EXPECT_EQ(names, (std::vector<std::string>{"user.a", "user.b", "user.empty"}));
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.RemoveXattr(ino_, "user.b"); }));
  EXPECT_EQ(Update([&](WriteTxn& w) { return w.RemoveXattr(ino_, "user.b"); }).code(),
            Code::kNoData);
  st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(auto names, r.ListXattrs(ino_));
    EXPECT_EQ(names, (std::vector<std::string>{"user.a", "user.empty"}));
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
}

TEST_F(StoreContentTest, XattrCreateAndReplaceFlags) {
  auto set = [&](const char* value, int flags) {
    return Update([&](WriteTxn& w) { return w.SetXattr(ino_, "user.k", value, flags); }).code();
  };
  EXPECT_EQ(set("v1", XATTR_REPLACE), Code::kNoData);
  EXPECT_EQ(set("v1", XATTR_CREATE), Code::kOk);
  EXPECT_EQ(set("v2", XATTR_CREATE), Code::kExists);
  EXPECT_EQ(set("v3", XATTR_REPLACE), Code::kOk);
  EXPECT_EQ(set("v4", 0), Code::kOk);
  Status st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(std::string v, r.GetXattr(ino_, "user.k"));
    EXPECT_EQ(v, "v4");
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
}

TEST_F(StoreContentTest, XattrLimits) {
  auto set = [&](std::string name, std::string value) {
    return Update([&](WriteTxn& w) { return w.SetXattr(ino_, name, value, 0); }).code();
  };
  EXPECT_EQ(set("", "x"), Code::kRange);
  EXPECT_EQ(set(std::string(256, 'n'), "x"), Code::kRange);
  EXPECT_EQ(set(std::string(255, 'n'), "x"), Code::kOk);
  EXPECT_EQ(set("user.big", std::string(kMaxXattrValue, 'v')), Code::kOk);
  EXPECT_EQ(set("user.bigger", std::string(kMaxXattrValue + 1, 'v')), Code::kTooBig);
  EXPECT_EQ(Update([&](WriteTxn& w) { return w.SetXattr(999, "user.a", "x", 0); }).code(),
            Code::kNotFound);
}

TEST_F(StoreContentTest, XattrsOfNeighboursDoNotMix) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode g, Create(kRootIno, "g"));
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) {
    KVFS_RETURN_IF_ERROR(w.SetXattr(ino_, "user.mine", "1", 0));
    return w.SetXattr(g.ino, "user.theirs", "2", 0);
  }));
  Status st = View([&](ReadTxn& r) {
    KVFS_ASSIGN_OR_RETURN(auto mine, r.ListXattrs(ino_));
    EXPECT_EQ(mine, std::vector<std::string>{"user.mine"});
    KVFS_ASSIGN_OR_RETURN(auto theirs, r.ListXattrs(g.ino));
    EXPECT_EQ(theirs, std::vector<std::string>{"user.theirs"});
    EXPECT_EQ(r.GetXattr(g.ino, "user.mine").status().code(), Code::kNoData);
    return Status::Ok();
  });
  KVFS_EXPECT_OK(st);
}

TEST_F(StoreContentTest, XattrChangeStampsTheObject) {
  KVFS_ASSERT_OK_AND_ASSIGN(Inode before, Get(ino_));
  KVFS_ASSERT_OK(Update([&](WriteTxn& w) { return w.SetXattr(ino_, "user.k", "v", 0); }));
  KVFS_ASSERT_OK_AND_ASSIGN(Inode after, Get(ino_));
  EXPECT_GT(after.stamp, before.stamp);
  KVFS_ASSERT_OK_AND_ASSIGN(auto feed, Feed());
  ASSERT_FALSE(feed.empty());
  EXPECT_EQ(feed.back().ino, ino_);
  EXPECT_EQ(feed.back().op, ChangeOp::kXattr);
}

}  // namespace
}  // namespace kvfs::store
