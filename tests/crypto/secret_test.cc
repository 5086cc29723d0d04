#include "crypto/secret.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <utility>

namespace kvfs::crypto {
namespace {

using Secret = SecretBytes<32>;

Secret Filled(std::uint8_t value) {
  Secret s;
  for (std::size_t i = 0; i < s.size(); ++i) s.data()[i] = value;
  return s;
}

TEST(SecretBytesTest, DefaultIsZero) {
  Secret s;
  EXPECT_TRUE(s.IsZero());
  EXPECT_EQ(s.size(), 32u);
}

TEST(SecretBytesTest, ConstructFromSpanCopiesBytes) {
  std::array<std::uint8_t, 32> raw{};
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::uint8_t>(i + 1);
  Secret s{std::span<const std::uint8_t, 32>(raw)};
  for (std::size_t i = 0; i < raw.size(); ++i) EXPECT_EQ(s.data()[i], raw[i]) << i;
}

TEST(SecretBytesTest, EqualityComparesEveryByte) {
  Secret a = Filled(7);
  Secret b = Filled(7);
  EXPECT_TRUE(a == b);
  for (std::size_t i : {std::size_t{0}, std::size_t{15}, std::size_t{31}}) {
    Secret c = Filled(7);
    c.data()[i] ^= 0x01;
    EXPECT_FALSE(a == c) << "difference at byte " << i << " not seen";
    EXPECT_TRUE(a != c);
  }
}

TEST(SecretBytesTest, CopyIsIndependent) {
  Secret a = Filled(3);
  Secret b = a;
  EXPECT_TRUE(a == b);
  b.data()[0] = 9;
  EXPECT_EQ(a.data()[0], 3);
  Secret c;
  c = a;
  EXPECT_TRUE(c == a);
  EXPECT_FALSE(a.IsZero());
}

TEST(SecretBytesTest, MoveWipesSource) {
  Secret a = Filled(5);
  Secret b = std::move(a);
  EXPECT_TRUE(a.IsZero());  // NOLINT(bugprone-use-after-move): the contract under test.
  EXPECT_TRUE(b == Filled(5));
  Secret c;
  c = std::move(b);
  EXPECT_TRUE(b.IsZero());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(c == Filled(5));
}

TEST(SecretBytesTest, SelfAssignmentKeepsBytes) {
  Secret a = Filled(4);
  Secret& alias = a;
  a = alias;
  EXPECT_TRUE(a == Filled(4));
  a = std::move(alias);
  EXPECT_TRUE(a == Filled(4));
}

TEST(SecretBytesTest, WipeZeroes) {
  Secret a = Filled(0xff);
  EXPECT_FALSE(a.IsZero());
  a.Wipe();
  EXPECT_TRUE(a.IsZero());
}

}  // namespace
}  // namespace kvfs::crypto
