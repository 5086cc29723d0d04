// mount.kvfs: the mount(8) helper, so `mount -t kvfs STORE DIR` and fstab lines of
// type kvfs work:
//
//   mount.kvfs STORE DIR [-sfnv] [-o OPTS] [-t TYPE] [-N NS]
//
// mount(8) passes its own options (defaults, noauto, _netdev, x-systemd.*, ...)
// along with ours; those are dropped before the rest reaches the daemon. Returns
// once the mount is up (0), or with one line on stderr: 1 for bad usage, 32 (mount
// failure, as mount(8) defines) when the mount could not be made.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/sync_mount.h"
#include "fs/daemon.h"
#include "fs/mount_options.h"

namespace {

constexpr int kExitUsage = 1;
constexpr int kExitMountFailure = 32;

constexpr const char* kUsage =
    "usage: mount.kvfs STORE DIR [-sfnv] [-o OPTIONS]\n"
    "  -o OPTIONS  comma-separated: ro, allow_other, peer=HOST:PORT, listen=ADDR:PORT,\n"
    "              fsname=, subtype=, FUSE and mount options (noatime, nosuid, ...)\n"
    "  -s          sloppy: accepted, ignored\n"
    "  -f          fake: check the arguments, mount nothing\n"
    "  -n          do not write /etc/mtab: accepted, ignored\n"
    "  -v          verbose\n"
    "The daemon logs to STORE/log/mount.log.\n";

struct Args {
  std::vector<std::string> positionals;
  std::vector<std::string> options;
  bool fake = false;
  bool verbose = false;
  bool help = false;
};

int UsageError(const std::string& what) {
  std::fprintf(stderr, "mount.kvfs: %s\n%s", what.c_str(), kUsage);
  return kExitUsage;
}

// Plain argv parsing: mount(8) passes options after the positionals, and flags
// may be bundled (-sv) or carry their value (-oro).
bool Parse(int argc, char** argv, Args* args, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      args->help = true;
    } else if (a.size() >= 2 && a[0] == '-' && a != "-") {
      for (size_t j = 1; j < a.size(); ++j) {
        const char flag = a[j];
        if (flag == 'o' || flag == 't' || flag == 'N') {
          std::string value = a.substr(j + 1);
          if (value.empty()) {
            if (i + 1 >= argc) {
              *error = std::string("option -") + flag + " needs a value";
              return false;
            }
            value = argv[++i];
          }
          if (flag == 'o') args->options.push_back(value);
          break;  // the rest of this argument was the value
        }
        if (flag == 'f') {
          args->fake = true;
        } else if (flag == 'v') {
          args->verbose = true;
        } else if (flag != 's' && flag != 'n') {
          *error = std::string("unknown option -") + flag;
          return false;
        }
      }
    } else {
      args->positionals.push_back(a);
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  std::string error;
  if (!Parse(argc, argv, &args, &error)) return UsageError(error);
  if (args.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args.positionals.size() != 2) return UsageError("give the store and the mount point");

  kvfs::fs::MountConfig config;
  config.store_dir = args.positionals[0];
  config.mountpoint = args.positionals[1];
  for (const std::string& o : args.options) {
    const std::string kept = kvfs::fs::StripHelperOptions(o);
    if (kvfs::Status st = kvfs::fs::ParseMountOptions(kept, &config.options); !st.ok()) {
      std::fprintf(stderr, "mount.kvfs: %s\n", st.message().c_str());
      return kExitUsage;
    }
  }
  // peer=/listen= (and those of STORE/kvfs.conf) start the sync layer in the daemon.
  if (kvfs::Status st = kvfs::cli::AttachSyncToMount(&config); !st.ok()) {
    std::fprintf(stderr, "mount.kvfs: %s\n", st.message().c_str());
    return kExitUsage;
  }
  if (args.verbose) {
    std::fprintf(stderr, "mount.kvfs: mounting %s on %s with -o %s\n", config.store_dir.c_str(),
                 config.mountpoint.c_str(),
                 kvfs::fs::FuseOptionString(config.options, config.store_dir).c_str());
  }
  if (args.fake) return 0;
  return kvfs::fs::RunDaemon(config) == 0 ? 0 : kExitMountFailure;
}
