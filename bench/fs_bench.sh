#!/usr/bin/env bash
# fs_bench.sh — kvfs mount vs a plain directory vs a FUSE passthrough (bindfs).
#
# Workloads (times in seconds, wall clock):
#   seq_write   write SIZE_MB MiB in 1 MiB blocks, then fdatasync
#   seq_read    read it back with dd bs=1M (page cache dropped first)
#   create      FILES 1-KiB files in DIRS directories (python loop)
#   find        find over them (cold caches)
#   grep        grep -r over them (cold caches)
#   untar       tar x of a ~TAR_FILES-file tree (built once from /usr/include)
#   rm_rf       rm -rf of that tree
#   owc         CYCLES x (open-write-close-open-read-close) on 100 small files
#   fsync       FSYNCS x (4 KiB append + fsync)
# Each workload runs on the three targets in the same run, ROUNDS rounds, the
# order of the targets rotated each round; the table shows medians and the
# speedup of kvfs over the passthrough (bindfs_time / kvfs_time: >1 = kvfs faster).
#
# Environment:
#   KVFS_BIN   kvfs binary (default: kvfs on PATH, else ./build*/tools/kvfs)
#   SIZE_MB    sequential file size in MiB (default 1024; QUICK: 64)
#   ROUNDS     rounds (default 3; QUICK: 1)
#   QUICK=1    small counts for a smoke run (~1 minute)
#   BENCH_DIR  parent of the scratch dir (default /var/tmp); the store, the plain
#              directory and bindfs's backing directory all live there (one disk)
#   STEP_TIMEOUT  bound of one workload step in seconds (default 600)
#   TARGETS    subset/order of "plain bindfs kvfs" (default all three)
# Needs root for dropping caches (skipped with a note otherwise) and bindfs
# (installed with apt-get when missing and running as root).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
  SIZE_MB=${SIZE_MB:-64}; ROUNDS=${ROUNDS:-1}
  FILES=${FILES:-1000}; DIRS=${DIRS:-10}; TAR_FILES=${TAR_FILES:-500}
  CYCLES=${CYCLES:-1000}; FSYNCS=${FSYNCS:-100}
else
  SIZE_MB=${SIZE_MB:-1024}; ROUNDS=${ROUNDS:-3}
  FILES=${FILES:-10000}; DIRS=${DIRS:-100}; TAR_FILES=${TAR_FILES:-4000}
  CYCLES=${CYCLES:-10000}; FSYNCS=${FSYNCS:-1000}
fi
STEP_TIMEOUT=${STEP_TIMEOUT:-600}
read -r -a TARGETS <<<"${TARGETS:-plain bindfs kvfs}"
WORKLOADS=(seq_write seq_read create find grep untar rm_rf owc fsync)

if [[ -z ${KVFS_BIN:-} ]]; then
  KVFS_BIN=$(command -v kvfs || true)
  if [[ -z $KVFS_BIN ]]; then
    for c in "$REPO"/build*/tools/kvfs; do [[ -x $c ]] && { KVFS_BIN=$c; break; }; done
  fi
fi
PY=$(command -v python3)

say() { printf '%s\n' "$*" >&2; }
die() { say "fs_bench: $*"; exit 1; }

needs_kvfs=0; needs_bindfs=0
for t in "${TARGETS[@]}"; do
  case $t in
    kvfs) needs_kvfs=1 ;;
    bindfs) needs_bindfs=1 ;;
    plain) ;;
    *) die "unknown target '$t' (plain, bindfs, kvfs)" ;;
  esac
done
if (( needs_kvfs )); then
  [[ -n $KVFS_BIN && -x $KVFS_BIN ]] || die "no kvfs binary (set KVFS_BIN)"
fi
if (( needs_bindfs )) && ! command -v bindfs >/dev/null; then
  if [[ $(id -u) == 0 ]]; then
    say "installing bindfs (apt-get)"
    timeout 300 apt-get install -y bindfs >/dev/null 2>&1 \
      || { timeout 300 apt-get update >/dev/null 2>&1 && timeout 300 apt-get install -y bindfs >/dev/null; } \
      || die "could not install bindfs"
  else
    die "bindfs is not installed (apt-get install bindfs)"
  fi
