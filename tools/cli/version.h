#pragma once
// The version `kvfs --version` prints: project(VERSION) of the top-level
// CMakeLists.txt, passed in by tools/CMakeLists.txt as KVFS_VERSION.

#ifndef KVFS_VERSION
#error "KVFS_VERSION is set by tools/CMakeLists.txt from project(VERSION)"
#endif

namespace kvfs::cli {

inline constexpr const char* kVersion = KVFS_VERSION;

}  // namespace kvfs::cli
