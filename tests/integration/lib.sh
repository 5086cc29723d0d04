# shellcheck shell=bash
# Shared helpers for the kvfs mount tests. Source it from a test script:
#
#   . "$(dirname "$0")/lib.sh"
#   it_setup            # temp dir + `kvfs init` store
#   it_mount            # `kvfs mount STORE MNT` in background mode
#   ...
#
# Contract:
# - Every step that touches the mount is bounded (`run_bounded`, or `b` for the
#   default bound); a whole-script watchdog bounds the rest.
# - The EXIT trap unmounts everything it mounted (fusermount3 -u, then umount -l),
#   kills any kvfs daemon whose command line names this test's temp dir (by pid),
#   runs the registered cleanup hooks, and removes the temp dir.
# - Assertions print what was expected and what was seen, then exit 1.
# - The only skip (exit 77) is a machine without /dev/fuse.
#
# Environment: KVFS_BIN (default: kvfs on PATH), MOUNT_KVFS_BIN (mount.kvfs helper),
# IT_STEP_TIMEOUT (default bound of one step, s), IT_DEADLINE (whole script, s),
# IT_KEEP=1 keeps the temp dir for post-mortem (mounts are still undone).

set -euo pipefail

IT_NAME=$(basename "${0%.sh}")
IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KVFS_BIN=${KVFS_BIN:-$(command -v kvfs || echo kvfs)}
MOUNT_KVFS_BIN=${MOUNT_KVFS_BIN:-}
IT_STEP_TIMEOUT=${IT_STEP_TIMEOUT:-60}
IT_DEADLINE=${IT_DEADLINE:-280}
# Python for probes: the system one, so that other users (nobody) can run it too.
PY=${PY:-/usr/bin/python3}
[[ -x $PY ]] || PY=$(command -v python3)

IT_TMP=""
STORE=""
MNT=""
IT_MOUNTS=()        # mount points this script mounted (or may have mounted)
IT_HOOKS=()         # extra cleanup commands (eval'd in reverse order)
IT_WATCHDOG=""
IT_STEP=""          # what the script is doing now, printed on failure

log() { printf '[%s] %s\n' "$IT_NAME" "$*" >&2; }
step() { IT_STEP=$*; log "-- $*"; }

# ---------------------------------------------------------------- assertions

fail() {
  printf '[%s] FAIL%s: %s\n' "$IT_NAME" "${IT_STEP:+ (in: $IT_STEP)}" "$*" >&2
  exit 1
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
  if [[ "$1" != "$2" ]]; then
    fail "$3
    expected: $(printf '%q' "$1")
    got:      $(printf '%q' "$2")"
  fi
}

# assert_same_text EXPECTED ACTUAL WHAT: multi-line comparison; shows a diff.
assert_same_text() {
  if [[ "$1" != "$2" ]]; then
    fail "$3 (diff: < expected, > got):
$(diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | head -n 40)"
  fi
}

# assert_ne UNEXPECTED ACTUAL WHAT
assert_ne() {
  [[ "$1" != "$2" ]] || fail "$3: did not expect $(printf '%q' "$2")"
}

# assert_contains HAYSTACK NEEDLE WHAT
assert_contains() {
  [[ "$1" == *"$2"* ]] || fail "$3
    expected to contain: $(printf '%q' "$2")
    got:                 $(printf '%q' "$1")"
}

assert_not_contains() {
  [[ "$1" != *"$2"* ]] || fail "$3
    expected NOT to contain: $(printf '%q' "$2")
    got:                     $(printf '%q' "$1")"
}

# assert_gt A B WHAT   (integers)
assert_gt() {
  (( $1 > $2 )) || fail "$3: expected > $2, got $1"
}

assert_exists() { b test -e "$1" || fail "${2:-expected $1 to exist}"; }
assert_missing() {
  if b test -e "$1" || b test -L "$1"; then fail "${2:-expected $1 not to exist}"; fi
}