fi
[[ -e /dev/fuse ]] || die "/dev/fuse is missing"

WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/kvfs-bench.XXXXXX")
STORE=$WORK/store
KVFS_MNT=$WORK/kvfs-mnt
BIND_SRC=$WORK/bindfs-backing
BIND_MNT=$WORK/bindfs-mnt
PLAIN=$WORK/plain
RESULTS=$WORK/results.txt
: >"$RESULTS"
MOUNTS=()

cleanup() {
  local rc=$? m
  set +e
  cd /
  for m in "${MOUNTS[@]}"; do
    if awk -v m="$m" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; then
      timeout 30 fusermount3 -u "$m" 2>/dev/null || timeout 30 umount "$m" 2>/dev/null \
        || timeout 10 umount -l "$m" 2>/dev/null || say "WARNING: could not unmount $m"
    fi
  done
  # Let the daemons exit before removing their backing files.
  for _ in $(seq 1 50); do
    grep -qF " $WORK/" /proc/mounts || break
    sleep 0.1
  done
  if grep -qF " $WORK/" /proc/mounts; then
    say "WARNING: mounts left under $WORK; not removing it"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_mounted() {
  local i
  for ((i = 0; i < 200; i++)); do mountpoint -q "$1" && return 0; sleep 0.1; done
  return 1
}

mount_targets() {
  local t
  for t in "${TARGETS[@]}"; do
    case $t in
      plain) mkdir -p "$PLAIN" ;;
      bindfs)
        mkdir -p "$BIND_SRC" "$BIND_MNT"
        MOUNTS+=("$BIND_MNT")
        timeout 30 bindfs "$BIND_SRC" "$BIND_MNT" || die "bindfs mount failed"
        wait_mounted "$BIND_MNT" || die "bindfs did not mount"
        ;;
      kvfs)
        mkdir -p "$KVFS_MNT"
        timeout 30 "$KVFS_BIN" init "$STORE" >/dev/null || die "kvfs init failed"
        MOUNTS+=("$KVFS_MNT")
        timeout 30 "$KVFS_BIN" mount "$STORE" "$KVFS_MNT" || die "kvfs mount failed"
        wait_mounted "$KVFS_MNT" || die "kvfs did not mount"
        ;;
    esac
  done
}

root_of() {
  case $1 in
    plain) echo "$PLAIN" ;;
    bindfs) echo "$BIND_MNT" ;;
    kvfs) echo "$KVFS_MNT" ;;
  esac
}

CAN_DROP=1
drop_caches() {
  sync
  if (( CAN_DROP )); then
    if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
      CAN_DROP=0
      say "note: cannot drop caches (not root?); reads may be served from the page cache"
    fi
  fi
}

now() { date +%s.%N; }

# timed NAME TARGET CMD...: run CMD bounded, append "NAME TARGET SECONDS".
timed() {
  local name=$1 target=$2 t0 t1 rc=0
  shift 2
  # Start from a clean disk: dirty pages left by the previous step (often another
  # target's) would otherwise be written back during this one and charged to it.
  sync
  t0=$(now)
  timeout -k 10 "$STEP_TIMEOUT" "$@" >/dev/null || rc=$?
  t1=$(now)
  if (( rc != 0 )); then
    local why="exit $rc"
    (( rc == 124 || rc == 137 )) && why="timed out after ${STEP_TIMEOUT}s"
    say "  $name on $target FAILED ($why)"
    echo "$name $target NaN" >>"$RESULTS"
  else
    local dt
    dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    say "  $(printf '%-10s %-7s %8s s' "$name" "$target" "$dt")"
    echo "$name $target $dt" >>"$RESULTS"
  fi
}

# ---------------------------------------------------------------- workloads

