#pragma once
// How the CLI prints store values. Times are UTC (ISO 8601) so output is the same on
// every machine and sorts as text.

#include <cstdint>
#include <string>
#include <vector>

#include "store/types.h"

namespace kvfs::cli {

// "file", "dir" or "symlink".
const char* TypeName(store::FileType type);
// ls(1)-style: "drwxr-xr-x", "-rw-------", "lrwxrwxrwx" (with s/S and t/T bits).
std::string ModeString(const store::Inode& inode);
// Permission bits as 4-digit octal: "0644".
std::string OctalMode(uint32_t mode);
// "2026-11-22T17:18:00Z", or with nanoseconds "2026-11-22T17:18:00.123456789Z".
std::string FormatTime(const store::Timespec& ts, bool with_nanos);
// 16 lowercase hex digits: node ids print the same way in stat, log and HLC stamps.
std::string Hex64(uint64_t value);
// "node:counter" slots joined with ", " ("(empty)" for none).
std::string FormatVersions(const std::vector<store::VersionSlot>& versions);

}  // namespace kvfs::cli
