#include "crypto/store_key.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kvfs::crypto {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

StoreKey Filled(std::uint8_t value) {
  StoreKey key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = value;
  return key;
}

class StoreKeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "kvfs_key_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/store.key";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void WriteRaw(const std::string& content, mode_t mode) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << content;
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
  }
  std::string ReadRaw() {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  mode_t Mode() {
    struct stat st;
    EXPECT_EQ(::stat(path_.c_str(), &st), 0);
    return st.st_mode;
  }

  std::string dir_;
  std::string path_;
};

// --- generation, text form, fingerprint -------------------------------------------

TEST(StoreKeyTest, GeneratedKeysAreRandom) {
  StoreKey a = GenerateStoreKey();
  StoreKey b = GenerateStoreKey();
  EXPECT_FALSE(a.IsZero());
  EXPECT_FALSE(a == b);
}

TEST(StoreKeyTest, EncodeHasPrefixLengthAndAlphabet) {
  std::string text = EncodeStoreKey(GenerateStoreKey());
  EXPECT_EQ(text.size(), kStoreKeyTextSize);
  EXPECT_EQ(text.size(), 49u);
  EXPECT_TRUE(text.starts_with("kvfs1-")) << text;
  for (char c : text.substr(6)) EXPECT_NE(kAlphabet.find(c), std::string_view::npos) << c;
}

TEST(StoreKeyTest, EncodeDecodeRoundTrip) {
  for (int i = 0; i < 200; ++i) {
    StoreKey key = GenerateStoreKey();
    Result<StoreKey> back = DecodeStoreKey(EncodeStoreKey(key));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_TRUE(*back == key);
  }
  for (std::uint8_t fill : {0x00, 0xff, 0x80}) {
    Result<StoreKey> back = DecodeStoreKey(EncodeStoreKey(Filled(fill)));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_TRUE(*back == Filled(fill));
  }
}

TEST(StoreKeyTest, DecodeKnownVector) {
  // 32 zero bytes in base64url are 43 'A's.
  Result<StoreKey> key = DecodeStoreKey("kvfs1-" + std::string(43, 'A'));
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_TRUE(key->IsZero());
  EXPECT_EQ(EncodeStoreKey(Filled(0)), "kvfs1-" + std::string(43, 'A'));
}

TEST(StoreKeyTest, DecodeToleratesWhitespaceAtEnds) {
  StoreKey key = GenerateStoreKey();
  std::string text = EncodeStoreKey(key);
  for (const std::string& padded :
       {text + "\n", text + "\r\n", "  " + text, "\t" + text + " \n\n", "\n" + text}) {
    Result<StoreKey> back = DecodeStoreKey(padded);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_TRUE(*back == key);
  }
}

void ExpectDecodeError(std::string_view text, Code code, std::string_view message_part) {
  Result<StoreKey> key = DecodeStoreKey(text);
  ASSERT_FALSE(key.ok()) << "accepted: " << text;
  EXPECT_EQ(key.status().code(), code) << key.status().message();
  EXPECT_NE(key.status().message().find(message_part), std::string::npos)
      << "message \"" << key.status().message() << "\" lacks \"" << message_part << "\"";
}

TEST(StoreKeyTest, DecodeRejectsEmpty) {
  ExpectDecodeError("", Code::kInvalid, "empty");
  ExpectDecodeError(" \t\r\n ", Code::kInvalid, "empty");
}

TEST(StoreKeyTest, DecodeRejectsWrongPrefix) {
  std::string body = EncodeStoreKey(GenerateStoreKey()).substr(6);
  ExpectDecodeError(body, Code::kInvalid, "must start with \"kvfs1-\"");
  ExpectDecodeError("KVFS1-" + body, Code::kInvalid, "must start with");
  ExpectDecodeError("kvfs-" + body, Code::kInvalid, "must start with");
  ExpectDecodeError("kvfs1_" + body, Code::kInvalid, "must start with");
  ExpectDecodeError("xkvfs1-" + body, Code::kInvalid, "must start with");
  ExpectDecodeError("kvfs1", Code::kInvalid, "must start with");
}

TEST(StoreKeyTest, DecodeRejectsOtherFormatVersion) {
  std::string body = EncodeStoreKey(GenerateStoreKey()).substr(6);
  ExpectDecodeError("kvfs2-" + body, Code::kVersion, "kvfs2");
  ExpectDecodeError("kvfs10-" + body, Code::kVersion, "kvfs10");
}

