#pragma once
// The per-store configuration file STORE/kvfs.conf: simple "key = value" lines, the
// subset of INI that CLI11's config reader also understands.
//
//   # comments start with '#' or ';'
//   listen = 0.0.0.0:7420      accept peers here (one; the last line wins)
//   peer = laptop.lan:7420     dial this peer (repeatable)
//   peer = [fd00::5]:7420
//
// Keys this layer does not know are kept as they are (other layers may use them), and
// edits (`kvfs peer add|rm`) keep comments and the order of the other lines.
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kvfs::sync {

// "STORE/kvfs.conf".
std::string ConfigPath(const std::string& store_dir);

// What the sync layer takes from the file, validated.
struct SyncConfig {
  std::vector<std::string> peers;  // HOST:PORT, in file order, no duplicates
  std::string listen;              // ADDR:PORT or empty
};

class ConfigFile {
 public:
  // Reads `path`; a missing file is an empty configuration. kInvalid, naming the
  // file and line, for a line that is not "key = value".
  static Result<ConfigFile> Load(const std::string& path);
  static Result<ConfigFile> Parse(std::string_view text, const std::string& origin);

  // Every value of `key`, in file order.
  std::vector<std::string> GetAll(std::string_view key) const;
  // The last value of `key`, or "" when absent.
  std::string Get(std::string_view key) const;
  // Appends "key = value".
  void Add(std::string_view key, std::string_view value);
  // Removes every "key = value" line with this value; false when there was none.
  bool Remove(std::string_view key, std::string_view value);

  // The sync settings, each address checked (kInvalid naming the bad line's value).
  Result<SyncConfig> Sync() const;

  std::string Text() const;
  // Writes atomically (temporary file, fsync, rename), mode 0600.
  Status Save(const std::string& path) const;

 private:
  struct Line {
    std::string raw;  // the line as read (or written by Add)
    std::string key;  // empty for blank and comment lines
    std::string value;
  };
  std::vector<Line> lines_;
};

}  // namespace kvfs::sync
