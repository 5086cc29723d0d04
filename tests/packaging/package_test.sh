#!/usr/bin/env bash
# packaging.deb: the Debian package, end to end, on this machine.
#
#   1. builds kvfs_<version>_<arch>.deb with cpack from the build directory into a
#      temp dir and checks its contents and control fields;
#   2. installs it (dpkg -i; apt-get install -f when dependencies are missing);
#   3. uses ONLY the installed files, with a PATH that holds no build directory:
#      kvfs --version, man -w, bash completion, kvfs init/set/get/status,
#      mount -t kvfs + echo/cat + umount, mount -T FSTAB -a (a noauto line left
#      alone) + umount, systemd-analyze verify of the units;
#   4. removes it (dpkg -r) and checks that no file of `dpkg -L kvfs` is left.
#
# It installs into /usr: run it as root on a machine you can dirty (CI is one). An
# EXIT trap always unmounts what it mounted, stops the daemons it started and purges
# the package, even on failure or timeout (a watchdog ends the script before ctest's
# own timeout would kill it untrapped).
#
# Exit 77 (skipped): not root, no dpkg, or a kvfs package or /usr/bin/kvfs that
# this test did not install is already there (it would be replaced and then
# removed). The mount steps are skipped, with a message, only without /dev/fuse;
# the systemd-analyze step only when systemd-analyze cannot run here.
#
# Environment: KVFS_BUILD_DIR (required: the CMake build directory),
# KVFS_VERSION (expected package version), PKG_STEP_TIMEOUT (s, default 120),
# PKG_DEADLINE (whole script, s, default 540), PKG_KEEP=1 keeps the temp dir.

# Snippets for `bash -c '...' _ ARG` expand their $1 there, not here:
# shellcheck disable=SC2016

set -euo pipefail

BUILD_DIR=${KVFS_BUILD_DIR:-}
WANT_VERSION=${KVFS_VERSION:-}
STEP_TIMEOUT=${PKG_STEP_TIMEOUT:-120}
DEADLINE=${PKG_DEADLINE:-540}
SYS_PATH=/usr/sbin:/usr/bin:/sbin:/bin

T=""
STEP=""
INSTALLED=0       # 1 once dpkg -i ran: the trap must purge
MOUNTS=()         # mount points this test may have mounted
WATCHDOG=""
SKIPPED=()        # steps skipped, with the reason

log() { printf '[packaging] %s\n' "$*" >&2; }
step() { STEP=$*; log "-- $*"; }
fail() {
  printf '[packaging] FAIL%s: %s\n' "${STEP:+ (in: $STEP)}" "$*" >&2
  exit 1
}
skip_step() { SKIPPED+=("$STEP: $*"); log "SKIP (this step only): $*"; }

# b CMD...: bounded; SIGTERM after the step bound, SIGKILL 5 s later.
b() { timeout -k 5 "$STEP_TIMEOUT" "$@"; }
# inst CMD...: bounded, with a clean environment whose PATH holds only the system
# directories, so only installed files can run.
inst() {
  timeout -k 5 "$STEP_TIMEOUT" env -i PATH="$SYS_PATH" HOME="$T/home" LANG=C.UTF-8 \
    TMPDIR="$T" "$@"
}

assert_eq() {
  [[ "$1" == "$2" ]] || fail "$3
    expected: $(printf '%q' "$1")
    got:      $(printf '%q' "$2")"
}
assert_contains() {
  [[ "$1" == *"$2"* ]] || fail "$3
    expected to contain: $(printf '%q' "$2")
    got:                 $(printf '%q' "$1")"
}

in_proc_mounts() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
wait_until() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    if "$@" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}
not_mounted() { ! in_proc_mounts "$1"; }

