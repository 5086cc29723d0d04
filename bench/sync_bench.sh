#!/usr/bin/env bash
# sync_bench.sh — kvfs sync between two local daemons vs rsync, in the same run.
#
# Two stores with one key, each mounted (A: listen=127.0.0.1:PA, B: peer=PA):
#   small      initial sync of FILES small files (FILE_KB KiB each, 100 dirs):
#              A holds them, B is mounted empty; time until B's store counts
#              them all (`kvfs count`)
#   big        initial sync of one SIZE_MB MiB random file (B unmounted while A
#              gets it, then mounted; time until B shows the full size)
#   1-byte     one byte changed in the middle of the big file on A (write +
#              close); bytes on the wire until B reads the new byte
#   latency    LAT_N writes (write + close on A of a new 100-byte file, then
#              LAT_N overwrites of one existing file); time until the content
#              is readable on B (python polling B's mount every 0.5 ms): p50
#              and p99; and LAT_N new files polled in B's store with
#              `kvfs get` (the sync alone, without B's kernel caches)
# rsync, same data, same disk: `rsync -a --stats` between two local
# directories (time; "Total bytes sent" + "Total bytes received" of its
# sender/receiver pipe), and for the 1-byte change `rsync -a --no-whole-file`
# (its delta algorithm) of the changed file.
#
# Wire bytes: TCP payload of the sync connection, from `ss -tin` counters
# (bytes_sent + bytes_received of B's socket to A: both directions, the
# encryption and framing included, TCP/IP headers not). Each phase reads the
# counters of the connection at its start and end. If ss shows no counters,
# /proc/net/dev "lo" deltas are used instead (all loopback traffic, headers
# included) and the table says so.
#
# Environment:
#   KVFS_BIN   kvfs binary (default: kvfs on PATH, else ./build*/tools/kvfs)
#   FILES      small files (default 10000), FILE_KB their size (default 1)
#   SIZE_MB    big file in MiB (default 1024)
#   LAT_N      latency samples (default 100)
#   BENCH_DIR  parent of the scratch dir (default /var/tmp)
#   STEP_TIMEOUT  bound of one phase in seconds (default 900)
# Needs /dev/fuse (mounts) and rsync. Unmounts and removes its scratch dir on
# any exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
FILES=${FILES:-10000}
FILE_KB=${FILE_KB:-1}
SIZE_MB=${SIZE_MB:-1024}
LAT_N=${LAT_N:-100}
STEP_TIMEOUT=${STEP_TIMEOUT:-900}

if [[ -z ${KVFS_BIN:-} ]]; then
  KVFS_BIN=$(command -v kvfs || true)
  if [[ -z $KVFS_BIN ]]; then
    for c in "$REPO"/build*/tools/kvfs; do [[ -x $c ]] && { KVFS_BIN=$c; break; }; done
  fi
fi
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)

