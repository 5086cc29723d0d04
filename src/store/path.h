#pragma once
// Keys and names. A key is a path relative to the store root: "a/b/c". A name is
// one component: 1..255 bytes, anything but '/' and NUL, not "." or "..".

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kvfs::store {

// Validates one directory-entry name, with the errno-shaped code a filesystem gives.
Status ValidateName(std::string_view name);

// Splits a key into its names. "" (or "/") is the root and gives no names. A single
// leading or trailing '/' is accepted; an empty component ("a//b") is an error.
Result<std::vector<std::string_view>> SplitKey(std::string_view key);

}  // namespace kvfs::store