TEST(StoreKeyTest, DecodeRejectsWrongLength) {
  std::string text = EncodeStoreKey(GenerateStoreKey());
  ExpectDecodeError(text.substr(0, text.size() - 1), Code::kInvalid, "42 characters");
  ExpectDecodeError(text + "A", Code::kInvalid, "44 characters");
  ExpectDecodeError(text + text, Code::kInvalid, "expected 43");
  ExpectDecodeError("kvfs1-", Code::kInvalid, "0 characters");
  ExpectDecodeError("kvfs1-AAAA", Code::kInvalid, "4 characters");
}

TEST(StoreKeyTest, DecodeRejectsBadCharactersAndNamesPosition) {
  std::string text = EncodeStoreKey(GenerateStoreKey());
  for (char bad : {'+', '/', '=', '.', ' ', '\0', '\n', '\x80', '\xff'}) {
    for (std::size_t pos : {std::size_t{6}, std::size_t{20}, text.size() - 1}) {
      std::string broken = text;
      broken[pos] = bad;
      SCOPED_TRACE("char " + std::to_string(static_cast<unsigned char>(bad)) + " at " +
                   std::to_string(pos));
      // A space or newline as the last character is trimmed, so it is a length error.
      if ((bad == ' ' || bad == '\n') && pos == text.size() - 1) {
        ExpectDecodeError(broken, Code::kInvalid, "42 characters");
      } else {
        ExpectDecodeError(broken, Code::kInvalid,
                          "invalid character at position " + std::to_string(pos + 1));
      }
    }
  }
}

TEST(StoreKeyTest, DecodeRejectsNonCanonicalLastCharacter) {
  // 43 characters hold 258 bits; the last character's two low bits must be zero.
  std::string text = EncodeStoreKey(GenerateStoreKey());
  std::size_t value = kAlphabet.find(text.back());
  ASSERT_EQ(value & 3, 0u);
  for (std::size_t low = 1; low < 4; ++low) {
    std::string broken = text;
    broken.back() = kAlphabet[value | low];
    ExpectDecodeError(broken, Code::kInvalid, "not a valid encoding");
  }
}

TEST(StoreKeyTest, DecodeErrorsDoNotEchoTheKey) {
  std::string text = EncodeStoreKey(GenerateStoreKey());
  std::string broken = text;
  broken[10] = '+';
  Result<StoreKey> key = DecodeStoreKey(broken);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().message().find(text.substr(11, 20)), std::string::npos);
}

TEST(StoreKeyTest, FingerprintIsShortStableAndKeyDependent) {
  StoreKey key = GenerateStoreKey();
  std::string fp = KeyFingerprint(key);
  EXPECT_EQ(fp.size(), 16u);
  EXPECT_EQ(fp.find_first_not_of("0123456789abcdef"), std::string::npos) << fp;
  EXPECT_EQ(KeyFingerprint(StoreKey(key)), fp);
  StoreKey other = key;
  other.data()[31] ^= 1;
  EXPECT_NE(KeyFingerprint(other), fp);
  // Not a prefix of the key itself, in hex or text form.
  char hex[17];
  sodium_bin2hex(hex, sizeof hex, key.data(), 8);
  EXPECT_NE(fp, std::string(hex));
  EXPECT_EQ(EncodeStoreKey(key).find(fp), std::string::npos);
}

// --- key files -----------------------------------------------------------------------

TEST_F(StoreKeyFileTest, RoundTripWithMode0600) {
  StoreKey key = GenerateStoreKey();
  ASSERT_TRUE(WriteStoreKeyFile(path_, key).ok());
  mode_t mode = Mode();
  EXPECT_TRUE(S_ISREG(mode));
  EXPECT_EQ(mode & 07777, 0600u);
  EXPECT_EQ(ReadRaw(), EncodeStoreKey(key) + "\n");
  Result<StoreKey> back = ReadStoreKeyFile(path_);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(*back == key);
}

TEST_F(StoreKeyFileTest, ModeIs0600WhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    mode_t old = ::umask(mask);
    Status st = WriteStoreKeyFile(path_, GenerateStoreKey(), Overwrite::kYes);
    ::umask(old);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(Mode() & 07777, 0600u) << "umask " << mask;
  }
}

