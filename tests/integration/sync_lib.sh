# shellcheck shell=bash
# Shared helpers for the kvfs sync tests (sync_*.sh): several stores that share
# one store key, mounted (or served) with peer=/listen= on 127.0.0.1, plus tree
# comparison. Source it instead of lib.sh:
#
#   . "$(dirname "$0")/sync_lib.sh"
#   it_setup
#   sync_stores A B            # $IT_TMP/A, $IT_TMP/B: one key (B joins A's)
#   PA=$(free_port)
#   sync_mount A listen=127.0.0.1:$PA      # mounts $IT_TMP/mA
#   sync_mount B peer=127.0.0.1:$PA        # mounts $IT_TMP/mB
#   wait_trees_equal 10 "first sync" "$(mnt_of A)" "$(mnt_of B)"
#
# (sync_pair does the middle four lines and sets A, B and PA.)
#
# Everything lib.sh promises still holds: every wait is bounded, the EXIT trap
# unmounts every mount and kills every kvfs process (mounts, `kvfs serve`,
# `kvfs sync`) whose command line names this test's temp dir. On failure the
# trap also prints the tail of each store's daemon log (STORE/log/*.log).
#
# Only 127.0.0.1 is used; ports are picked free at run time (free_port).

# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SYNC_STORES=()      # names given to sync_stores / sync_lone_store
SYNC_SERVE_PIDS=()  # `kvfs serve` processes started by sync_serve

store_of() { printf '%s/%s' "$IT_TMP" "$1"; }
mnt_of() { printf '%s/m%s' "$IT_TMP" "$1"; }

# kvs NAME ARGS...: the kvfs CLI against store NAME (bounded).
kvs() {
  local name=$1
  shift
  b "$KVFS_BIN" --store "$(store_of "$name")" "$@"
}

# free_port: a TCP port on 127.0.0.1 that nobody listens on now. Chosen at
# random below the kernel's ephemeral range (so that outgoing connections of
# this machine are unlikely to take it before we bind it), bind-checked.
free_port() {
  "$PY" - <<'EOF'
import random, socket
lo, hi = 20000, 32000
try:
    a, _ = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
    hi = min(hi, int(a) - 1)
except Exception:
    pass
for _ in range(200):
    p = random.randint(lo, hi)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
else:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
EOF
}

