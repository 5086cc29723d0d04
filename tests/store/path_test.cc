// Names and keys: what a filesystem accepts as one name, and how keys split.
#include "store/path.h"

#include <gtest/gtest.h>

#include <string>

#include "store/types.h"

namespace kvfs::store {
namespace {

TEST(PathTest, NameOf255BytesIsAccepted) { EXPECT_TRUE(ValidateName(std::string(255, 'a')).ok()); }

TEST(PathTest, NameOf256BytesIsTooLong) {
  EXPECT_EQ(ValidateName(std::string(256, 'a')).code(), Code::kNameTooLong);
}

TEST(PathTest, EmptyDotDotDotAndSlashAreInvalid) {
  EXPECT_EQ(ValidateName("").code(), Code::kInvalid);
  EXPECT_EQ(ValidateName(".").code(), Code::kInvalid);
  EXPECT_EQ(ValidateName("..").code(), Code::kInvalid);
  EXPECT_EQ(ValidateName("a/b").code(), Code::kInvalid);
  EXPECT_EQ(ValidateName("/").code(), Code::kInvalid);
  EXPECT_EQ(ValidateName(std::string("a\0b", 3)).code(), Code::kInvalid);
}

TEST(PathTest, AnyOtherBytesAreAName) {
  EXPECT_TRUE(ValidateName("...").ok());
  EXPECT_TRUE(ValidateName(".hidden").ok());
  EXPECT_TRUE(ValidateName("with space").ok());
  EXPECT_TRUE(ValidateName("\xff\xfe\x01").ok());
  EXPECT_TRUE(ValidateName("sync-conflict:20261122").ok());
}

TEST(PathTest, SplitKeyGivesNames) {
  auto names = SplitKey("a/b/c");
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 3u);
  EXPECT_EQ((*names)[0], "a");
  EXPECT_EQ((*names)[1], "b");
  EXPECT_EQ((*names)[2], "c");
}

TEST(PathTest, SplitKeyRootIsEmpty) {
  auto empty = SplitKey("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto slash = SplitKey("/");
  ASSERT_TRUE(slash.ok());
  EXPECT_TRUE(slash->empty());
}

TEST(PathTest, SplitKeyAcceptsOneLeadingAndTrailingSlash) {
  for (const char* key : {"/a/b", "a/b/", "/a/b/"}) {
    auto names = SplitKey(key);
    ASSERT_TRUE(names.ok()) << key;
    ASSERT_EQ(names->size(), 2u) << key;
    EXPECT_EQ((*names)[0], "a");
    EXPECT_EQ((*names)[1], "b");
  }
}

TEST(PathTest, SplitKeyRejectsEmptyComponent) {
  EXPECT_EQ(SplitKey("a//b").status().code(), Code::kInvalid);
  EXPECT_EQ(SplitKey("//a").status().code(), Code::kInvalid);
  EXPECT_EQ(SplitKey("a//").status().code(), Code::kInvalid);
  EXPECT_EQ(SplitKey("///").status().code(), Code::kInvalid);
}

TEST(PathTest, SplitKeyRejectsDotComponents) {
  EXPECT_EQ(SplitKey("a/./b").status().code(), Code::kInvalid);
  EXPECT_EQ(SplitKey("a/../b").status().code(), Code::kInvalid);
  EXPECT_EQ(SplitKey("..").status().code(), Code::kInvalid);
}

TEST(PathTest, SplitKeyRejectsLongKeyAndLongComponent) {
  std::string long_key;
  while (long_key.size() < 5000) long_key += "abcdefgh/";
  long_key.pop_back();
  EXPECT_EQ(SplitKey(long_key).status().code(), Code::kNameTooLong);
  EXPECT_EQ(SplitKey("a/" + std::string(256, 'x') + "/b").status().code(), Code::kNameTooLong);
  // 4095 bytes of 255-byte names is fine.
  std::string max_key;
  while (max_key.size() + 256 <= kMaxPathLen) max_key += std::string(255, 'n') + "/";
  max_key += std::string(kMaxPathLen - max_key.size(), 'n');
  ASSERT_EQ(max_key.size(), kMaxPathLen);
  EXPECT_TRUE(SplitKey(max_key).ok());
}

TEST(PathTest, SplitKeyRejectsNul) {
  EXPECT_EQ(SplitKey(std::string("a/b\0c", 5)).status().code(), Code::kInvalid);
}

}  // namespace
}  // namespace kvfs::store
