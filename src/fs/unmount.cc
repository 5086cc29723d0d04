#include "fs/unmount.h"

#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kvfs::fs {
namespace {

std::string Unescape(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const std::string_view oct = field.substr(i + 1, 3);
      if (oct.size() == 3 && oct.find_first_not_of("01234567") == std::string_view::npos) {
        out += static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// `path` made absolute and normal without touching the mount point itself (a
// dead FUSE mount fails every stat with ENOTCONN).
std::string NormalPath(const std::string& path) {
  namespace sfs = std::filesystem;
  std::error_code ec;
  sfs::path p = sfs::absolute(path, ec).lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
  sfs::path parent = sfs::weakly_canonical(p.parent_path(), ec);
  if (!ec && p.has_filename()) p = parent / p.filename();
  std::string out = p.string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Status RunFusermount(const std::string& mountpoint) {
  const pid_t pid = fork();
  if (pid < 0) return IoError("cannot fork");
  if (pid == 0) {
    execlp("fusermount3", "fusermount3", "-u", "--", mountpoint.c_str(), nullptr);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return Status(Code::kIo, "cannot run fusermount3; install the fuse3 package");
  }
  return Status(Code::kBusy, "fusermount3 -u " + mountpoint +
                                 " failed (see its message above); close files open under it");
}

}  // namespace

std::vector<MountEntry> ParseMountInfo(std::string_view text) {
  std::vector<MountEntry> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    // id parent major:minor root mount-point options [optional...] - fstype source super
    const auto f = Fields(line);
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 6 || dash + 2 >= f.size()) continue;
    out.push_back(MountEntry{Unescape(f[4]), Unescape(f[dash + 1]), Unescape(f[dash + 2])});
  }
  return out;
}

std::optional<MountEntry> FindMount(const std::string& mountpoint) {
  const std::string path = NormalPath(mountpoint);
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  std::optional<MountEntry> found;
  for (MountEntry& m : ParseMountInfo(text.str())) {
    if (m.mount_point == path) found = std::move(m);  // the last one is the top of a stack
  }
  return found;
}

Status Unmount(const std::string& mountpoint) {
  const std::string path = NormalPath(mountpoint);
  const std::optional<MountEntry> found = FindMount(path);
  if (!found) return Status(Code::kNotFound, path + " is not mounted");
  if (!found->fstype.starts_with("fuse")) {
    return Status(Code::kInvalid,
                  path + " is not a kvfs mount (it is " + found->fstype + "); use umount");
  }
  if (geteuid() != 0) return RunFusermount(path);
  if (umount2(path.c_str(), UMOUNT_NOFOLLOW) == 0) return Status::Ok();
  if (errno == EBUSY) {
    return Status(Code::kBusy, path +
                                   " is busy: files are open or a process works inside it; "
                                   "close them, or detach it with: umount -l " +
                                   path);
  }
  return IoError("cannot unmount " + path);
}

}  // namespace kvfs::fs
