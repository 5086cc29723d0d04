#include "crypto/store_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/scoped_fd.h"
#include "crypto/init.h"

namespace kvfs::crypto {
namespace {

constexpr std::string_view kWhitespace = " \t\r\n";
constexpr std::size_t kBase64Chars = kStoreKeyTextSize - kStoreKeyPrefix.size();
// A key file holds the text form and a newline; anything much larger is the wrong file.
constexpr std::size_t kMaxKeyFileSize = 256;
constexpr std::string_view kFingerprintDomain = "kvfs store key fingerprint v1";


bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::string DirName(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status WriteAll(int fd, const char* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write " + path);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

// Makes the rename itself durable, not just the file contents.
Status FsyncDir(const std::string& dir) {
  ScopedFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("cannot open directory " + dir);
  if (::fsync(fd.get()) != 0) return IoError("cannot fsync directory " + dir);
  return Status::Ok();
}

// Moves tmp to path without replacing an existing file. Falls back to check-then-rename
// on filesystems without RENAME_NOREPLACE (the window there is tiny and only matters if
// two `kvfs` processes create the same key file at once).
Status RenameNoReplace(const std::string& tmp, const std::string& path) {
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) {
    return Status::Ok();
  }
  int err = errno;
  if (err == EEXIST) return Status(Code::kExists, "key file " + path + " already exists");
  if (err != EINVAL && err != ENOSYS) return IoError("cannot rename into " + path, err);
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    return Status(Code::kExists, "key file " + path + " already exists");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return IoError("cannot rename into " + path);
  return Status::Ok();
}

std::string TempPathFor(const std::string& path) {
  unsigned char rnd[6];
  randombytes_buf(rnd, sizeof rnd);
  char hex[sizeof rnd * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
  return path + ".tmp-" + hex;
}

}  // namespace

StoreKey GenerateStoreKey() {
  EnsureInit();
  StoreKey key;
  randombytes_buf(key.data(), key.size());
  return key;
}

std::string EncodeStoreKey(const StoreKey& key) {
  EnsureInit();
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  char b64[sodium_base64_ENCODED_LEN(kStoreKeySize, kVariant)];
  sodium_bin2base64(b64, sizeof b64, key.data(), key.size(), kVariant);
  std::string text;
  text.reserve(kStoreKeyTextSize);
  text.append(kStoreKeyPrefix);
  text.append(b64);
  sodium_memzero(b64, sizeof b64);
  return text;
}

Result<StoreKey> DecodeStoreKey(std::string_view text) {
  EnsureInit();
  std::size_t first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return Status(Code::kInvalid, "store key is empty");
  text = text.substr(first, text.find_last_not_of(kWhitespace) - first + 1);

  if (!text.starts_with(kStoreKeyPrefix)) {
    // "kvfs<digits>-" is a key from another format version, not a typo.
    std::size_t digits = 0;
    while (4 + digits < text.size() && text[4 + digits] >= '0' && text[4 + digits] <= '9') {
      ++digits;
    }
    if (text.starts_with("kvfs") && digits > 0 && 4 + digits < text.size() &&
        text[4 + digits] == '-') {
      return Status(Code::kVersion, "store key is in format \"" +
                                        std::string(text.substr(0, 4 + digits)) +
                                        "\"; this kvfs reads only \"kvfs1\" keys (upgrade kvfs)");
    }
    return Status(Code::kInvalid,
                  "store key must start with \"kvfs1-\" (copy the whole line that "
                  "`kvfs key show` prints)");
  }
  std::string_view body = text.substr(kStoreKeyPrefix.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (!IsBase64UrlChar(body[i])) {
      return Status(Code::kInvalid, "store key has an invalid character at position " +
                                        std::to_string(kStoreKeyPrefix.size() + i + 1) +
                                        " (only A-Z a-z 0-9 - _ may follow \"kvfs1-\")");
    }
  }
  if (body.size() != kBase64Chars) {
    return Status(Code::kInvalid, "store key has " + std::to_string(body.size()) +
                                      " characters after \"kvfs1-\", expected " +
                                      std::to_string(kBase64Chars) +
                                      " (was it cut short or joined to other text?)");
  }
  StoreKey key;
  std::size_t bin_len = 0;
  const char* end = nullptr;
  int rc = sodium_base642bin(key.data(), key.size(), body.data(), body.size(), nullptr, &bin_len,
                             &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  if (rc != 0 || bin_len != kStoreKeySize || end != body.data() + body.size()) {
    return Status(Code::kInvalid,
                  "store key is not a valid encoding (its last character is wrong; was it "
                  "edited by hand?)");
  }
  return key;
}

std::string KeyFingerprint(const StoreKey& key) {
  EnsureInit();
  unsigned char hash[crypto_generichash_BYTES_MIN];
  crypto_generichash(hash, sizeof hash,
                     reinterpret_cast<const unsigned char*>(kFingerprintDomain.data()),
                     kFingerprintDomain.size(), key.data(), key.size());
  char hex[8 * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, 8);
  return hex;
}

Status WriteStoreKeyFile(const std::string& path, const StoreKey& key, Overwrite overwrite) {
  EnsureInit();
  struct stat st;
  if (overwrite == Overwrite::kNo && ::lstat(path.c_str(), &st) == 0) {
    return Status(Code::kExists, "key file " + path + " already exists");
  }
  std::string text = EncodeStoreKey(key);
  text.push_back('\n');  // Fits the reserved capacity: no reallocated copy left behind.

  std::string tmp;
  int raw_fd = -1;
  for (int attempt = 0; attempt < 8 && raw_fd < 0; ++attempt) {
    tmp = TempPathFor(path);
    raw_fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (raw_fd < 0 && errno != EEXIST) break;
  }
  if (raw_fd < 0) {
    int err = errno;
    sodium_memzero(text.data(), text.size());
    return IoError("cannot create " + tmp, err);
  }
  ScopedFd fd(raw_fd);
  Status st_write = Status::Ok();
  // The umask may have cleared owner bits from 0600; the mode must be exactly 0600.
  if (::fchmod(fd.get(), 0600) != 0) st_write = IoError("cannot chmod " + tmp);
  if (st_write.ok()) st_write = WriteAll(fd.get(), text.data(), text.size(), tmp);
  sodium_memzero(text.data(), text.size());
  if (st_write.ok() && ::fsync(fd.get()) != 0) st_write = IoError("cannot fsync " + tmp);
  if (fd.Close() != 0 && st_write.ok()) st_write = IoError("cannot close " + tmp);
  if (st_write.ok()) {
    if (overwrite == Overwrite::kYes) {
      if (::rename(tmp.c_str(), path.c_str()) != 0) {
        st_write = IoError("cannot rename into " + path);
      }
    } else {
      st_write = RenameNoReplace(tmp, path);
    }
  }
  if (!st_write.ok()) {
    ::unlink(tmp.c_str());
    return st_write;
  }
  return FsyncDir(DirName(path));
}

Result<StoreKey> ReadStoreKeyFile(const std::string& path) {
  EnsureInit();
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    int err = errno;
    if (err == ENOENT) {
      return Status(Code::kNotFound, "key file " + path +
                                         " does not exist (create it with `kvfs init` or "
                                         "`kvfs key set`)");
    }
    if (err == EACCES)
      return Status(Code::kAccess, "cannot read key file " + path + ": " + std::strerror(err));
    return IoError("cannot open key file " + path, err);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return IoError("cannot stat key file " + path);
  if (!S_ISREG(st.st_mode)) {
    return Status(Code::kInvalid, "key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 0077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status(Code::kPermission, "key file " + path + " has mode " + mode +
                                         " but must be private to its owner; run: chmod 600 " +
                                         path);
  }

  char buf[kMaxKeyFileSize + 1];
  std::size_t len = 0;
  while (len < sizeof buf) {
    ssize_t n = ::read(fd.get(), buf + len, sizeof buf - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      sodium_memzero(buf, sizeof buf);
      return IoError("cannot read key file " + path, err);
    }
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  if (len > kMaxKeyFileSize) {
    sodium_memzero(buf, sizeof buf);
    return Status(Code::kInvalid, "key file " + path + " has the wrong length (over " +
                                      std::to_string(kMaxKeyFileSize) +
                                      " bytes; a key file holds one " +
                                      std::to_string(kStoreKeyTextSize) + "-character line)");
  }
  Result<StoreKey> key = DecodeStoreKey(std::string_view(buf, len));
  sodium_memzero(buf, sizeof buf);
  if (!key.ok()) {
    return Status(key.status().code(), "key file " + path + ": " + key.status().message());
  }
  return key;
}

}  // namespace kvfs::crypto
