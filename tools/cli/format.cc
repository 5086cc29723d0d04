#include "format.h"

#include <cstdio>
#include <ctime>

namespace kvfs::cli {

const char* TypeName(store::FileType type) {
  switch (type) {
    case store::FileType::kRegular:
      return "file";
    case store::FileType::kDirectory:
      return "dir";
    case store::FileType::kSymlink:
      return "symlink";
  }
  return "unknown";
}

std::string ModeString(const store::Inode& inode) {
  const uint32_t m = inode.mode;
  std::string s = "-rwxrwxrwx";
  if (inode.is_dir()) s[0] = 'd';
  if (inode.is_symlink()) s[0] = 'l';
  for (int i = 0; i < 9; ++i) {
    if (!(m & (0400u >> i))) s[1 + i] = '-';
  }
  // setuid, setgid and sticky show in the execute slots, upper case without x.
  const struct {
    uint32_t bit;
    int pos;
    char with_x, without_x;
  } specials[] = {{04000, 3, 's', 'S'}, {02000, 6, 's', 'S'}, {01000, 9, 't', 'T'}};
  for (const auto& sp : specials) {
    if (m & sp.bit) s[sp.pos] = s[sp.pos] == '-' ? sp.without_x : sp.with_x;
  }
  return s;
}

std::string OctalMode(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

std::string FormatTime(const store::Timespec& ts, bool with_nanos) {
  const std::time_t secs = static_cast<std::time_t>(ts.sec);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!with_nanos) return std::string(date) + "Z";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s.%09lldZ", date, static_cast<long long>(ts.nsec));
  return buf;
}

std::string Hex64(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value));
  return buf;
}

std::string FormatVersions(const std::vector<store::VersionSlot>& versions) {
  if (versions.empty()) return "(empty)";
  std::string out;
  for (const store::VersionSlot& slot : versions) {
    if (!out.empty()) out += ", ";
    out += Hex64(slot.node) + ":" + std::to_string(slot.counter);
  }
  return out;
}

}  // namespace kvfs::cli