build_tarball() {
  TARBALL=$WORK/tree.tar
  local list=$WORK/tree.list
  (cd / && find usr/include -type f 2>/dev/null | LC_ALL=C sort | head -n "$TAR_FILES") >"$list" || true
  local have
  have=$(wc -l <"$list")
  if (( have < TAR_FILES )); then
    # Top up with generated files so the tree has TAR_FILES files anywhere.
    local g=$WORK/gen-tree i
    mkdir -p "$g"
    for ((i = have; i < TAR_FILES; i++)); do
      mkdir -p "$g/d$((i / 100))"
      head -c $(( (i * 797) % 16384 )) /dev/urandom >"$g/d$((i / 100))/f$i"
    done
    (cd "$WORK" && find gen-tree -type f) | sed "s|^|${WORK#/}/|" >>"$list"
  fi
  (cd / && tar -cf "$TARBALL" -T "$list") || die "could not build the tarball"
  say "tarball: $(wc -l <"$list") files, $(du -h "$TARBALL" | cut -f1)"
}

PY_SEQ_WRITE='
import os, sys
path, mb = sys.argv[1], int(sys.argv[2])
buf = bytearray(os.urandom(1 << 20))
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(mb):
    buf[0:8] = i.to_bytes(8, "little")   # no two blocks alike
    os.write(fd, buf)
os.fdatasync(fd)
os.close(fd)
'

PY_CREATE='
import os, sys
root, files, dirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = files // dirs
line = b"the quick brown fox jumps over the lazy dog %d\n"
for d in range(dirs):
    dp = os.path.join(root, "d%03d" % d)
    os.mkdir(dp)
    for i in range(per):
        n = d * per + i
        body = (line.replace(b"%d", str(n).encode()) * 30)[:1024]
        if n % 10 == 0:
            body = body[:1000] + b"NEEDLE here\n"
        fd = os.open(os.path.join(dp, "f%05d.txt" % i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, body)
        os.close(fd)
'

PY_OWC='
import os, sys
root, cycles = sys.argv[1], int(sys.argv[2])
os.mkdir(root)
data = b"x" * 512
for c in range(cycles):
    p = os.path.join(root, "f%02d" % (c % 100))
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, data)
    os.close(fd)
    fd = os.open(p, os.O_RDONLY)
    if len(os.read(fd, 4096)) != 512:
        sys.exit("short read")
    os.close(fd)
'

PY_FSYNC='
import os, sys
path, n = sys.argv[1], int(sys.argv[2])
block = os.urandom(4096)
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(n):
    os.write(fd, block)
    os.fsync(fd)
os.close(fd)
'

grep_count() {
  local n
  n=$(grep -r -l NEEDLE "$1" | wc -l)
  [[ $n == "$2" ]] || { say "grep found $n files, expected $2"; return 1; }
}
find_count() {
  local n
  n=$(find "$1" -type f | wc -l)
  [[ $n == "$2" ]] || { say "find found $n files, expected $2"; return 1; }
}

export -f say find_count grep_count

run_workloads() {
  local t=$1 root
  root=$(root_of "$t")
  local per=$((FILES / DIRS)) expect_files expect_needles
  expect_files=$((per * DIRS))
  expect_needles=$(( (expect_files + 9) / 10 ))
  timed seq_write "$t" "$PY" -c "$PY_SEQ_WRITE" "$root/seq" "$SIZE_MB"
  drop_caches
  timed seq_read "$t" dd if="$root/seq" of=/dev/null bs=1M status=none
  rm -f "$root/seq"
  mkdir -p "$root/small"
  timed create "$t" "$PY" -c "$PY_CREATE" "$root/small" "$FILES" "$DIRS"
  drop_caches
  timed find "$t" bash -c 'find_count "$1" "$2"' _ "$root/small" "$expect_files"
  drop_caches
  timed grep "$t" bash -c 'grep_count "$1" "$2"' _ "$root/small" "$expect_needles"
  rm -rf "$root/small"
  mkdir -p "$root/untar"
  timed untar "$t" tar -xf "$TARBALL" -C "$root/untar"
  sync
  timed rm_rf "$t" rm -rf "$root/untar"
  timed owc "$t" "$PY" -c "$PY_OWC" "$root/owc" "$CYCLES"
  rm -rf "$root/owc"
  timed fsync "$t" "$PY" -c "$PY_FSYNC" "$root/fsync.dat" "$FSYNCS"
  rm -f "$root/fsync.dat"
  sync
}