# sync_dump_logs: on failure (the EXIT trap's $rc), the tail of every daemon log.
sync_dump_logs() {
  local n f
  (( ${rc:-0} != 0 )) || return 0
  for n in "${SYNC_STORES[@]}"; do
    for f in "$(store_of "$n")"/log/*.log "$IT_TMP"/serve."$n".log; do
      [[ -s $f ]] || continue
      log "log of $n ($f):"
      tail -n 30 "$f" | sed 's/^/    /' >&2
    done
  done
}

# sync_stores NAME...: `kvfs init` each; all but the first join the first's key
# (`kvfs key show` / `kvfs key set`), the way a user adds a machine.
sync_stores() {
  local first=$1 key n out
  sync_lone_store "$first"
  key=$(kvs "$first" key show "$(store_of "$first")") || fail "kvfs key show $first failed"
  [[ $key == kvfs1-* ]] || fail "kvfs key show printed '$key', not a kvfs1- key"
  shift
  for n in "$@"; do
    sync_lone_store "$n"
    out=$(kvs "$n" key set "$(store_of "$n")" "$key" 2>&1) || fail "kvfs key set $n failed: $out"
  done
}

# sync_lone_store NAME: a store with its own (random) key.
sync_lone_store() {
  new_store "$(store_of "$1")"
  SYNC_STORES+=("$1")
  if (( ${#SYNC_STORES[@]} == 1 )); then IT_HOOKS+=("sync_dump_logs"); fi
}

# daemon_pid NAME: the pid of the daemon serving NAME's mount (empty if none).
daemon_pid() { pids_mentioning "$(mnt_of "$1")" | head -n 1; }

# listening_pid PORT: pid of the process listening on 127.0.0.1:PORT (empty if none).
listening_pid() {
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2
}

# wait_listening PID PORT SECONDS: PID listens on PORT.
wait_listening() {
  local pid=$1 port=$2 secs=${3:-10} i
  for ((i = 0; i < secs * 10; i++)); do
    [[ $(listening_pid "$port") == "$pid" ]] && return 0
    sleep 0.1
  done
  return 1
}

# sync_mount NAME [OPTS]: `kvfs mount STORE(NAME) MNT(NAME) -o OPTS` (OPTS may be
# empty: a mount without sync). With listen=127.0.0.1:PORT, waits until the
# daemon listens there.
sync_mount() {
  local name=$1 opts=${2:-} port pid
  if [[ -n $opts ]]; then
    it_mount "$(mnt_of "$name")" "$(store_of "$name")" -- -o "$opts"
  else
    it_mount "$(mnt_of "$name")" "$(store_of "$name")"
  fi
  if [[ $opts =~ listen=127\.0\.0\.1:([0-9]+) ]]; then
    port=${BASH_REMATCH[1]}
    pid=$(daemon_pid "$name")
    [[ -n $pid ]] || fail "no daemon found for the mount of $name"
    wait_listening "$pid" "$port" 10 \
      || fail "the daemon of $name (pid $pid) does not listen on 127.0.0.1:$port within 10 s (listener: pid '$(listening_pid "$port")'); its log: $(tail -n 5 "$(store_of "$name")/log/mount.log" 2>/dev/null)"
  fi
}

# sync_pair: stores A and B with one key, A mounted listening on 127.0.0.1:$PA
# and B mounted dialing it. Sets A and B (the mount points) and PA.
sync_pair() {
  sync_stores A B
  A=$(mnt_of A)
  B=$(mnt_of B)
  PA=$(free_port)
  sync_mount A "listen=127.0.0.1:$PA"
  sync_mount B "peer=127.0.0.1:$PA"
}

# sync_umount NAME: `kvfs umount`; the daemon must exit.
sync_umount() { it_umount "$(mnt_of "$1")"; }

# sync_kill9 NAME: kill -9 the daemon of NAME's mount and clean up the dead mount.
sync_kill9() {
  local name=$1 pid mnt
  mnt=$(mnt_of "$name")
  pid=$(daemon_pid "$name")
  [[ -n $pid ]] || fail "no daemon found for the mount of $name"
  log "kill -9 $pid (daemon of $mnt)"
  kill -9 "$pid"
  wait_until 10 "daemon dies" no_daemon "$mnt" || fail "daemon $pid survived kill -9"
  force_unmount "$mnt" || fail "cannot unmount the dead mount $mnt"
}

# sync_serve NAME ARGS...: `kvfs serve STORE(NAME) ARGS` in the background, output
# in $IT_TMP/serve.NAME.log; waits for its "serving" line (and, with --listen,
# for the listener). Prints nothing; the pid is in SYNC_SERVE_PID.
SYNC_SERVE_PID=""
sync_serve() {
  local name=$1 logf port i
  shift
  logf=$IT_TMP/serve.$name.log
  "$KVFS_BIN" serve "$(store_of "$name")" "$@" >>"$logf" 2>&1 &
  SYNC_SERVE_PID=$!
  SYNC_SERVE_PIDS+=("$SYNC_SERVE_PID")
  for ((i = 0; i < 100; i++)); do
    kill -0 "$SYNC_SERVE_PID" 2>/dev/null || fail "kvfs serve $name $* exited: $(tail -n 5 "$logf")"
    grep -q "kvfs: serving" "$logf" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "kvfs: serving" "$logf" || fail "kvfs serve $name $* did not start within 10 s: $(tail -n 5 "$logf")"
  if [[ " $* " =~ \ --listen\ 127\.0\.0\.1:([0-9]+)\  ]]; then
    port=${BASH_REMATCH[1]}
    wait_listening "$SYNC_SERVE_PID" "$port" 10 \
      || fail "kvfs serve $name does not listen on 127.0.0.1:$port within 10 s"
  fi
}

# sync_stop_serve PID [SIGNAL]: stop a `kvfs serve` (default TERM) and reap it.
sync_stop_serve() {
  local pid=$1 sig=${2:-TERM} i
  kill -"$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
    fail "kvfs serve (pid $pid) did not stop within 10 s of SIG$sig"
  fi
  wait "$pid" 2>/dev/null || true
}

# tree_listing DIR: one line per entry under DIR (DIR itself as "."), sorted by
# path: path, type, mode (octal), size, sha256 of the bytes (files), the link
# target (symlinks), mtime in ns, and the user.* xattrs (name=sha256 of value).
# Names are printed with Python's repr so that any byte is visible.
# TREE_NO_MTIME=1 leaves mtimes out.
tree_listing() {
  run_bounded "$IT_STEP_TIMEOUT" "$PY" - "$1" "${TREE_NO_MTIME:-0}" <<'EOF'
import hashlib, os, stat, sys
root, no_mtime = sys.argv[1].encode(), sys.argv[2] == "1"
rows = []
def entry(rel, full):
    st = os.lstat(full)
    m = st.st_mode
    if stat.S_ISREG(m):
        h = hashlib.sha256()
        with open(full, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        kind, extra = "f", h.hexdigest()
    elif stat.S_ISDIR(m):
        kind, extra = "d", "-"
    elif stat.S_ISLNK(m):
        kind, extra = "l", "->" + repr(os.readlink(full))
    else:
        kind, extra = "?", "-"
    size = st.st_size if kind != "d" else "-"
    xs = []
    try:
        names = os.listxattr(full, follow_symlinks=False)
    except OSError:
        names = []
    for n in sorted(names):
        if n.startswith("user."):
            v = os.getxattr(full, n, follow_symlinks=False)
            xs.append("%s=%s" % (n, hashlib.sha256(v).hexdigest()[:16]))
    cols = [repr(rel)[1:], kind, "%o" % stat.S_IMODE(m), str(size), extra]
    if not no_mtime:
        cols.append(str(st.st_mtime_ns))
    cols.append(",".join(xs) or "-")
    rows.append((rel, " ".join(cols)))
entry(b".", root)
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        full = os.path.join(d, n)
        entry(os.path.relpath(full, root), full)
rows.sort()
for _, line in rows:
    print(line)
EOF
}

# trees_equal DIR...: all listings identical (quietly).
trees_equal() {
  local first other d
  first=$(tree_listing "$1" 2>/dev/null) || return 1
  for d in "${@:2}"; do
    other=$(tree_listing "$d" 2>/dev/null) || return 1
    [[ $first == "$other" ]] || return 1
  done
}

# wait_trees_equal SECONDS WHAT DIR...: poll until every DIR lists the same tree;
# prints the time it took; fails with a diff of the first two that differ.
wait_trees_equal() {
  local secs=$1 what=$2 t0 t1 d first other
  shift 2
  t0=$(date +%s%N)
  local deadline=$((t0 + secs * 1000000000))
  while :; do
    if trees_equal "$@"; then
      t1=$(date +%s%N)
      log "$what: trees identical after $(((t1 - t0) / 1000000)) ms"
      return 0
    fi
    (( $(date +%s%N) < deadline )) || break
    sleep 0.2
  done
  first=$(tree_listing "$1" 2>&1)
  for d in "${@:2}"; do
    other=$(tree_listing "$d" 2>&1)
    if [[ $first != "$other" ]]; then
      fail "$what: trees of $1 and $d still differ after ${secs} s (< $1, > $d):
$(diff <(printf '%s\n' "$first") <(printf '%s\n' "$other") | head -n 40)"
    fi
  done
  fail "$what: trees did not settle within ${secs} s"
}

# assert_trees_equal WHAT DIR...: the listings must be identical now.
assert_trees_equal() {
  local what=$1 first other d
  shift
  first=$(tree_listing "$1") || fail "$what: listing $1 failed"
  for d in "${@:2}"; do
    other=$(tree_listing "$d") || fail "$what: listing $d failed"
    assert_same_text "$first" "$other" "$what: tree of $d vs $1"
  done
}

# wait_file_eq SECONDS PATH CONTENT: poll until PATH holds exactly CONTENT;
# prints how long it took (ms) on stdout; returns 1 on timeout.
wait_file_eq() {
  local secs=$1 path=$2 want=$3 t0 got
  t0=$(date +%s%N)
  local deadline=$((t0 + secs * 1000000000))
  while :; do
    if got=$(timeout 5 cat "$path" 2>/dev/null; printf x) && [[ ${got%x} == "$want" ]]; then
      echo $((($(date +%s%N) - t0) / 1000000))
      return 0
    fi
    (( $(date +%s%N) < deadline )) || return 1
    sleep 0.02
  done
}

# hidden_objects NAME: the paths of live objects of store NAME (its change feed,
# `kvfs log`, names each live object by its path) that its directory listing
# (`kvfs ls -r`) does not show: objects present in the store but unreachable.
hidden_objects() {
  local name=$1 logged listed
  logged=$(kvs "$name" log -n 100000000 | cut -f4 | grep -v -e '^(deleted ino' -e '^/$' | sort -u) \
    || fail "kvfs log on $name failed"
  listed=$(kvs "$name" ls -r | sed 's,/$,,' | sort -u) || fail "kvfs ls -r on $name failed"
  comm -23 <(printf '%s\n' "$logged") <(printf '%s\n' "$listed") | grep . || true
}

# wait_missing PATH [WHAT]: PATH must be gone within 2 s. After a delete that came
# from a peer, the kernel may still hold the name for a moment (the daemon
# invalidates it when it sees the change), as it may after any sync.
wait_missing() {
  local path=$1 i
  for ((i = 0; i < 100; i++)); do
    if ! timeout 5 test -e "$path" && ! timeout 5 test -L "$path"; then return 0; fi
    sleep 0.02
  done
  fail "${2:-expected $path not to exist} (still there 2 s later)"
}

# wait_trees_equal_quiet SECONDS DIR...: like wait_trees_equal, but returns 1
# instead of failing (for checks that collect every problem before failing).
wait_trees_equal_quiet() {
  local secs=$1 t0
  shift
  t0=$(date +%s)
  while (( $(date +%s) - t0 < secs )); do
    trees_equal "$@" && return 0
    sleep 0.2
  done
  return 1
}