# assert_file_eq PATH EXPECTED_CONTENT WHAT  (exact bytes, incl. trailing newline)
assert_file_eq() {
  local got
  got=$(b cat "$1"; printf x) || fail "${3:-cat $1} failed"
  got=${got%x}
  assert_eq "$2" "$got" "${3:-content of $1}"
}

# assert_same_file A B WHAT: byte-identical (cmp).
assert_same_file() {
  local out
  if ! out=$(run_bounded 300 cmp -- "$1" "$2" 2>&1); then
    fail "${3:-$1 vs $2}: files differ: $out"
  fi
}

# assert_fails_msg MESSAGE CMD...: CMD must fail and say MESSAGE on stderr.
assert_fails_msg() {
  local msg=$1 out rc=0
  shift
  out=$(b "$@" 2>&1) || rc=$?
  (( rc != 0 )) || fail "'$*' succeeded; expected it to fail with '$msg' (output: $out)"
  (( rc != 124 && rc != 137 )) || fail "'$*' timed out"
  assert_contains "$out" "$msg" "error message of '$*'"
}

# probe OP ARGS...: run one syscall through errno_probe.py; prints OK or the
# errno name (ENOENT, ...).
probe() { b "$PY" "$IT_DIR/errno_probe.py" "$@"; }

# expect_errno ERRNO OP ARGS...: the syscall must fail with exactly ERRNO
# (or succeed, for ERRNO=OK).
expect_errno() {
  local want=$1 got
  shift
  got=$(probe "$@") || fail "probe $* did not run (rc=$?)"
  assert_eq "$want" "$got" "errno of $*"
}

# ---------------------------------------------------------------- bounds

# run_bounded SECONDS CMD...: CMD gets SIGTERM after SECONDS, SIGKILL 5 s later.
run_bounded() {
  local secs=$1
  shift
  timeout -k 5 "$secs" "$@"
}

# b CMD...: run_bounded with the default step bound.
b() { run_bounded "$IT_STEP_TIMEOUT" "$@"; }

# bsh 'SCRIPT' ARGS...: a bounded shell snippet (for redirections and pipes);
# ARGS become $1.. inside it.
bsh() {
  local script=$1
  shift
  run_bounded "$IT_STEP_TIMEOUT" bash -c "set -euo pipefail; $script" bsh "$@"
}

# check_store [STORE]: `kvfs check` must find the store sound (every table read,
# cross-references and counters right; store/check.h).
check_store() {
  local store=${1:-$STORE} out
  out=$(run_bounded 120 "$KVFS_BIN" --store "$store" check 2>&1) \
    || fail "kvfs check found $store damaged:
$(head -n 30 <<<"$out")"
  log "$out"
}