# ---------------------------------------------------------------- main

say "fs_bench: SIZE_MB=$SIZE_MB ROUNDS=$ROUNDS FILES=$FILES DIRS=$DIRS TAR_FILES=$TAR_FILES CYCLES=$CYCLES FSYNCS=$FSYNCS"
say "work dir: $WORK ($(df -T "$WORK" | awk 'NR == 2 { print $2 " on " $1 }')); targets: ${TARGETS[*]}"
say "kvfs: $KVFS_BIN"
BENCH_T0=$(date +%s)
build_tarball
mount_targets

n=${#TARGETS[@]}
for ((r = 0; r < ROUNDS; r++)); do
  order=()
  for ((i = 0; i < n; i++)); do order+=("${TARGETS[(i + r) % n]}"); done
  say "round $((r + 1))/$ROUNDS: ${order[*]}"
  for t in "${order[@]}"; do run_workloads "$t"; done
done

# ---------------------------------------------------------------- table

median() { # values on stdin; NaN if any run failed
  sort -g | awk '{ v[NR] = $1; if ($1 == "NaN") bad = 1 }
    END { if (NR == 0 || bad) { print "NaN"; exit }
          if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

printf '\nfs_bench: medians of %d round(s), seconds (SIZE_MB=%s, files=%s, tar=%s, owc=%s, fsync=%s)\n' \
  "$ROUNDS" "$SIZE_MB" "$FILES" "$TAR_FILES" "$CYCLES" "$FSYNCS"
header=$(printf '%-10s' workload)
for t in "${TARGETS[@]}"; do header+=$(printf ' %10s' "$t"); done
have_ratio=0
[[ " ${TARGETS[*]} " == *" kvfs "* && " ${TARGETS[*]} " == *" bindfs "* ]] && have_ratio=1
(( have_ratio )) && header+=$(printf ' %16s' "speedup vs bindfs")
echo "$header"
for w in "${WORKLOADS[@]}"; do
  line=$(printf '%-10s' "$w")
  declare -A med=()
  for t in "${TARGETS[@]}"; do
    med[$t]=$(awk -v w="$w" -v t="$t" '$1 == w && $2 == t { print $3 }' "$RESULTS" | median)
    line+=$(printf ' %10s' "${med[$t]}")
  done
  if (( have_ratio )); then
    ratio=$(awk -v p="${med[bindfs]}" -v k="${med[kvfs]}" \
      'BEGIN { if (p == "NaN" || k == "NaN" || k + 0 == 0) print "n/a"; else printf "%.2fx", p / k }')
    line+=$(printf ' %16s' "$ratio")
  fi
  unset med
  echo "$line"
done
if [[ $SIZE_MB -gt 0 ]]; then
  for t in "${TARGETS[@]}"; do
    w=$(awk -v w=seq_write -v t="$t" '$1 == w && $2 == t { print $3 }' "$RESULTS" | median)
    rd=$(awk -v w=seq_read -v t="$t" '$1 == w && $2 == t { print $3 }' "$RESULTS" | median)
    awk -v t="$t" -v mb="$SIZE_MB" -v w="$w" -v r="$rd" 'BEGIN {
      printf "%-7s seq write %s MiB/s, seq read %s MiB/s\n", t,
        (w == "NaN" || w + 0 == 0) ? "n/a" : sprintf("%.0f", mb / w),
        (r == "NaN" || r + 0 == 0) ? "n/a" : sprintf("%.0f", mb / r) }'
  done
fi
echo "total wall time: $(( $(date +%s) - BENCH_T0 )) s"
