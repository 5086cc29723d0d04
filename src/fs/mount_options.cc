#include "fs/mount_options.h"

#include <charconv>

namespace kvfs::fs {
namespace {

std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == ',' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Splits like SplitOptions but keeps escapes, so StripHelperOptions can rejoin.
std::vector<std::string> SplitRaw(std::string_view opts) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < opts.size(); ++i) {
    if (opts[i] == '\\' && i + 1 < opts.size()) {
      cur += opts[i];
      cur += opts[++i];
    } else if (opts[i] == ',') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += opts[i];
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string Unescape(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
    out += raw[i];
  }
  return out;
}

bool IsHelperOption(std::string_view o) {
  static constexpr std::string_view kDrop[] = {"defaults", "_netdev", "noauto", "auto", "nofail",
                                               "user",     "users",   "nouser", "rw"};
  for (std::string_view d : kDrop) {
    if (o == d) return true;
  }
  return o.starts_with("x-") || o.starts_with("comment=");
}

}  // namespace

std::vector<std::string> SplitOptions(std::string_view opts) {
  std::vector<std::string> out;
  for (const std::string& raw : SplitRaw(opts)) out.push_back(Unescape(raw));
  return out;
}

Status ValidateHostPort(std::string_view value) {
  const size_t colon = value.rfind(':');
  if (colon == std::string_view::npos) {
    return Status(Code::kInvalid, "'" + std::string(value) + "' has no port; write HOST:PORT");
  }
  std::string_view host = value.substr(0, colon), port = value.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return Status(Code::kInvalid,
                  "'" + std::string(value) + "': write an IPv6 address in brackets, [ADDR]:PORT");
  }
  if (host.empty()) {
    return Status(Code::kInvalid, "'" + std::string(value) + "' has no host; write HOST:PORT");
  }
  unsigned number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number == 0 ||
      number > 65535) {
    return Status(Code::kInvalid,
                  "'" + std::string(value) + "' has a bad port; use a number from 1 to 65535");
  }
  return Status::Ok();
}

Status ParseMountOptions(std::string_view opts, MountOptions* out) {
  for (const std::string& o : SplitOptions(opts)) {
    const size_t eq = o.find('=');
    const std::string key = o.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : o.substr(eq + 1);
    if (eq != std::string::npos && value.empty()) {
      return Status(Code::kInvalid, "mount option '" + o + "' needs a value after '='");
    }
    if (o == "ro") {
      out->read_only = true;
    } else if (o == "rw") {
      out->read_only = false;
    } else if (o == "allow_other") {
      out->allow_other = true;
    } else if (o == "debug") {
      out->debug = true;
    } else if (o == "writeback_cache") {
      out->writeback_cache = true;
    } else if (o == "no_writeback_cache") {
      out->writeback_cache = false;
    } else if (o == "readdirplus") {
      out->readdir_attrs = ReaddirAttrs::kAll;
    } else if (o == "no_readdirplus") {
      out->readdir_attrs = ReaddirAttrs::kNone;
    } else if (o == "default_permissions") {
      // Always on.
    } else if (key == "peer" || key == "listen") {
      if (eq == std::string::npos) {
        return Status(Code::kInvalid,
                      "mount option '" + key + "' needs a value: " + key + "=HOST:PORT");
      }
      Status st = ValidateHostPort(value);
      if (!st.ok()) return Status(Code::kInvalid, "mount option " + key + ": " + st.message());
      if (key == "peer") {
        out->peers.push_back(value);
      } else {
        out->listen = value;
      }
    } else if (key == "fsname" && eq != std::string::npos) {
      out->fsname = value;
    } else if (key == "subtype" && eq != std::string::npos) {
      out->subtype = value;
    } else {
      out->passthrough.push_back(o);
    }
  }
  return Status::Ok();
}

std::string StripHelperOptions(std::string_view opts) {
  std::string out;
  for (const std::string& raw : SplitRaw(opts)) {
    if (IsHelperOption(raw)) continue;
    if (!out.empty()) out += ',';
    out += raw;
  }
  return out;
}

std::string FuseOptionString(const MountOptions& options, const std::string& store_dir) {
  std::string out = "default_permissions";
  out += ",fsname=" + Escape(options.fsname.empty() ? store_dir : options.fsname);
  if (!options.subtype.empty()) out += ",subtype=" + Escape(options.subtype);
  if (options.read_only) out += ",ro";
  if (options.allow_other) out += ",allow_other";
  for (const std::string& o : options.passthrough) out += "," + Escape(o);
  return out;
}

}  // namespace kvfs::fs
