#pragma once
// Status and Result<T>: the error types used inside every layer of kvfs.
// GCC 12 has no std::expected in C++20, so Result<T> is a small variant wrapper.
// A Status carries a code (mapped to one errno at the FUSE boundary, and to one
// exit code in the CLI) and a human message that says what was wrong and what to do.

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace kvfs {

enum class Code {
  kOk = 0,
  kNotFound,       // ENOENT
  kExists,         // EEXIST
  kNotEmpty,       // ENOTEMPTY
  kNotDir,         // ENOTDIR
  kIsDir,          // EISDIR
  kNameTooLong,    // ENAMETOOLONG
  kInvalid,        // EINVAL: bad argument or bad input
  kNoSpace,        // ENOSPC
  kNoData,         // ENODATA: missing extended attribute
  kRange,          // ERANGE: buffer too small
  kPermission,     // EPERM
  kAccess,         // EACCES
  kNotSupported,   // EOPNOTSUPP
  kLoop,           // ELOOP / moving a directory into itself
  kFileTooBig,     // EFBIG
  kCorruption,     // EIO: on-disk or on-wire data failed validation
  kIo,             // EIO: an operating-system or library call failed
  kBusy,           // EBUSY
  kVersion,        // a store or frame of a format this build does not understand
  kTooBig,         // E2BIG: an extended attribute value over the limit
  kStale,          // ESTALE: the kernel named an object that is gone; it looks again
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // The errno a POSIX filesystem gives for this condition (0 when ok).
  int ToErrno() const { return CodeToErrno(code_); }

  static int CodeToErrno(Code code) {
    switch (code) {
      case Code::kOk: return 0;
      case Code::kNotFound: return ENOENT;
      case Code::kExists: return EEXIST;
      case Code::kNotEmpty: return ENOTEMPTY;
      case Code::kNotDir: return ENOTDIR;
      case Code::kIsDir: return EISDIR;
      case Code::kNameTooLong: return ENAMETOOLONG;
      case Code::kInvalid: return EINVAL;
      case Code::kNoSpace: return ENOSPC;
      case Code::kNoData: return ENODATA;
      case Code::kRange: return ERANGE;
      case Code::kPermission: return EPERM;
      case Code::kAccess: return EACCES;
      case Code::kNotSupported: return EOPNOTSUPP;
      case Code::kLoop: return EINVAL;
      case Code::kFileTooBig: return EFBIG;
      case Code::kCorruption: return EIO;
      case Code::kIo: return EIO;
      case Code::kBusy: return EBUSY;
      case Code::kVersion: return EIO;
      case Code::kTooBig: return E2BIG;
      case Code::kStale: return ESTALE;
    }
    return EIO;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// kIo "what: <strerror(err)>" for a failed system call (errno by default: call it
// before anything else can change errno).
inline Status IoError(const std::string& what, int err = errno) {
  return Status(Code::kIo, what + ": " + std::strerror(err));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be ok

  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kvfs

// Early-return helpers: keep call sites short without hiding control flow.
#define KVFS_RETURN_IF_ERROR(expr)        \
  do {                                    \
    ::kvfs::Status _st = (expr);          \
    if (!_st.ok()) return _st;            \
  } while (0)

#define KVFS_CONCAT_INNER(a, b) a##b
#define KVFS_CONCAT(a, b) KVFS_CONCAT_INNER(a, b)
#define KVFS_ASSIGN_OR_RETURN(lhs, expr) \
  KVFS_ASSIGN_OR_RETURN_IMPL(KVFS_CONCAT(_res_, __LINE__), lhs, expr)
#define KVFS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
