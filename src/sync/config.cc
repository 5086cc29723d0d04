#include "sync/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sync/socket.h"

namespace kvfs::sync {
namespace {

// Large enough for any hand-written configuration; a bigger file is a mistake.
constexpr size_t kMaxConfigSize = 1 << 20;

std::string_view Trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool ValidKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

// CLI11 accepts quoted values; so do we.
std::string Unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    v = v.substr(1, v.size() - 2);
  }
  return std::string(v);
}

}  // namespace

std::string ConfigPath(const std::string& store_dir) { return store_dir + "/kvfs.conf"; }

Result<ConfigFile> ConfigFile::Load(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return ConfigFile();
    return IoError("cannot read " + path);
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status st = IoError("cannot read " + path);
      ::close(fd);
      return st;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxConfigSize) {
      ::close(fd);
      return Status(Code::kInvalid, path + " is larger than 1 MiB; is it the right file?");
    }
  }
  ::close(fd);
  return Parse(text, path);
}

Result<ConfigFile> ConfigFile::Parse(std::string_view text, const std::string& origin) {
  ConfigFile out;
  size_t number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view raw = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    Line line{std::string(raw), {}, {}};
    const std::string_view body = Trim(raw);
    if (!body.empty() && body.front() != '#' && body.front() != ';' && body.front() != '[') {
      const size_t eq = body.find('=');
      const std::string_view key = eq == std::string_view::npos ? body : Trim(body.substr(0, eq));
      if (eq == std::string_view::npos || !ValidKey(key)) {
        return Status(Code::kInvalid, origin + ":" + std::to_string(number) +
                                          ": expected 'key = value'; fix or remove that line");
      }
      line.key = std::string(key);
      line.value = Unquote(Trim(body.substr(eq + 1)));
    }
    out.lines_.push_back(std::move(line));
  }
  return out;
}

std::vector<std::string> ConfigFile::GetAll(std::string_view key) const {
  std::vector<std::string> out;
  for (const Line& l : lines_) {
    if (l.key == key) out.push_back(l.value);
  }
  return out;
}

std::string ConfigFile::Get(std::string_view key) const {
  auto all = GetAll(key);
  return all.empty() ? std::string() : all.back();
}

void ConfigFile::Add(std::string_view key, std::string_view value) {
  lines_.push_back(
      Line{std::string(key) + " = " + std::string(value), std::string(key), std::string(value)});
}

bool ConfigFile::Remove(std::string_view key, std::string_view value) {
  const size_t before = lines_.size();
  std::erase_if(lines_, [&](const Line& l) { return l.key == key && l.value == value; });
  return lines_.size() != before;
}

Result<SyncConfig> ConfigFile::Sync() const {
  SyncConfig out;
  for (const std::string& peer : GetAll("peer")) {
    KVFS_RETURN_IF_ERROR(ParseHostPort(peer).status());
    if (std::find(out.peers.begin(), out.peers.end(), peer) == out.peers.end()) {
      out.peers.push_back(peer);
    }
  }
  out.listen = Get("listen");
  if (!out.listen.empty()) KVFS_RETURN_IF_ERROR(ParseHostPort(out.listen).status());
  return out;
}

std::string ConfigFile::Text() const {
  std::string out;
  for (const Line& l : lines_) out += l.raw + "\n";
  return out;
}

Status ConfigFile::Save(const std::string& path) const {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create " + tmp);
  const std::string text = Text();
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status st = IoError("cannot write " + tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return st;
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  if (!(::close(fd) == 0 && synced)) {
    Status st = IoError("cannot write " + tmp);
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = IoError("cannot replace " + path);
    ::unlink(tmp.c_str());
    return st;
  }
  return Status::Ok();
}

}  // namespace kvfs::sync
