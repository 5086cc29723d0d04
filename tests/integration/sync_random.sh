#!/usr/bin/env bash
# sync_random: three peers in a triangle (A listens; B dials A and listens; C
# dials A and B), a few hundred random operations (create/overwrite, append,
# rename, rm, mkdir, rmdir, rm -r, chmod, dir rename) spread over the three
# mounts, with random partitions: a peer remounted without its peer=/listen=
# options, or its daemon killed with -9 and remounted. Then everything heals
# and within 60 s the three trees must be identical, and:
#   - every file's bytes are a sequence of payloads that some write produced
#     (nothing torn, nothing invented);
#   - every payload that was written and not later overwritten, removed or
#     renamed away (on any peer, by wall-clock order: a conservative rule; at
#     any path a rename on another peer may have moved it to) is still in
#     some file;
#   - `kvfs conflicts` lists the same copies on all three.
# SEED=N reproduces a run (the seed is printed); ROUNDS, OPS (per round) scale.
. "$(dirname "$0")/sync_lib.sh"

SEED=${SEED:-$(( $(date +%s) % 100000 ))}
ROUNDS=${ROUNDS:-8}
OPS=${OPS:-50}
log "SEED=$SEED ROUNDS=$ROUNDS OPS=$OPS (rerun with SEED=$SEED)"
RANDOM=$SEED

it_setup
sync_stores A B C
PA=$(free_port)
PB=$(free_port)
while [[ $PB == "$PA" ]]; do PB=$(free_port); done
declare -A OPTS=(
  [A]="listen=127.0.0.1:$PA"
  [B]="peer=127.0.0.1:$PA,listen=127.0.0.1:$PB"
  [C]="peer=127.0.0.1:$PA,peer=127.0.0.1:$PB"
)
declare -A STATE=([A]=up [B]=up [C]=up)

cat >"$IT_TMP/random_ops.py" <<'EOF'
# random_ops.py STATE SEED ROUND NOPS NAME=MNT...: NOPS random operations on the
# mounts; every attempt is appended to STATE (JSON lines), with its payload.
import errno, hashlib, json, os, random, string, sys
state, seed, rnd, nops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
mounts = dict(a.split("=", 1) for a in sys.argv[5:])
rng = random.Random(seed * 1000 + rnd)
events = [json.loads(l) for l in open(state)] if os.path.exists(state) else []
seq = len(events)
DIRS = ["d0", "d1", "d2", "d0/s", "d1/s"]
FILES = ["f%d" % i for i in range(6)]
# What a mount may answer to each random operation; anything else is a failure.
E = errno
EXPECTED = {
    # write's `mkdir -p` may meet a merge: mkdir says EEXIST, then the directory is
    # gone (or not yet visible to the kernel) when makedirs checks it.
    "write": {E.ENOENT, E.ENOTDIR, E.EISDIR, E.EEXIST},
    "append": {E.ENOENT, E.ENOTDIR, E.EISDIR},
    "rename": {E.ENOENT, E.ENOTDIR, E.EISDIR, E.ENOTEMPTY, E.EEXIST, E.EINVAL},
    "rm": {E.ENOENT, E.ENOTDIR, E.EISDIR}, "mkdir": {E.EEXIST, E.ENOENT, E.ENOTDIR},
    "chmod": {E.ENOENT, E.ENOTDIR}, "rmdir": {E.ENOENT, E.ENOTEMPTY, E.ENOTDIR},
    "rm-r": {E.ENOENT, E.ENOTEMPTY, E.ENOTDIR, E.EISDIR},
    "rename-dir": {E.ENOENT, E.EINVAL, E.ENOTEMPTY, E.EEXIST, E.ENOTDIR},
}
def rand_file():
    d = rng.choice([""] * 3 + DIRS)
    return (d + "/" if d else "") + rng.choice(FILES)