# Pids of processes one of whose arguments lies under $T (the daemons this test
# started name its store and mount points), never this shell.
pids_under_tmp() {
  local p a
  local -a args
  [[ -n $T ]] || return 0
  for p in /proc/[0-9]*; do
    [[ ${p#/proc/} != "$$" && ${p#/proc/} != "$BASHPID" ]] || continue
    mapfile -d '' args <"$p/cmdline" 2>/dev/null || continue
    ((${#args[@]} > 0)) || continue
    case ${args[0]##*/} in *kvfs*) ;; *) continue ;; esac
    for a in "${args[@]:1}"; do
      if [[ $a == "$T" || $a == "$T"/* ]]; then
        echo "${p#/proc/}"
        break
      fi
    done
  done
  return 0
}
no_daemon() { [[ -z $(pids_under_tmp) ]]; }

force_unmount() {
  local m=$1
  in_proc_mounts "$m" || return 0
  timeout -k 2 10 umount "$m" 2>/dev/null ||
    timeout -k 2 10 fusermount3 -u "$m" 2>/dev/null ||
    timeout -k 2 10 umount -l "$m" 2>/dev/null || true
  ! in_proc_mounts "$m"
}

cleanup() {
  local rc=$? i m p
  trap - EXIT INT TERM
  set +e
  [[ -n $WATCHDOG ]] && kill "$WATCHDOG" 2>/dev/null
  cd /
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    m=${MOUNTS[i]}
    if in_proc_mounts "$m"; then
      log "cleanup: unmounting $m"
      force_unmount "$m" || { log "cleanup: could not unmount $m"; ((rc != 0)) || rc=1; }
    fi
  done
  wait_until 10 no_daemon
  for p in $(pids_under_tmp); do
    log "cleanup: killing daemon pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null))"
    kill -TERM "$p" 2>/dev/null
    sleep 1
    kill -KILL "$p" 2>/dev/null
  done
  if ((INSTALLED)); then
    if dpkg-query -W -f='${Status}\n' kvfs 2>/dev/null | grep -qv 'not-installed'; then
      log "cleanup: dpkg --purge kvfs"
      timeout -k 5 300 dpkg --purge kvfs >"$T/purge.log" 2>&1 ||
        { log "cleanup: dpkg --purge failed: $(cat "$T/purge.log")"; ((rc != 0)) || rc=1; }
    fi
    if dpkg-query -W -f='${Status}\n' kvfs 2>/dev/null | grep -qv 'not-installed'; then
      log "cleanup: FAIL: kvfs is still known to dpkg: $(dpkg-query -W -f='${Status}' kvfs)"
      ((rc != 0)) || rc=1
    fi
  fi
  if [[ -n $T && -d $T ]]; then
    if grep -qF " $T/" /proc/mounts; then
      log "cleanup: something is still mounted under $T; keeping it"
      ((rc != 0)) || rc=1
    elif [[ ${PKG_KEEP:-0} == 1 ]]; then
      log "kept $T"
    else
      rm -rf "$T"
    fi
  fi
  if ((rc == 0)); then
    for m in "${SKIPPED[@]}"; do log "skipped: $m"; done
    log "PASS"
  elif ((rc != 77)); then
    log "exit $rc"
  fi
  exit "$rc"
}

# ------------------------------------------------------------------ preconditions
if [[ $(id -u) -ne 0 ]]; then
  log "SKIP: must run as root (it installs and removes the kvfs package)"
  exit 77
fi
for tool in dpkg dpkg-deb dpkg-query; do
  command -v "$tool" >/dev/null || { log "SKIP: no $tool (not a Debian system)"; exit 77; }
done
[[ -n $BUILD_DIR && -f $BUILD_DIR/CPackConfig.cmake ]] ||
  fail "KVFS_BUILD_DIR ('$BUILD_DIR') is not a configured build directory with CPackConfig.cmake"
if dpkg-query -W -f='${Status}\n' kvfs 2>/dev/null | grep -qv 'not-installed'; then
  log "SKIP: a kvfs package is already on this machine ($(dpkg-query -W -f='${Version} ${Status}' kvfs));"
  log "      this test would replace and then purge it. Remove it first: dpkg --purge kvfs"
  exit 77
fi
if [[ -e /usr/bin/kvfs && ! -L /usr/bin/kvfs ]]; then
  log "SKIP: /usr/bin/kvfs exists and no package owns it; this test would overwrite and"
  log "      then delete it. Remove it first."
  exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/kvfs-pkg.XXXXXX")
chmod 755 "$T"
mkdir -p "$T/home"
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM
# (sleep gets no copy of our stdout/stderr, so it cannot hold ctest's pipe open.)
(
  exec </dev/null
  sleep "$DEADLINE" >/dev/null 2>&1
  log "watchdog: ${DEADLINE}s deadline passed"
  kill -TERM $$
) &
WATCHDOG=$!

# ------------------------------------------------------------------ build
step "cpack -G DEB from $BUILD_DIR"
# cpack first brings the build up to date (its "preinstall" target): instant after a
# fresh build, as in CI; a stale build dir is rebuilt here, within this bound.
if ! timeout -k 5 420 cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$T/pkg" >"$T/cpack.log" 2>&1; then
  pre=$(find "$T/pkg" -name PreinstallOutput.log 2>/dev/null | head -n 1)
  fail "cpack failed or timed out (a stale build dir is rebuilt first: build it, then rerun):
$(tail -n 20 "$T/cpack.log")${pre:+
--- $pre (tail):
$(tail -n 20 "$pre")}"
fi
out=$(cat "$T/cpack.log")
arch=$(dpkg --print-architecture)
mapfile -t debs < <(find "$T/pkg" -maxdepth 1 -name 'kvfs_*.deb')
((${#debs[@]} == 1)) || fail "expected one kvfs_*.deb in $T/pkg, found: ${debs[*]:-none}; cpack said: $out"
DEB=${debs[0]}
version=$(dpkg-deb -f "$DEB" Version)
[[ -z $WANT_VERSION ]] || assert_eq "$WANT_VERSION" "$version" "package version (PROJECT_VERSION)"
assert_eq "kvfs_${version}_${arch}.deb" "$(basename "$DEB")" "package file name"
log "built $(basename "$DEB") ($(stat -c %s "$DEB") bytes)"

step "dpkg-deb -I: control fields"
info=$(dpkg-deb -I "$DEB")
assert_eq "kvfs" "$(dpkg-deb -f "$DEB" Package)" "Package field"
assert_eq "$arch" "$(dpkg-deb -f "$DEB" Architecture)" "Architecture field"
depends=$(dpkg-deb -f "$DEB" Depends)
# (dpkg-shlibdeps names spdlog by its ABI: libspdlog1.10-fmt9, which libspdlog1.10 provides.)
for dep in fuse3 libfuse3-3 liblmdb0 libsodium23 libzstd1 'libspdlog1\.10(-fmt9)?'; do
  re="(^|[ ,])${dep}([ ,(]|\$)"
  [[ $depends =~ $re ]] || fail "Depends lacks $dep: $depends"
done
log "Depends: $depends"
for script in postinst prerm postrm; do
  assert_contains "$info" " $script " "maintainer script $script in the control archive"
done

step "dpkg-deb -c: contents"
# "perms owner size date time ./path[ -> target]": keep the path.
contents=$(dpkg-deb -c "$DEB" | sed -E 's/^([^ ]+ +){5}//; s/ -> .*$//; s|^\./|/|')
for f in /usr/bin/kvfs /usr/sbin/mount.kvfs \
  /usr/share/man/man1/kvfs.1.gz /usr/share/man/man8/mount.kvfs.8.gz \
  /usr/share/bash-completion/completions/kvfs /usr/share/bash-completion/completions/mount.kvfs \
  /usr/lib/systemd/system/kvfs-serve@.service /usr/lib/systemd/user/kvfs-mount@.service \
  /usr/share/doc/kvfs/README.md /usr/share/doc/kvfs/OPERATIONS.md /usr/share/doc/kvfs/changelog.gz; do
  grep -qxF "$f" <<<"$contents" || fail "$f is not in the package; it holds:
$contents"
done
# Everything lives under these (and their parents).
allowed='^/usr/($|bin/|sbin/|lib/($|systemd/)|share/($|man/|doc/|bash-completion/))'
if stray=$(grep -vE "$allowed" <<<"$contents"); then
  fail "files outside the expected directories: $stray"
fi
if grep -qE '/(build[^/]*|_CPack_Packages)/' <<<"$contents"; then fail "build paths in the package"; fi

# ------------------------------------------------------------------ install
step "dpkg -i $(basename "$DEB")"
INSTALLED=1
if ! out=$(timeout -k 5 300 dpkg -i "$DEB" 2>&1); then
  log "dpkg -i did not finish (missing dependencies?): $(tail -n 5 <<<"$out")"
  log "running apt-get install -f"
  out=$( (timeout -k 5 300 apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive timeout -k 5 300 apt-get install -f -y -qq --no-install-recommends) 2>&1) ||
    fail "apt-get install -f failed: $out"
fi
assert_eq "install ok installed" "$(dpkg-query -W -f='${Status}' kvfs)" "dpkg status of kvfs"
dpkg -L kvfs >"$T/files"
log "installed $(wc -l <"$T/files") paths"

step "installed binaries come first on a clean PATH"
assert_eq "/usr/bin/kvfs" "$(inst bash -c 'command -v kvfs')" "kvfs on PATH=$SYS_PATH"
assert_eq "/usr/sbin/mount.kvfs" "$(inst bash -c 'command -v mount.kvfs')" "mount.kvfs on PATH"
helper=$(readlink -f /sbin/mount.kvfs) || fail "no /sbin/mount.kvfs, where mount(8) looks"
assert_eq "/usr/sbin/mount.kvfs" "$helper" "/sbin/mount.kvfs (what mount -t kvfs runs)"
dpkg -S /usr/sbin/mount.kvfs | grep -q '^kvfs:' || fail "/usr/sbin/mount.kvfs is not owned by kvfs"

step "kvfs --version"
out=$(inst kvfs --version 2>&1) || fail "kvfs --version failed: $out"
assert_eq "kvfs $version" "$out" "kvfs --version of the installed binary"
out=$(inst mount.kvfs --help 2>&1) || fail "mount.kvfs --help failed: $out"
assert_contains "$out" "usage: mount.kvfs" "mount.kvfs --help"

step "man pages"
if ! command -v man >/dev/null; then
  log "installing man-db"
  out=$( (timeout -k 5 300 apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive timeout -k 5 300 apt-get install -y -qq --no-install-recommends man-db) 2>&1) ||
    fail "cannot install man-db: $out"
fi
out=$(inst man -w kvfs 2>&1) || fail "man -w kvfs failed: $out"
assert_eq "/usr/share/man/man1/kvfs.1.gz" "$out" "man -w kvfs"
out=$(inst man -w mount.kvfs 2>&1) || fail "man -w mount.kvfs failed: $out"
assert_eq "/usr/share/man/man8/mount.kvfs.8.gz" "$out" "man -w mount.kvfs"
for page in kvfs mount.kvfs; do
  warnings=$(inst env MANWIDTH=80 man --warnings -E UTF-8 "$page" 2>&1 >/dev/null) ||
    fail "man $page failed: $warnings"
  [[ -z $warnings ]] || fail "man --warnings $page: $warnings"
  text=$(inst env MANWIDTH=80 man "$page" 2>/dev/null)
  assert_contains "$text" "$version" "man $page names the package version"
done

step "bash completion"
out=$(inst bash -c '. /usr/share/bash-completion/completions/kvfs && complete -p kvfs mount.kvfs' 2>&1) ||
  fail "sourcing the completion failed: $out"
assert_contains "$out" "complete -F _kvfs kvfs" "completion for kvfs"
assert_contains "$out" "complete -F _mount_kvfs mount.kvfs" "completion for mount.kvfs"
out=$(inst bash -c '. /usr/share/bash-completion/completions/kvfs
  COMP_WORDS=(kvfs s); COMP_CWORD=1; _kvfs; echo "${COMPREPLY[*]}"' 2>&1) ||
  fail "completing 'kvfs s' failed: $out"
assert_eq "set stat serve sync status" "$out" "completion of 'kvfs s'"

step "kvfs init, set, get, status with the installed tool"
STORE=$T/store
STORE2=$T/store2
out=$(inst kvfs init "$STORE" 2>&1) || fail "kvfs init failed: $out"
out=$(inst kvfs init "$STORE2" 2>&1) || fail "kvfs init (second store) failed: $out"
out=$(inst kvfs --store "$STORE" set hello "from the installed cli" 2>&1) || fail "kvfs set failed: $out"
assert_eq "from the installed cli" "$(inst kvfs --store "$STORE" get hello)" "kvfs get hello"
out=$(inst env KVFS_STORE="$STORE" kvfs get hello 2>&1) || fail "kvfs get with \$KVFS_STORE failed: $out"
assert_eq "from the installed cli" "$out" "kvfs get with \$KVFS_STORE"
out=$(inst kvfs status "$STORE" 2>&1) || fail "kvfs status failed: $out"
assert_contains "$out" "node:" "kvfs status"
rc=0
inst kvfs --store "$STORE" get no/such/key >/dev/null 2>&1 || rc=$?
assert_eq 1 "$rc" "exit code of kvfs get of a missing key"

if [[ ! -e /dev/fuse ]]; then
  step "mounts"
  skip_step "/dev/fuse is missing: mount -t kvfs and the fstab mounts were not tried"
else
  # um DIR: umount(8), then the mount and its daemon must go.
  um() {
    local o
    o=$(inst umount "$1" 2>&1) || fail "umount $1 failed: $o"
    wait_until 10 not_mounted "$1" || fail "$1 still mounted after umount"
  }
  # The daemon serving DIR must be the installed helper, not a build-tree binary.
  check_daemon_exe() {
    local p exe found=0
    for p in $(pids_under_tmp); do
      exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
      case $exe in
        /usr/sbin/mount.kvfs | /usr/bin/kvfs) found=1 ;;
        *) fail "daemon pid $p runs $exe, not an installed binary" ;;
      esac
    done
    ((found)) || fail "no daemon process found for the mount under $T"
  }

  step "mount -t kvfs STORE DIR; echo and cat; umount DIR"
  M1=$T/m1
  mkdir -p "$M1"
  MOUNTS+=("$M1")
  out=$(inst mount -t kvfs "$STORE" "$M1" 2>&1) || fail "mount -t kvfs failed: $out"
  wait_until 10 in_proc_mounts "$M1" || fail "$M1 not mounted after mount -t kvfs: $out"
  assert_eq "fuse.kvfs" "$(findmnt -n -o FSTYPE --mountpoint "$M1")" "type of the mount"
  check_daemon_exe
  assert_eq "from the installed cli" "$(b cat "$M1/hello")" "cat of a key set by the CLI"
  b bash -c 'echo "written through the mount" > "$1"' _ "$M1/greeting" || fail "echo > $M1/greeting failed"
  assert_eq "written through the mount" "$(b cat "$M1/greeting")" "cat of the file just written"
  assert_eq "written through the mount" "$(inst kvfs --store "$STORE" get greeting)" \
    "kvfs get of a file written through the mount"
  um "$M1"
  wait_until 20 no_daemon || fail "daemon still running 20 s after umount: $(pids_under_tmp)"

  step "mount -T FSTAB -a: the auto line mounts, the noauto line does not"
  M2=$T/m2
  M3=$T/m3
  mkdir -p "$M2" "$M3"
  MOUNTS+=("$M2" "$M3")
  cat >"$T/fstab" <<EOF
# test fstab for the kvfs package
$STORE   $M2  kvfs  defaults,_netdev  0 0
$STORE2  $M3  kvfs  noauto,_netdev    0 0
EOF
  out=$(inst mount -T "$T/fstab" -a 2>&1) || fail "mount -T $T/fstab -a failed: $out"
  wait_until 10 in_proc_mounts "$M2" || fail "$M2 (defaults,_netdev) not mounted by mount -a: $out"
  if in_proc_mounts "$M3"; then fail "$M3 (noauto) was mounted by mount -a"; fi
  check_daemon_exe
  assert_eq "written through the mount" "$(b cat "$M2/greeting")" "cat through the fstab mount"
  b bash -c 'echo fstab > "$1"' _ "$M2/from-fstab" || fail "write through the fstab mount failed"
  step "mount DIR of the noauto line"
  out=$(inst mount -T "$T/fstab" "$M3" 2>&1) || fail "mount -T $T/fstab $M3 failed: $out"
  wait_until 10 in_proc_mounts "$M3" || fail "$M3 not mounted by mount DIR"
  um "$M3"
  um "$M2"
  wait_until 20 no_daemon || fail "daemons still running 20 s after umount: $(pids_under_tmp)"
  assert_eq "fstab" "$(inst kvfs --store "$STORE" get from-fstab)" "file written through the fstab mount"
fi

# ------------------------------------------------------------------ systemd units
step "systemd-analyze verify of the installed units"
if ! command -v systemd-analyze >/dev/null; then
  log "installing systemd (for systemd-analyze)"
  (timeout -k 5 300 apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive timeout -k 5 300 apt-get install -y -qq --no-install-recommends systemd) \
    >"$T/apt-systemd.log" 2>&1 || log "could not install systemd: $(tail -n 3 "$T/apt-systemd.log")"
fi
if ! command -v systemd-analyze >/dev/null; then
  skip_step "systemd-analyze is not available on this machine"
else
  # Template units are verified as instances; the copies keep the installed
  # contents (the ExecStart binaries and man: links are checked against /usr).
  mkdir -p "$T/units" "$T/xdg"
  chmod 700 "$T/xdg"
  cp /usr/lib/systemd/system/kvfs-serve@.service "$T/units/kvfs-serve@pkgtest.service"
  cp /usr/lib/systemd/user/kvfs-mount@.service "$T/units/kvfs-mount@pkgtest.service"
  verify_rc=0
  sys_out=$(inst systemd-analyze verify "$T/units/kvfs-serve@pkgtest.service" 2>&1) || verify_rc=$?
  user_rc=0
  user_out=$(inst env XDG_RUNTIME_DIR="$T/xdg" systemd-analyze --user verify \
    "$T/units/kvfs-mount@pkgtest.service" 2>&1) || user_rc=$?
  if [[ "$sys_out$user_out" == *"Failed to initialize manager"* || "$sys_out$user_out" == *"Failed to lookup RuntimeDirectory"* ]]; then
    skip_step "systemd-analyze cannot run in this container: $(head -n 2 <<<"$sys_out$user_out")"
  else
    if ((verify_rc != 0)) || [[ -n $sys_out ]]; then
      fail "systemd-analyze verify kvfs-serve@.service (rc $verify_rc): $sys_out"
    fi
    if ((user_rc != 0)) || [[ -n $user_out ]]; then
      fail "systemd-analyze --user verify kvfs-mount@.service (rc $user_rc): $user_out"
    fi
    log "systemd-analyze verify: both units clean"
  fi
fi

# ------------------------------------------------------------------ unit commands
# systemd does not run here (nor in most CI containers), so the commands of the
# installed units are run by hand, as systemd would: %h and %i substituted.

# unit_cmds FILE KEY: the command lines of KEY= in FILE, with %h -> $T/home,
# %i -> pkgtest, and the "-" (ignore failure) prefix dropped.
unit_cmds() {
  sed -n "s/^$2=//p" "$1" | sed -e "s|%h|$T/home|g" -e 's|%i|pkgtest|g' -e 's|^-||'
}

if [[ -e /dev/fuse ]]; then
  step "kvfs-mount@.service: ExecStartPre, ExecStart (kvfs mount -f), ExecStop (kvfs umount)"
  UNIT=/usr/lib/systemd/user/kvfs-mount@.service
  out=$(inst kvfs init "$T/home/.local/share/kvfs/pkgtest" 2>&1) || fail "kvfs init of the unit's store failed: $out"
  UM=$T/home/kv/pkgtest
  MOUNTS+=("$UM")
  while IFS= read -r cmd; do
    [[ $cmd == *fusermount3* ]] && { inst bash -c "$cmd" >/dev/null 2>&1 || true; continue; }
    out=$(inst bash -c "$cmd" 2>&1) || fail "ExecStartPre '$cmd' failed: $out"
  done < <(unit_cmds "$UNIT" ExecStartPre)
  start_cmd=$(unit_cmds "$UNIT" ExecStart | grep .)
  assert_contains "$start_cmd" " -f" "ExecStart runs the mount in the foreground"
  timeout -k 5 120 env -i PATH="$SYS_PATH" HOME="$T/home" bash -c "exec $start_cmd" >"$T/unit-mount.log" 2>&1 &
  unit_pid=$!
  wait_until 20 in_proc_mounts "$UM" || fail "ExecStart '$start_cmd' did not mount $UM: $(cat "$T/unit-mount.log")"
  b bash -c 'echo unit > "$1"' _ "$UM/via-unit" || fail "write through the unit's mount failed"
  assert_eq "unit" "$(inst kvfs --store "$T/home/.local/share/kvfs/pkgtest" get via-unit)" "file written through the unit's mount"
  stop_cmd=$(unit_cmds "$UNIT" ExecStop | grep .)
  out=$(inst bash -c "$stop_cmd" 2>&1) || fail "ExecStop '$stop_cmd' failed: $out"
  wait_until 10 not_mounted "$UM" || fail "$UM still mounted after ExecStop"
  rc=0
  wait "$unit_pid" || rc=$?
  assert_eq 0 "$rc" "exit code of ExecStart after ExecStop (non-zero would make Restart=on-failure restart it); log: $(cat "$T/unit-mount.log")"
fi

step "kvfs-serve@.service: ExecStart (kvfs serve, listen from kvfs.conf), stopped by SIGTERM"
UNIT=/usr/lib/systemd/system/kvfs-serve@.service
start_cmd=$(unit_cmds "$UNIT" ExecStart | grep .)
assert_eq "/usr/bin/kvfs serve /var/lib/kvfs/pkgtest" "$start_cmd" "ExecStart of kvfs-serve@pkgtest"
# The same command on a store under $T rather than /var/lib/kvfs.
SERVE_STORE=$T/serve/pkgtest
out=$(inst kvfs init "$SERVE_STORE" 2>&1) || fail "kvfs init failed: $out"
# kvfs.conf wants a real port: take one the kernel says is free now.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
  shuf -i 20000-60000 -n 1)
echo "listen = 127.0.0.1:$port" >>"$SERVE_STORE/kvfs.conf"
timeout -k 5 120 env -i PATH="$SYS_PATH" HOME="$T/home" \
  bash -c "exec ${start_cmd/\/var\/lib\/kvfs\/pkgtest/$SERVE_STORE}" >"$T/unit-serve.log" 2>&1 &
serve_pid=$!
wait_until 20 grep -q "listening on 127.0.0.1:$port" "$T/unit-serve.log" ||
  fail "kvfs serve did not start listening: $(cat "$T/unit-serve.log")"
kill -TERM "$serve_pid"
rc=0
wait "$serve_pid" || rc=$?
assert_eq 0 "$rc" "exit code of kvfs serve on SIGTERM (systemd's stop); log: $(cat "$T/unit-serve.log")"

# ------------------------------------------------------------------ remove
step "dpkg -r kvfs leaves none of its files"
for m in "${MOUNTS[@]}"; do
  if in_proc_mounts "$m"; then fail "$m still mounted before removal"; fi
done
out=$(timeout -k 5 300 dpkg -r kvfs 2>&1) || fail "dpkg -r kvfs failed: $out"
status=$(dpkg-query -W -f='${Status}' kvfs 2>/dev/null || true)
[[ -z $status || $status == *not-installed || $status == *config-files ]] ||
  fail "dpkg status after dpkg -r: $status"
left=()
while IFS= read -r f; do
  [[ -n $f && $f != /. ]] || continue
  if [[ -L $f || (-e $f && ! -d $f) ]]; then
    left+=("$f")
  elif [[ -d $f ]]; then
    # A directory may stay when another package owns it or it holds other files.
    if ! dpkg -S "$f" >/dev/null 2>&1 && [[ -z $(ls -A "$f" 2>/dev/null) ]]; then
      left+=("$f/ (empty, no other owner)")
    fi
  fi
done <"$T/files"
((${#left[@]} == 0)) || fail "left behind after dpkg -r kvfs:
$(printf '  %s\n' "${left[@]}")"
if inst bash -c 'command -v kvfs' >/dev/null 2>&1; then fail "kvfs still on PATH after removal"; fi
log "removed: none of the $(wc -l <"$T/files") paths is left"
# The trap purges (the maintainer scripts keep the package in config-files state).