say() { printf '[sync_bench] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[[ -n $KVFS_BIN && -x $KVFS_BIN ]] || die "no kvfs binary (set KVFS_BIN)"
command -v rsync >/dev/null || die "rsync is not installed"
command -v ss >/dev/null || die "ss (iproute2) is not installed"
[[ -e /dev/fuse ]] || die "/dev/fuse is missing"

WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/kvfs-sync-bench.XXXXXX")
SA=$WORK/A; SB=$WORK/B; MA=$WORK/mA; MB=$WORK/mB
SRC=$WORK/src; DST=$WORK/rsync-dst
mkdir -p "$MA" "$MB" "$SRC/small" "$DST"
MOUNTS=("$MA" "$MB")

in_proc_mounts() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
# kvfs processes whose arguments name the scratch dir (mount daemons).
our_pids() {
  local p a
  for p in /proc/[0-9]*; do
    [[ ${p#/proc/} != "$$" ]] || continue
    a=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    [[ $a == *kvfs*" $WORK/"* ]] && echo "${p#/proc/}"
  done
  return 0
}
# The daemon serving MNT (its command line names MNT).
daemon_of() {
  local p
  for p in $(our_pids); do
    tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | grep -qxF "$1" && echo "$p"
  done
  return 0
}
cleanup() {
  local rc=$? m p
  trap - EXIT INT TERM
  set +e
  cd /
  for m in "${MOUNTS[@]}"; do
    if in_proc_mounts "$m"; then
      timeout 30 fusermount3 -u "$m" 2>/dev/null || timeout 10 umount -l "$m" 2>/dev/null \
        || say "WARNING: could not unmount $m"
    fi
  done
  for _ in $(seq 1 50); do [[ -z $(our_pids) ]] && break; sleep 0.1; done
  for p in $(our_pids); do kill -9 "$p" 2>/dev/null; done
  if grep -qF " $WORK/" /proc/mounts; then
    say "WARNING: mounts left under $WORK; not removing it"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

kv() { timeout 120 "$KVFS_BIN" "$@"; }
now() { date +%s.%N; }
secs_since() { "$PY" -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }

free_port() {
  "$PY" -c '
import random, socket
for _ in range(200):
    p = random.randint(20000, 32000); s = socket.socket()
    try: s.bind(("127.0.0.1", p))
    except OSError: continue
    finally: s.close()
    print(p); break'
}
PA=$(free_port)

mount_store() {   # STORE MNT [OPTS]
  local i
  if [[ -n ${3:-} ]]; then kv mount "$1" "$2" -o "$3"; else kv mount "$1" "$2"; fi
  for ((i = 0; i < 200; i++)); do mountpoint -q "$2" && return 0; sleep 0.1; done
  die "$2 did not mount"
}
umount_store() {  # MNT
  local i
  kv umount "$1" || die "kvfs umount $1 failed"
  for ((i = 0; i < 200; i++)); do
    ! in_proc_mounts "$1" && [[ -z $(daemon_of "$1") ]] && return 0
    sleep 0.1
  done
  die "$1 did not unmount"
}

# Wire counters of B's connection to A: "sent received" (ss), or lo rx+tx.
WIRE_SRC=ss
wire_bytes() {
  local out s r
  out=$(ss -Htin state established dst "127.0.0.1:$PA" 2>/dev/null || true)
  s=$(grep -o 'bytes_sent:[0-9]*' <<<"$out" | cut -d: -f2 | awk '{ t += $1 } END { if (NR) print t }')
  r=$(grep -o 'bytes_received:[0-9]*' <<<"$out" | cut -d: -f2 | awk '{ t += $1 } END { if (NR) print t }')
  if [[ $WIRE_SRC == ss && -n $r ]]; then
    echo $(( ${s:-0} + r ))
  else
    WIRE_SRC=lo
    awk '$1 == "lo:" { print $2 + $10 }' /proc/net/dev
  fi
}
wait_connected() {
  local i
  for ((i = 0; i < 300; i++)); do
    ss -Htn state established dst "127.0.0.1:$PA" | grep -q . && return 0
    sleep 0.1
  done
  die "B did not connect to A within 30 s"
}

rsync_stats() {   # rsync ARGS...: prints "seconds bytes"
  local t0 out sent recv
  t0=$(now)
  out=$(timeout "$STEP_TIMEOUT" rsync --stats "$@") || die "rsync $* failed"
  sent=$(grep -o 'Total bytes sent: [0-9,]*' <<<"$out" | grep -o '[0-9,]*$' | tr -d ,)
  recv=$(grep -o 'Total bytes received: [0-9,]*' <<<"$out" | grep -o '[0-9,]*$' | tr -d ,)
  echo "$(secs_since "$t0") $((sent + recv))"
}

ROWS=()
row() { ROWS+=("$(printf '%s|%s|%s|%s|%s|%s|%s' "$@")"); }
ratio() { "$PY" -c "import sys; a, b = int(sys.argv[1]), int(sys.argv[2]); print('%.3f' % (a / b) if b else '-')" "$1" "$2"; }
human() { numfmt --to=iec-i --suffix=B --format='%.1f' "$1" 2>/dev/null || echo "$1"; }

say "scratch $WORK; FILES=$FILES x ${FILE_KB} KiB, SIZE_MB=$SIZE_MB, LAT_N=$LAT_N; kvfs $KVFS_BIN"
kv init "$SA" >/dev/null
kv init "$SB" >/dev/null
kv key set "$SB" "$(kv key show "$SA")" >/dev/null

# ------------------------------------------------------------------ small files
say "generating $FILES files of $FILE_KB KiB (on A's mount and in $SRC/small)"
mount_store "$SA" "$MA" "listen=127.0.0.1:$PA"
timeout "$STEP_TIMEOUT" "$PY" - "$MA" "$SRC/small" "$FILES" "$FILE_KB" <<'EOF'
import os, sys
roots, n, kb = sys.argv[1:3], int(sys.argv[3]), int(sys.argv[4])
for i in range(n):
    data = os.urandom(kb * 1024)
    for r in roots:
        d = os.path.join(r, "d%03d" % (i % 100))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%05d" % i), "wb") as f:
            f.write(data)
EOF
payload_small=$((FILES * FILE_KB * 1024))
say "initial sync of the small files to B"
t0=$(now)
mount_store "$SB" "$MB" "peer=127.0.0.1:$PA"
wait_connected
deadline=$(( $(date +%s) + STEP_TIMEOUT ))
while :; do
  c=$(kv --store "$SB" count 2>/dev/null | awk '/^files:/ { print $2 }')
  [[ ${c:-0} -ge $FILES ]] && break
  (( $(date +%s) < deadline )) || die "B has ${c:-0} of $FILES files after $STEP_TIMEOUT s"
  sleep 0.1
done
t_small=$(secs_since "$t0")
w_small=$(wire_bytes)
read -r r_small_t r_small_b < <(rsync_stats -a "$SRC/small/" "$DST/small/")
row "initial sync, $FILES files x $FILE_KB KiB" "$t_small" "$w_small" "$payload_small" "$(ratio "$w_small" "$payload_small")" "$r_small_t" "$r_small_b"
say "small files: kvfs ${t_small}s $(human "$w_small") on the wire; rsync ${r_small_t}s $(human "$r_small_b")"

# ------------------------------------------------------------------ big file
say "big file: $SIZE_MB MiB random, written on A while B is unmounted"
umount_store "$MB"
timeout "$STEP_TIMEOUT" head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom >"$SRC/big"
timeout "$STEP_TIMEOUT" cp "$SRC/big" "$MA/big"
size_big=$(stat -c %s "$SRC/big")
t0=$(now)
mount_store "$SB" "$MB" "peer=127.0.0.1:$PA"
wait_connected
deadline=$(( $(date +%s) + STEP_TIMEOUT ))
while [[ $(stat -c %s "$MB/big" 2>/dev/null || echo 0) != "$size_big" ]]; do
  (( $(date +%s) < deadline )) || die "B does not have the big file after $STEP_TIMEOUT s"
  sleep 0.05
done
t_big=$(secs_since "$t0")
w_big=$(wire_bytes)
cmp "$SRC/big" "$MB/big" || die "B's copy of the big file differs"
read -r r_big_t r_big_b < <(rsync_stats -a "$SRC/big" "$DST/big")
row "initial sync, 1 file of $SIZE_MB MiB" "$t_big" "$w_big" "$size_big" "$(ratio "$w_big" "$size_big")" "$r_big_t" "$r_big_b"
say "big file: kvfs ${t_big}s $(human "$w_big"); rsync ${r_big_t}s $(human "$r_big_b")"

# ------------------------------------------------------------------ 1-byte change
say "1-byte change in the middle of the big file"
off=$((size_big / 2 + 12345))
w0=$(wire_bytes)
t0=$(now)
timeout 60 "$PY" - "$MA/big" "$SRC/big" "$off" <<'EOF'
import sys
for path in sys.argv[1:3]:
    with open(path, "r+b") as f:
        f.seek(int(sys.argv[3])); b = f.read(1); f.seek(int(sys.argv[3]))
        f.write(bytes([b[0] ^ 0xff]))
EOF
want=$(od -An -tx1 -j "$off" -N1 "$SRC/big" | tr -d ' ')
deadline=$(( $(date +%s) + 120 ))
while [[ $(od -An -tx1 -j "$off" -N1 "$MB/big" 2>/dev/null | tr -d ' ') != "$want" ]]; do
  (( $(date +%s) < deadline )) || die "the 1-byte change did not reach B within 120 s"
  sleep 0.01
done
t_one=$(secs_since "$t0")
sleep 1    # let the last ACKs through
w_one=$(( $(wire_bytes) - w0 ))
cmp "$SRC/big" "$MB/big" || die "B's copy differs after the 1-byte change"
read -r r_one_t r_one_b < <(rsync_stats -a --no-whole-file "$SRC/big" "$DST/big")
row "1-byte change in the $SIZE_MB MiB file" "$t_one" "$w_one" 1 "$(ratio "$w_one" 1)" "$r_one_t" "$r_one_b"
say "1-byte change: kvfs ${t_one}s $w_one bytes; rsync --no-whole-file ${r_one_t}s $r_one_b bytes"

# ------------------------------------------------------------------ latency
# MODE new: each write creates a new file (B's poll first sees it missing);
# MODE overwrite: each write replaces the content of one existing file.
latency() {   # MODE -> "p50 p99 max" in ms
  timeout "$STEP_TIMEOUT" "$PY" - "$MA" "$MB" "$LAT_N" "$1" "$KVFS_BIN" "$SB" <<'EOF'
import os, subprocess, sys, time
a, b, n, mode, kvfs, store_b = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
os.makedirs(os.path.join(a, "lat"), exist_ok=True)
lat = []
for i in range(n):
    data = ("%s%08d" % (mode[0], i)).encode() * 11 + b"\n"
    name = {"new": "lat/f%04d" % i, "store": "lat/g%04d" % i}.get(mode, "lat/same")
    t0 = time.monotonic()
    with open(os.path.join(a, name), "wb") as f:
        f.write(data)
    end = t0 + 30
    while True:
        if mode == "store":   # B's store, read by the CLI (no kernel caches)
            if subprocess.run([kvfs, "--store", store_b, "get", name],
                              capture_output=True).stdout == data:
                break
        else:
            try:
                with open(os.path.join(b, name), "rb") as f:
                    if f.read() == data:
                        break
            except OSError:
                pass
        if time.monotonic() > end:
            sys.exit("write %d not on B within 30 s" % i)
        time.sleep(0.0005)
    lat.append(time.monotonic() - t0)
    time.sleep(0.01)
lat.sort()
def pct(p):
    return lat[min(len(lat) - 1, max(0, -(-p * len(lat) // 100) - 1))] * 1000
print("%.1f %.1f %.1f" % (pct(50), pct(99), lat[-1] * 1000))
EOF
}
say "latency: $LAT_N x (write + close of a new file on A, poll B)"
read -r p50 p99 pmax <<<"$(latency new)" || die "latency loop failed"
row "latency: new file on A -> read on B" "p50 ${p50} ms" "p99 ${p99} ms" "max ${pmax} ms" "-" "-" "-"
say "latency: $LAT_N x (overwrite + close of one file on A, poll B)"
read -r p50 p99 pmax <<<"$(latency overwrite)" || die "latency loop failed"
row "latency: overwrite on A -> read on B" "p50 ${p50} ms" "p99 ${p99} ms" "max ${pmax} ms" "-" "-" "-"
say "latency: $LAT_N x (new file on A, poll B's store with kvfs get)"
read -r p50 p99 pmax <<<"$(latency store)" || die "latency loop failed"
row "latency: new file on A -> kvfs get on B" "p50 ${p50} ms" "p99 ${p99} ms" "max ${pmax} ms" "-" "-" "-"

umount_store "$MB"
umount_store "$MA"

# ------------------------------------------------------------------ table
wire_note="ss -tin bytes_sent+bytes_received of the sync connection (TCP payload)"
[[ $WIRE_SRC == lo ]] && wire_note="/proc/net/dev lo rx+tx deltas (all loopback traffic, headers included)"
printf '\nkvfs sync vs rsync (local, same disk; %s)\nwire bytes: %s\nrsync bytes: --stats "Total bytes sent" + "Total bytes received"\n\n' \
  "$(date -u +%Y-%m-%dT%H:%MZ)" "$wire_note"
{
  echo "workload|kvfs s|kvfs wire bytes|payload bytes|wire/payload|rsync s|rsync bytes"
  printf '%s\n' "${ROWS[@]}"
} | column -t -s '|' -o ' | '