def payload(tok, peer):
    n = rng.choice([0, 10, 100, 1000, 5000]) if rng.random() > 0.03 else 300000
    pad = "".join(rng.choice(string.ascii_letters) for _ in range(min(n, 64))) * (n // 64 + 1)
    return ("[T%d:%s:%s]\n" % (tok, peer, pad[:n])).encode()
out = open(state, "a")
unexpected = []
for _ in range(nops):
    peer = rng.choice(sorted(mounts))
    root = mounts[peer]
    r = rng.random()
    ev = {"seq": seq, "round": rnd, "peer": peer}
    seq += 1
    try:
        if r < 0.30:
            p = rand_file(); data = payload(ev["seq"], peer)
            ev.update(op="write", path=p, sha=hashlib.sha256(data).hexdigest(), len=len(data))
            if rng.random() < 0.5:   # mkdir -p of its directory first
                os.makedirs(os.path.dirname(os.path.join(root, p)), exist_ok=True)
            with open(os.path.join(root, p), "wb") as f: f.write(data)
        elif r < 0.45:
            p = rand_file(); data = payload(ev["seq"], peer)
            ev.update(op="append", path=p, sha=hashlib.sha256(data).hexdigest(), len=len(data))
            with open(os.path.join(root, p), "ab") as f: f.write(data)
        elif r < 0.57:
            s, d = rand_file(), rand_file()
            ev.update(op="rename", path=s, dst=d)
            os.rename(os.path.join(root, s), os.path.join(root, d))
        elif r < 0.67:
            p = rand_file(); ev.update(op="rm", path=p)
            os.unlink(os.path.join(root, p))
        elif r < 0.77:
            d = rng.choice(DIRS); ev.update(op="mkdir", path=d)
            os.mkdir(os.path.join(root, d))
        elif r < 0.87:
            p = rng.choice([rand_file(), rand_file(), rng.choice(DIRS)])
            mode = rng.choice([0o600, 0o644, 0o640, 0o755, 0o700])
            ev.update(op="chmod", path=p, mode=mode)
            os.chmod(os.path.join(root, p), mode)
        elif r < 0.93:
            d = rng.choice(DIRS); ev.update(op="rmdir", path=d)
            os.rmdir(os.path.join(root, d))
        elif r < 0.96:
            d = rng.choice(DIRS); ev.update(op="rm-r", path=d)
            for dp, dn, fn in os.walk(os.path.join(root, d), topdown=False):
                for n in fn: os.unlink(os.path.join(dp, n))
                for n in dn: os.rmdir(os.path.join(dp, n))
            os.rmdir(os.path.join(root, d))
        else:
            s, d = rng.choice(DIRS), rng.choice(DIRS)
            ev.update(op="rename-dir", path=s, dst=d)
            os.rename(os.path.join(root, s), os.path.join(root, d))
        ev["ok"] = True
        if ev["op"] in ("write", "append"):
            # The object written: a later write to it (under whatever name the
            # merges gave it by then) replaces these bytes legitimately.
            try:
                ev["oid"] = os.getxattr(os.path.join(root, ev["path"]), "kvfs.oid").decode()
            except OSError:
                pass  # a merge moved it meanwhile: only its path is known
    except OSError as e:
        ev["ok"] = False
        ev["errno"] = errno.errorcode.get(e.errno, str(e.errno))
        if e.errno not in EXPECTED.get(ev.get("op"), set()):
            unexpected.append("%s on %s: %s" % (ev.get("op"), peer, e))
    out.write(json.dumps(ev) + "\n")
out.close()
for u in unexpected[:10]:
    print("UNEXPECTED", u)
EOF

cat >"$IT_TMP/check.py" <<'EOF'
# check.py STATE ROOT...: the final tree(s) against the log of operations.
import hashlib, json, os, re, sys
events = [json.loads(l) for l in open(sys.argv[1])]
roots = sys.argv[2:]
written = {e["sha"]: e for e in events if e.get("op") in ("write", "append") and e["ok"]}
def touches(e, path):
    """Could event e have overwritten/removed/moved the file at path?"""
    parts = path.split("/")
    ancestors = {"/".join(parts[:i]) for i in range(1, len(parts))}
    op = e.get("op")
    if op == "write":
        return e["path"] == path
    if op == "rm":
        return e["path"] == path
    if op == "rename":
        return path in (e["path"], e["dst"]) or e["path"] in ancestors or e["dst"] in ancestors
    if op in ("rmdir", "rm-r", "rename-dir"):
        return e["path"] in ancestors or e.get("dst") in ancestors
    return False
def touches_any(e, paths, ancestors):
    """touches(e, p) for any p in paths; `ancestors` are all their ancestors."""
    op = e.get("op")
    if op in ("write", "rm"):
        return e["path"] in paths
    if op == "rename":
        return (e["path"] in paths or e["dst"] in paths or e["path"] in ancestors
                or e["dst"] in ancestors)
    if op in ("rmdir", "rm-r", "rename-dir"):
        return e["path"] in ancestors or e.get("dst") in ancestors
    return False
# The payloads every file holds: a file is a sequence of whole payloads.
found = {}
bad = []
nfiles = 0
for root, dp, dn, fn in ((r, *w) for r in roots for w in os.walk(r)):
    for n in fn:
        full = os.path.join(dp, n)
        if os.path.islink(full):
            continue
        nfiles += 1
        data = open(full, "rb").read()
        segs = data.split(b"\n")
        if segs[-1] != b"":
            bad.append("%s: does not end with a whole payload (%d bytes)" % (full, len(data)))
        for s in segs[:-1]:
            h = hashlib.sha256(s + b"\n").hexdigest()
            if h not in written:
                bad.append("%s: holds %d bytes no write produced: %r" % (full, len(s) + 1, s[:40]))
            found.setdefault(h, []).append(os.path.relpath(full, root))
renames = [x for x in events if x.get("op") in ("rename", "rename-dir") and x["ok"]]
def places(e):
    """Where the file e wrote may be now. A rename on another peer, even one earlier
    by wall clock, may have been concurrent with e (the peers were apart), and the
    write then follows the file (or its directory) to the new name: e.g. d2 moved
    to d0/s on B while C appended to d2/f4, and a later `rm -r d0` that had seen the
    append removed it. (A directory that lost a name clash is shown under a
    conflict name; its ancestors are the same, which is what rm -r checks.)"""
    seen, todo = {e["path"]}, [e["path"]]
    while todo and len(seen) < 1000:
        q = todo.pop()
        for x in renames:
            if x["peer"] == e["peer"]:
                continue  # same peer: ordered; a later one is in touches()
            s, d = x["path"], x["dst"]
            if q == s or q.startswith(s + "/"):
                n = d + q[len(s):]
                if n not in seen and n.count("/") < 8:
                    seen.add(n)
                    todo.append(n)
    return seen
required = []
for e in events:
    if e.get("op") in ("write", "append") and e["ok"]:
        # A failed operation changed nothing (but rm -r may have removed part
        # of a tree before it failed).
        where = places(e)
        above = set()
        for p in where:
            parts = p.split("/")
            above.update("/".join(parts[:i]) for i in range(1, len(parts)))
        # A later write to the same object replaces it wherever that object is now:
        # e.g. B renamed d1 to d0 and wrote d0/s/f4, a merge gave the directory
        # its name d1 back (a peer had revived it), and B then wrote d1/s/f4.
        later = [x for x in events if x["seq"] > e["seq"] and (x["ok"] or x["op"] == "rm-r")
                 and (touches_any(x, where, above)
                      or (x.get("op") == "write" and x.get("oid") == e.get("oid")))]
        if not later:
            required.append(e)
missing = [e for e in required if e["sha"] not in found]
ops = {}
for e in events:
    k = "%s %s" % (e.get("op"), "ok" if e["ok"] else e.get("errno"))
    ops[k] = ops.get(k, 0) + 1
print("operations: " + ", ".join("%s: %d" % kv for kv in sorted(ops.items())))
print("final tree: %d files; %d distinct payloads present; %d payloads required, %d missing"
      % (nfiles, len(found), len(required), len(missing)))
for b in bad[:10]:
    print("BAD " + b)
for e in missing[:10]:
    print("MISSING payload T%d (%s on %s to %s, round %d, %d bytes)"
          % (e["seq"], e["op"], e["peer"], e["path"], e["round"], e["len"]))
sys.exit(1 if bad or missing else 0)
EOF

up_all_mounted() {
  local n
  for n in A B C; do
    [[ ${STATE[$n]} == up ]] || return 1
  done
}

# partition NAME HOW: isolate NAME (remount without options, or kill -9 + remount
# without options).
partition() {
  local n=$1 how=$2
  if [[ $how == kill ]]; then
    sync_kill9 "$n"
  else
    sync_umount "$n"
  fi
  sync_mount "$n" ""
  STATE[$n]=isolated
  log "partition: $n isolated ($how)"
}
heal() {
  local n=$1
  sync_umount "$n"
  sync_mount "$n" "${OPTS[$n]}"
  STATE[$n]=up
  log "heal: $n back with ${OPTS[$n]}"
}

step "triangle: A (listen :$PA), B (peer A, listen :$PB), C (peer A, peer B)"
sync_mount A "${OPTS[A]}"
sync_mount B "${OPTS[B]}"
sync_mount C "${OPTS[C]}"

for ((round = 1; round <= ROUNDS; round++)); do
  step "round $round/$ROUNDS"
  # Partitions: heal an isolated peer with probability 1/2, isolate one more
  # with probability 1/2 (at most two isolated at once), sometimes by kill -9.
  for n in A B C; do
    if [[ ${STATE[$n]} == isolated ]] && (( RANDOM % 2 == 0 )); then heal "$n"; fi
  done
  if (( RANDOM % 3 != 0 )); then
    names=(A B C)
    n=${names[RANDOM % 3]}
    isolated=0
    for m in A B C; do [[ ${STATE[$m]} == isolated ]] && isolated=$((isolated + 1)); done
    if [[ ${STATE[$n]} == up ]] && (( isolated < 2 )); then
      if (( RANDOM % 3 == 0 )); then partition "$n" kill; else partition "$n" umount; fi
    fi
  fi
  log "state: A=${STATE[A]} B=${STATE[B]} C=${STATE[C]}"
  out=$(run_bounded 120 "$PY" "$IT_TMP/random_ops.py" "$IT_TMP/events.jsonl" "$SEED" "$round" "$OPS" \
    "A=$(mnt_of A)" "B=$(mnt_of B)" "C=$(mnt_of C)") || fail "random_ops.py failed: $out"
  if grep -q UNEXPECTED <<<"$out"; then
    fail "unexpected errors from the mounts (SEED=$SEED):
$out"
  fi
  # Sometimes a crash right after a burst of writes, while they are being sent.
  if (( RANDOM % 4 == 0 )); then
    names=(A B C)
    n=${names[RANDOM % 3]}
    log "kill -9 of $n's daemon right after round $round"
    sync_kill9 "$n"
    if [[ ${STATE[$n]} == up ]]; then sync_mount "$n" "${OPTS[$n]}"; else sync_mount "$n" ""; fi
  fi
done

step "heal everything; the three trees converge within 60 s"
for n in A B C; do
  [[ ${STATE[$n]} == up ]] || heal "$n"
done
up_all_mounted || fail "not all peers are up"
MA=$(mnt_of A); MB=$(mnt_of B); MC=$(mnt_of C)
converged=0
t0=$(date +%s)
while (( $(date +%s) - t0 < 60 )); do
  if trees_equal "$MA" "$MB" "$MC"; then converged=1; break; fi
  sleep 0.2
done
(( converged )) && log "after healing: trees identical after $(( $(date +%s) - t0 )) s"

# Objects that are live in a store but missing from its directory listing.
hidden=""
for n in A B C; do
  h=$(hidden_objects "$n")
  [[ -z $h ]] && continue
  hidden+="store $n hides: $(tr '\n' ' ' <<<"$h"); "
done
[[ -z $hidden ]] || log "live objects missing from the listings: $hidden"

if (( ! converged )); then
  la=$(tree_listing "$MA"); lb=$(tree_listing "$MB"); lc=$(tree_listing "$MC")
  fail "SEED=$SEED: the trees did not converge within 60 s${hidden:+ (live objects missing from the listings: $hidden)}:
A vs B: $(diff <(printf '%s\n' "$la") <(printf '%s\n' "$lb") | head -n 20 || true)
A vs C: $(diff <(printf '%s\n' "$la") <(printf '%s\n' "$lc") | head -n 20 || true)"
fi
[[ -z $hidden ]] || fail "SEED=$SEED: live objects are missing from the directory listings: $hidden"

step "the final tree against the operation log"
if ! out=$(run_bounded 120 "$PY" "$IT_TMP/check.py" "$IT_TMP/events.jsonl" "$MA"); then
  fail "SEED=$SEED: the final tree lost or mangled data:
$out"
fi
log "$out"

step "conflict copies listed the same on all three"
ca=$(kvs A conflicts "$(store_of A)") || fail "kvfs conflicts A failed"
cb=$(kvs B conflicts "$(store_of B)") || fail "kvfs conflicts B failed"
cc=$(kvs C conflicts "$(store_of C)") || fail "kvfs conflicts C failed"
assert_same_text "$ca" "$cb" "kvfs conflicts of B vs A"
assert_same_text "$ca" "$cc" "kvfs conflicts of C vs A"
log "$(grep -c . <<<"$ca" || true) conflict copies"

step "still converged after a remount of all three"
for n in C B A; do sync_umount "$n"; done
for n in A B C; do sync_mount "$n" "${OPTS[$n]}"; done
wait_trees_equal 30 "after the final remount (SEED=$SEED)" "$MA" "$MB" "$MC"
for n in C B A; do sync_umount "$n"; done

step "kvfs check: all three stores are sound"
for n in A B C; do check_store "$(store_of "$n")"; done