# wait_until SECONDS DESCRIPTION CMD...: poll CMD every 0.1 s until it succeeds.
wait_until() {
  local secs=$1 i   # $2 describes the wait, for the reader
  shift 2
  for ((i = 0; i < secs * 10; i++)); do
    if "$@" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# kv ARGS...: the kvfs CLI against this test's store.
kv() { b "$KVFS_BIN" --store "$STORE" "$@"; }

# write_file PATH CONTENT / append_file PATH CONTENT (printf, exact bytes)
write_file() { bsh 'printf "%s" "$2" > "$1"' "$1" "$2"; }
append_file() { bsh 'printf "%s" "$2" >> "$1"' "$1" "$2"; }

# ---------------------------------------------------------------- daemons

# Pids of kvfs processes (not our shell wrappers) one of whose arguments is PATH
# or lies under PATH.
pids_mentioning() {
  local pat=$1 p a hit
  local -a args
  for p in /proc/[0-9]*; do
    [[ ${p#/proc/} != "$$" ]] || continue
    mapfile -d "" args 2>/dev/null <"$p/cmdline" || continue
    (( ${#args[@]} > 0 )) || continue
    case ${args[0]##*/} in
      *kvfs*) ;;
      *) continue ;;
    esac
    hit=0
    for a in "${args[@]:1}"; do
      [[ $a == "$pat" || $a == "$pat"/* ]] && { hit=1; break; }
    done
    (( hit )) && echo "${p#/proc/}"
  done
  return 0
}

is_mounted() { mountpoint -q "$1" 2>/dev/null; }
not_mounted() { ! in_proc_mounts "$1"; }
no_daemon() { [[ -z $(pids_mentioning "$1") ]]; }

# Ask the kernel rather than mountpoint(1) when the fs may be hung.
in_proc_mounts() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }

# wait_daemon_gone MNT SECONDS: the daemon serving MNT must exit after unmount.
wait_daemon_gone() {
  local mnt=$1 secs=${2:-20}
  wait_until "$secs" "daemon of $mnt exits" no_daemon "$mnt"
}

# ---------------------------------------------------------------- setup

it_setup() {
  [[ -e /dev/fuse ]] || { log "SKIP: /dev/fuse is missing"; exit 77; }
  command -v "$KVFS_BIN" >/dev/null || fail "kvfs binary not found (KVFS_BIN=$KVFS_BIN)"
  IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kvfs-it-$IT_NAME.XXXXXX")
  STORE=$IT_TMP/store
  MNT=$IT_TMP/mnt
  mkdir -p "$MNT"
  trap it_cleanup EXIT
  trap 'log "interrupted"; exit 130' INT TERM
  # Watchdog: the whole script is bounded too. It TERMs the script, whose trap
  # then unmounts and cleans up.
  # The sleep gets no copy of our stdout/stderr (it cannot hold a pipe open)
  # and is killed with the watchdog.
  (
    trap 'kill "$s" 2>/dev/null; exit 0' TERM
    # shellcheck disable=SC2217
    sleep "$IT_DEADLINE" </dev/null >/dev/null 2>&1 &
    s=$!
    wait "$s"
    log "watchdog: ${IT_DEADLINE}s deadline passed"
    kill -TERM $$
  ) &
  IT_WATCHDOG=$!
  step "kvfs init $STORE"
  local out
  out=$(b "$KVFS_BIN" init "$STORE" 2>&1) || fail "kvfs init $STORE failed: $out"
  [[ -d $STORE ]] || fail "kvfs init did not create $STORE"
}

# new_store DIR: another store (for tests that need two).
new_store() {
  local out
  out=$(b "$KVFS_BIN" init "$1" 2>&1) || fail "kvfs init $1 failed: $out"
}

# it_mount [MNT [STORE]] [-- OPTS...]: `kvfs mount STORE MNT OPTS` in background
# mode; returns once MNT is a mount point and `kvfs mount` has returned.
it_mount() {
  local mnt=$MNT store=$STORE
  if [[ $# -gt 0 && $1 != -- ]]; then mnt=$1; shift; fi
  if [[ $# -gt 0 && $1 != -- ]]; then store=$1; shift; fi
  [[ ${1:-} != -- ]] || shift
  # IT_MOUNT_OPTS: mount options for mounts that name none (one script run with
  # another kernel setup, e.g. readdirplus).
  if [[ $# -eq 0 && -n ${IT_MOUNT_OPTS:-} ]]; then set -- -o "$IT_MOUNT_OPTS"; fi
  mkdir -p "$mnt"
  IT_MOUNTS+=("$mnt")
  local logf
  logf=$IT_TMP/mount.$(basename "$mnt").log
  log "kvfs mount $store $mnt $*"
  "$KVFS_BIN" mount "$store" "$mnt" "$@" >"$logf" 2>&1 &
  local mpid=$! i
  if ! wait_until 20 "mount of $mnt" is_mounted "$mnt"; then
    kill "$mpid" 2>/dev/null || true
    fail "kvfs mount $store $mnt $* did not mount within 20 s; its output:
$(cat "$logf")"
  fi
  # Background mode: the command must return (the daemon detaches).
  for ((i = 0; i < 100; i++)); do
    kill -0 "$mpid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$mpid" 2>/dev/null; then
    fail "kvfs mount $store $mnt did not return within 10 s of mounting (no background mode?)"
  fi
  local rc=0
  wait "$mpid" || rc=$?
  (( rc == 0 )) || fail "kvfs mount exited $rc although $mnt is mounted; output: $(cat "$logf")"
}

# it_umount [MNT]: `kvfs umount MNT`; the mount must go and the daemon exit.
it_umount() {
  local mnt=${1:-$MNT} out
  out=$(b "$KVFS_BIN" umount "$mnt" 2>&1) || fail "kvfs umount $mnt failed: $out"
  wait_until 10 "unmount" not_mounted "$mnt" \
    || fail "$mnt still mounted 10 s after kvfs umount"
  wait_daemon_gone "$mnt" 20 || fail "daemon of $mnt still running 20 s after kvfs umount: pids $(pids_mentioning "$mnt" | tr '\n' ' ')"
}

it_remount() {
  local mnt=${1:-$MNT}
  shift || true
  it_umount "$mnt"
  it_mount "$mnt" "$@"
}

# force_unmount MNT: never blocks for long, even on a hung daemon.
force_unmount() {
  local mnt=$1
  in_proc_mounts "$mnt" || return 0
  run_bounded 10 fusermount3 -u "$mnt" 2>/dev/null \
    || run_bounded 10 umount "$mnt" 2>/dev/null \
    || run_bounded 10 umount -l "$mnt" 2>/dev/null \
    || run_bounded 10 fusermount3 -uz "$mnt" 2>/dev/null || true
  if in_proc_mounts "$mnt"; then
    log "WARNING: could not unmount $mnt"
    return 1
  fi
}

it_cleanup() {
  local rc=$? m p i
  trap - EXIT INT TERM
  set +e
  [[ -n $IT_WATCHDOG ]] && kill "$IT_WATCHDOG" 2>/dev/null
  cd /
  local still=0
  for ((i = ${#IT_MOUNTS[@]} - 1; i >= 0; i--)); do
    m=${IT_MOUNTS[i]}
    if in_proc_mounts "$m"; then
      log "cleanup: unmounting $m"
      force_unmount "$m" || still=1
    fi
  done
  for ((i = ${#IT_HOOKS[@]} - 1; i >= 0; i--)); do
    eval "${IT_HOOKS[i]}"
  done
  if [[ -n $IT_TMP ]]; then
    # Daemons started by this test name its temp dir on their command line.
    for ((i = 0; i < 50; i++)); do
      [[ -n $(pids_mentioning "$IT_TMP") ]] || break
      sleep 0.1
    done
    for p in $(pids_mentioning "$IT_TMP"); do
      log "cleanup: daemon pid $p still running after unmount; killing it"
      kill -TERM "$p" 2>/dev/null
      sleep 1
      kill -KILL "$p" 2>/dev/null
    done
    if grep -qF " $IT_TMP" /proc/mounts; then
      log "cleanup: something is still mounted under $IT_TMP; keeping it"
      still=1
    elif (( rc != 0 )) && ls "$IT_TMP"/mount.*.log >/dev/null 2>&1; then
      for m in "$IT_TMP"/mount.*.log; do
        [[ -s $m ]] && { log "daemon output ($m):"; sed 's/^/    /' "$m" | tail -n 40 >&2; }
      done
    fi
    if (( still == 0 )) && [[ ${IT_KEEP:-0} != 1 ]]; then
      rm -rf "$IT_TMP"
    elif [[ ${IT_KEEP:-0} == 1 ]]; then
      log "kept $IT_TMP"
    fi
  fi
  (( still == 0 )) || { log "FAIL: a mount was left behind"; (( rc != 0 )) || rc=1; }
  if (( rc == 0 )); then log "PASS"; elif (( rc != 77 )); then log "exit $rc"; fi
  exit "$rc"
}
