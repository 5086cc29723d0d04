#pragma once
// Unmounting a kvfs mount (`kvfs umount`), and reading the kernel's mount table.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kvfs::fs {

struct MountEntry {
  std::string mount_point;
  std::string fstype;  // "fuse.kvfs" for kvfs mounts
  std::string source;  // the store directory, unless fsname= said otherwise
};

// Parses /proc/self/mountinfo text; octal escapes (\040 for a space) are decoded.
// Malformed lines are skipped.
std::vector<MountEntry> ParseMountInfo(std::string_view text);

// The topmost mount at `mountpoint` (absolute, normalised), if any.
std::optional<MountEntry> FindMount(const std::string& mountpoint);

// Unmounts the FUSE mount at `mountpoint`: umount2() as root, fusermount3 -u
// otherwise. kNotFound when nothing is mounted there, kInvalid when what is
// mounted there is not a FUSE file system, kBusy when it is in use. Works on a
// dead mount (daemon killed) too.
Status Unmount(const std::string& mountpoint);

}  // namespace kvfs::fs
