#include "store/path.h"

#include "store/types.h"

namespace kvfs::store {

Status ValidateName(std::string_view name) {
  if (name.empty()) return Status(Code::kInvalid, "empty name");
  if (name.size() > kMaxNameLen) {
    return Status(Code::kNameTooLong, "name of " + std::to_string(name.size()) +
                                          " bytes is longer than 255 bytes; shorten it");
  }
  if (name == "." || name == "..") {
    return Status(Code::kInvalid, "'" + std::string(name) + "' cannot be used as a name");
  }
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return Status(Code::kInvalid, "a name cannot contain '/' or NUL");
  }
  return Status::Ok();
}

Result<std::vector<std::string_view>> SplitKey(std::string_view key) {
  if (key.size() > kMaxPathLen) {
    return Status(Code::kNameTooLong, "key of " + std::to_string(key.size()) +
                                          " bytes is longer than 4095 bytes; shorten it");
  }
  if (key.find('\0') != std::string_view::npos) {
    return Status(Code::kInvalid, "key contains a NUL byte");
  }
  if (!key.empty() && key.front() == '/') key.remove_prefix(1);
  if (!key.empty() && key.back() == '/') key.remove_suffix(1);
  std::vector<std::string_view> names;
  if (key.empty()) return names;
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    std::string_view name = key.substr(start, slash == std::string_view::npos ? key.npos
                                                                              : slash - start);
    if (name.empty()) {
      return Status(Code::kInvalid, "key has an empty path component ('//'); remove it");
    }
    Status st = ValidateName(name);
    if (!st.ok()) return Status(st.code(), "bad key component: " + st.message());
    names.push_back(name);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return names;
}

}  // namespace kvfs::store
