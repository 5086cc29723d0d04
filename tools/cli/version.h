#pragma once
// The version `kvfs --version` prints. Kept by hand in step with project(VERSION) in
// the top-level CMakeLists.txt (tools/ cannot add a compile definition for it).

namespace kvfs::cli {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace kvfs::cli
