#pragma once
// Mount options: what `kvfs mount -o`, `mount.kvfs -o` and fstab give, parsed into
// the settings kvfs acts on itself and the options passed through to libfuse.
// Pure functions, no I/O: tests/fs/mount_options_test.cc covers them.

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kvfs::fs {

enum class ReaddirAttrs { kNone, kDirectories, kAll };

struct MountOptions {
  // "ro": the store is opened read-only and the kernel mount is MS_RDONLY.
  bool read_only = false;
  // "allow_other": other users may use the mount; the kernel checks permissions
  // (default_permissions is always on).
  bool allow_other = false;
  // "debug": libfuse traces every request on stderr (use with -f).
  bool debug = false;
  // "writeback_cache" / "no_writeback_cache" (default): let the kernel batch
  // writes in its page cache. That makes runs of small writes (4 KiB dd, line
  // appends) 3-5x faster, but while a file is held open on the mount the kernel
  // then trusts its own size for it, so a change made elsewhere (CLI, a peer)
  // that shrinks the file shows the old size until no process has it open. Big
  // writes (cp) are as fast without it; every write(2) is then one transaction.
  bool writeback_cache = false;
  // What a directory listing carries besides names (FUSE readdirplus). Default:
  // the attributes of subdirectories, so a walk (`find`, `du`, `grep -r`) needs no
  // LOOKUP to enter each one, while files get none: for every entry given
  // attributes the kernel builds an inode, which made a cold `find` over 10,000
  // files 2x slower. "readdirplus": attributes for every entry, so `ls -l` needs no
  // lookup per file (cold `ls -lR` of 10,000 files 0.04 s instead of 0.19 s).
  // "no_readdirplus": names only (plain READDIR).
  ReaddirAttrs readdir_attrs = ReaddirAttrs::kDirectories;
  // "peer=HOST:PORT" (repeatable) and "listen=ADDR:PORT": replication for this
  // mount. Kept for the sync layer; validated here so typos fail at mount time.
  std::vector<std::string> peers;
  std::string listen;
  // "fsname=": what /proc/mounts shows as the source. Empty: the store directory.
  std::string fsname;
  // "subtype=": /proc/mounts shows "fuse.<subtype>".
  std::string subtype = "kvfs";
  // Everything else, in order, for libfuse and the kernel (nosuid, noatime, ...).
  std::vector<std::string> passthrough;
};

// Splits "a,b=c,d" into its options. A backslash escapes the next byte (so a
// value may hold a comma). Empty items are dropped.
std::vector<std::string> SplitOptions(std::string_view opts);

// Parses one -o string into `out` (call once per -o; later values win, peers add
// up). kInvalid, naming the option, for a malformed peer/listen or empty value.
Status ParseMountOptions(std::string_view opts, MountOptions* out);

// Drops the options mount(8) and fstab use for themselves, which mean nothing to
// a FUSE daemon: defaults, _netdev, noauto, auto, nofail, user, users, nouser, rw,
// x-*, comment=*. Returns the rest, comma-joined (escapes kept).
std::string StripHelperOptions(std::string_view opts);

// Validates "HOST:PORT" ("[v6addr]:PORT" too): a non-empty host and a port 1..65535.
Status ValidateHostPort(std::string_view value);

// The "-o" argument for libfuse: default_permissions, fsname, subtype, ro,
// allow_other, then the pass-through options. Commas and backslashes inside
// values are escaped as libfuse expects.
std::string FuseOptionString(const MountOptions& options, const std::string& store_dir);

}  // namespace kvfs::fs