TEST_F(StoreKeyFileTest, RefusesToOverwriteUnlessAsked) {
  StoreKey first = GenerateStoreKey();
  StoreKey second = GenerateStoreKey();
  ASSERT_TRUE(WriteStoreKeyFile(path_, first).ok());
  Status st = WriteStoreKeyFile(path_, second);
  EXPECT_EQ(st.code(), Code::kExists) << st.message();
  EXPECT_TRUE(*ReadStoreKeyFile(path_) == first);

  ASSERT_TRUE(WriteStoreKeyFile(path_, second, Overwrite::kYes).ok());
  EXPECT_TRUE(*ReadStoreKeyFile(path_) == second);
  EXPECT_EQ(Mode() & 07777, 0600u);
}

TEST_F(StoreKeyFileTest, LeavesNoTemporaryFiles) {
  ASSERT_TRUE(WriteStoreKeyFile(path_, GenerateStoreKey()).ok());
  ASSERT_FALSE(WriteStoreKeyFile(path_, GenerateStoreKey()).ok());
  ASSERT_TRUE(WriteStoreKeyFile(path_, GenerateStoreKey(), Overwrite::kYes).ok());
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    ++entries;
    EXPECT_EQ(entry.path().filename(), "store.key");
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(StoreKeyFileTest, WriteIntoMissingDirectoryFails) {
  Status st = WriteStoreKeyFile(dir_ + "/no/such/dir/key", GenerateStoreKey());
  EXPECT_EQ(st.code(), Code::kIo);
  EXPECT_NE(st.message().find("no/such/dir"), std::string::npos) << st.message();
}

TEST_F(StoreKeyFileTest, ReadMissingFileIsNotFound) {
  Result<StoreKey> key = ReadStoreKeyFile(path_);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), Code::kNotFound);
  EXPECT_NE(key.status().message().find(path_), std::string::npos);
}

TEST_F(StoreKeyFileTest, RefusesGroupOrWorldAccessibleFile) {
  ASSERT_TRUE(WriteStoreKeyFile(path_, GenerateStoreKey()).ok());
  for (mode_t mode : {mode_t{0644}, mode_t{0640}, mode_t{0604}, mode_t{0660}, mode_t{0601}}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    Result<StoreKey> key = ReadStoreKeyFile(path_);
    ASSERT_FALSE(key.ok()) << "accepted mode " << std::oct << mode;
    EXPECT_EQ(key.status().code(), Code::kPermission);
    EXPECT_NE(key.status().message().find("chmod 600"), std::string::npos)
        << key.status().message();
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  EXPECT_NE(ReadStoreKeyFile(path_).status().message().find("0644"), std::string::npos);
  ASSERT_EQ(::chmod(path_.c_str(), 0400), 0);
  EXPECT_TRUE(ReadStoreKeyFile(path_).ok()) << "0400 is private and must be accepted";
}

TEST_F(StoreKeyFileTest, RejectsWrongLengthAndBadContent) {
  std::string text = EncodeStoreKey(GenerateStoreKey());
  WriteRaw(text.substr(0, 30) + "\n", 0600);
  Result<StoreKey> key = ReadStoreKeyFile(path_);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), Code::kInvalid);
  EXPECT_NE(key.status().message().find("expected 43"), std::string::npos);
  EXPECT_NE(key.status().message().find(path_), std::string::npos);

  WriteRaw(std::string(1000, 'A'), 0600);
  key = ReadStoreKeyFile(path_);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), Code::kInvalid);
  EXPECT_NE(key.status().message().find("wrong length"), std::string::npos)
      << key.status().message();

  WriteRaw("", 0600);
  EXPECT_EQ(ReadStoreKeyFile(path_).status().code(), Code::kInvalid);

  WriteRaw(std::string(32, '\x01'), 0600);  // Raw key bytes are not the file format.
  EXPECT_EQ(ReadStoreKeyFile(path_).status().code(), Code::kInvalid);
}

TEST_F(StoreKeyFileTest, AcceptsHandWrittenFileWithoutNewline) {
  StoreKey key = GenerateStoreKey();
  WriteRaw("  " + EncodeStoreKey(key), 0600);
  Result<StoreKey> back = ReadStoreKeyFile(path_);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(*back == key);
}

TEST_F(StoreKeyFileTest, RejectsDirectory) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  Result<StoreKey> key = ReadStoreKeyFile(path_);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), Code::kInvalid);
  EXPECT_NE(key.status().message().find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace kvfs::crypto
