#!/usr/bin/env bash
# sync_security: a peer without the store key is refused and changes nothing;
# garbage TCP servers make `kvfs sync` fail fast with a clear error and leave
# the store alone; hostile clients of a listening mount get closed connections
# while the daemon keeps serving its mount and its real peer; the key is never
# logged; store and key files are 0700/0600.
#
# A (mount, listen) and B (mount, peer=A) share a key; W has another key.
# "Unchanged" means: `kvfs log` (the change feed with stamps), `kvfs ls -r -l`
# and the tree listing of the mount are byte-identical before and after.
. "$(dirname "$0")/sync_lib.sh"

it_setup
sync_stores A B
sync_lone_store W
A=$(mnt_of A)
B=$(mnt_of B)
PA=$(free_port)
sync_mount A "listen=127.0.0.1:$PA"
sync_mount B "peer=127.0.0.1:$PA"
KEY_A=$(kvs A key show "$(store_of A)")

step "some data on A and B, synced"
b mkdir -p "$A/docs"
write_file "$A/docs/plan" "the plan"
b chmod 600 "$A/docs/plan"
write_file "$B/from-b" "B's file"
wait_trees_equal 10 "initial sync" "$A" "$B"
kvs W set w-own "W's own value" >/dev/null

# snapshot NAME: the store's feed, its long listing and (when mounted) its tree.
snapshot() {
  local name=$1
  kvs "$name" log -n 1000000 || echo "kvfs log failed"
  kvs "$name" ls -r -l || echo "kvfs ls failed"
  if is_mounted "$(mnt_of "$name")"; then tree_listing "$(mnt_of "$name")"; fi
}
assert_unchanged() {   # NAME BEFORE WHAT
  assert_same_text "$2" "$(snapshot "$1")" "store $1 changed: $3"
}

snap_a=$(snapshot A)
snap_b=$(snapshot B)
snap_w=$(snapshot W)
wlog=$(store_of W)/log/mount.log
alog=$(store_of A)/log/mount.log

step "store and key file modes"
for n in A B W; do
  assert_eq 700 "$(stat -c %a "$(store_of "$n")")" "mode of store dir $n"
  assert_eq 600 "$(stat -c %a "$(store_of "$n")/store.key")" "mode of $n/store.key"
done

step "kvfs sync from W (wrong key) to A is refused, exit non-zero, nothing changes"
rc=0
out=$(run_bounded 60 "$KVFS_BIN" sync "$(store_of W)" --peer "127.0.0.1:$PA" --timeout 30 2>&1) || rc=$?
log "kvfs sync W -> A: rc=$rc: $out"
(( rc != 0 )) || fail "kvfs sync with the wrong key exited 0: $out"
(( rc != 124 && rc != 137 )) || fail "kvfs sync with the wrong key hung (killed after 60 s)"
assert_contains "$out" "handshake refused" "kvfs sync's error with the wrong key"
wait_until 5 "A logs the refusal" grep -q "handshake refused" "$alog" \
  || fail "A's log does not show the refused handshake: $(tail -n 3 "$alog")"
assert_unchanged A "$snap_a" "after kvfs sync from W"
assert_unchanged W "$snap_w" "after kvfs sync from W"

step "kvfs sync from A to a 'kvfs serve W' (wrong key, A dials) is refused too"
PW=$(free_port)
while [[ $PW == "$PA" ]]; do PW=$(free_port); done
sync_serve W --listen "127.0.0.1:$PW"
wserve=$SYNC_SERVE_PID
rc=0
out=$(run_bounded 60 "$KVFS_BIN" sync "$(store_of A)" --peer "127.0.0.1:$PW" --timeout 30 2>&1) || rc=$?
log "kvfs sync A -> W: rc=$rc: $out"
(( rc != 0 && rc != 124 && rc != 137 )) || fail "kvfs sync A -> W (wrong key) exited $rc: $out"
assert_contains "$out" "handshake refused" "kvfs sync's error, A dialling W"
wait_until 5 "W's serve logs the refusal" grep -q "handshake refused" "$IT_TMP/serve.W.log" \
  || fail "kvfs serve W does not log the refused handshake: $(tail -n 3 "$IT_TMP/serve.W.log")"
sync_stop_serve "$wserve" TERM
assert_unchanged A "$snap_a" "after kvfs sync to W's serve"
assert_unchanged W "$snap_w" "after kvfs sync to W's serve"

step "a mount of W with peer=A keeps being refused; nothing changes on either side"
sync_mount W "peer=127.0.0.1:$PA"
write_file "$(mnt_of W)/w-mounted" "written on W's mount"
wait_until 10 "W logs the refusal" grep -q "handshake refused" "$wlog" \
  || fail "W's mount log does not show the refused handshake within 10 s: $(tail -n 3 "$wlog")"
sleep 2       # a few more attempts (backoff 0.5 s, 1 s, ...)
refusals=$(grep -c "handshake refused" "$alog")
log "A's log has $refusals refused handshakes"
assert_missing "$A/w-mounted" "W's file on A"
assert_missing "$A/w-own" "W's file on A"
assert_missing "$B/w-mounted" "W's file on B"
sync_umount W
assert_eq $'w-mounted\nw-own' "$(kvs W ls -r)" "W's keys after its refused mount (only its own)"
assert_unchanged A "$snap_a" "after the wrong-key peer"
assert_unchanged B "$snap_b" "after the wrong-key peer"
st=$(kvs W status "$(store_of W)") || fail "kvfs status W failed"
assert_not_contains "$st" ", connected" "W's status after refused handshakes"

step "kvfs sync to garbage TCP servers fails with a clear error, non-zero, store unchanged"
cat >"$IT_TMP/garbage_server.py" <<'EOF'
# garbage_server.py PORT MODE READYFILE: accept connections on 127.0.0.1:PORT and
# answer each with MODE's garbage; exits after 90 s in any case.
import os, socket, sys, threading, time
port, mode, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
open(ready, "w").close()
def serve(c):
    try:
        c.settimeout(40)
        if mode == "random":
            c.sendall(os.urandom(65536)); time.sleep(2)
        elif mode == "hugelen":
            c.sendall(b"\xff\xff\xff\xf0" + os.urandom(1000)); time.sleep(2)
        elif mode == "kvfs-ish":       # a plausible 70-byte hello frame of junk
            c.sendall((70).to_bytes(4, "big") + b"KVFS" + os.urandom(66) +
                      (64).to_bytes(4, "big") + os.urandom(64)); time.sleep(2)
        elif mode == "http":
            c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"); time.sleep(1)
        elif mode == "close":
            pass
        elif mode == "silent":
            time.sleep(35)
        elif mode == "echo":           # reflects the client's own hello back
            end = time.time() + 15
            while time.time() < end:
                d = c.recv(65536)
                if not d: break
                c.sendall(d)
        elif mode == "trickle":        # one byte every 0.5 s
            for _ in range(60):
                c.sendall(os.urandom(1)); time.sleep(0.5)
    except OSError:
        pass
    finally:
        c.close()
deadline = time.time() + 90
s.settimeout(1)
while time.time() < deadline:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
GARBAGE_PID=""
# shellcheck disable=SC2016  # evaluated by the EXIT trap
IT_HOOKS+=('[[ -n $GARBAGE_PID ]] && kill "$GARBAGE_PID" 2>/dev/null')
snap_a=$(snapshot A)
for mode in random hugelen kvfs-ish http close echo silent trickle; do
  PG=$(free_port)
  rm -f "$IT_TMP/ready"
  timeout -k 5 100 "$PY" "$IT_TMP/garbage_server.py" "$PG" "$mode" "$IT_TMP/ready" &
  GARBAGE_PID=$!
  wait_until 10 "garbage server up" test -e "$IT_TMP/ready" || fail "the $mode server did not start"
  t0=$(date +%s%N)
  rc=0
  out=$(run_bounded 60 "$KVFS_BIN" sync "$(store_of A)" --peer "127.0.0.1:$PG" --timeout 30 2>&1) || rc=$?
  secs=$((($(date +%s%N) - t0) / 1000000))
  log "kvfs sync to a '$mode' server: rc=$rc after $secs ms: $out"
  (( rc != 124 && rc != 137 )) || fail "kvfs sync to a '$mode' server hung (killed after 60 s)"
  (( rc != 0 )) || fail "kvfs sync to a '$mode' server exited 0: $out"
  assert_contains "$out" "kvfs: " "kvfs sync's error for a '$mode' server"
  assert_contains "$out" "127.0.0.1:$PG" "kvfs sync's error names the peer ('$mode')"
  assert_eq 1 "$(grep -c . <<<"$out")" "kvfs sync's error for a '$mode' server is one line"
  (( secs < 35000 )) || fail "kvfs sync to a '$mode' server took $secs ms (> 35 s)"
  kill "$GARBAGE_PID" 2>/dev/null || true
  wait "$GARBAGE_PID" 2>/dev/null || true
  GARBAGE_PID=""
done
rc=0
out=$(run_bounded 30 "$KVFS_BIN" sync "$(store_of A)" --peer "127.0.0.1:$(free_port)" 2>&1) || rc=$?
(( rc != 0 && rc != 124 )) || fail "kvfs sync to a closed port exited $rc"
assert_contains "$out" "cannot connect" "kvfs sync to a port nobody listens on"
assert_unchanged A "$snap_a" "after kvfs sync to garbage servers"

step "hostile clients of A's listener: closed connections, the daemon keeps serving"
daemon_a=$(daemon_pid A)
cat >"$IT_TMP/hostile_client.py" <<'EOF'
# hostile_client.py PORT HELDFILE: garbage to a kvfs listener, then 20 silent
# connections held open for 8 s (HELDFILE is created once they are).
import os, socket, sys, time
port, held_file = int(sys.argv[1]), sys.argv[2]
def conn():
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.settimeout(15)
    return c
def drain(c):
    try:
        while c.recv(65536): pass
    except OSError:
        pass
# random bytes, a huge length, a junk hello, half a length then close
for payload in [os.urandom(100000), b"\xff\xff\xff\xff" + os.urandom(64),
                (70).to_bytes(4, "big") + b"KVFS" + os.urandom(66), b"\x00\x00\x00"]:
    c = conn()
    try:  # the listener may refuse and reset before all of it is sent: that is fine
        c.sendall(payload); c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    drain(c); c.close()
# reflection: send the listener's own hello back to it
c = conn()
hello = c.recv(4096)
c.sendall(hello); drain(c); c.close()
held = [conn() for _ in range(20)]
open(held_file, "w").close()
time.sleep(8)
for c in held: c.close()
EOF
timeout -k 5 60 "$PY" "$IT_TMP/hostile_client.py" "$PA" "$IT_TMP/held" &
hostile=$!
# shellcheck disable=SC2016  # evaluated by the EXIT trap
IT_HOOKS+=('[[ -n ${hostile:-} ]] && kill "$hostile" 2>/dev/null')
wait_until 30 "hostile connections held" test -e "$IT_TMP/held" \
  || fail "the hostile client did not get its 20 connections up within 30 s"
assert_eq "$daemon_a" "$(daemon_pid A)" "A's daemon pid after hostile clients"
write_file "$A/after-hostile" "A still serves"
wait_file_eq 5 "$B/after-hostile" "A still serves" >/dev/null \
  || fail "a write on A does not reach B while 20 silent connections are open"
rc=0
out=$(run_bounded 60 "$KVFS_BIN" sync "$(store_of W)" --peer "127.0.0.1:$PA" --timeout 30 2>&1) || rc=$?
assert_contains "$out" "handshake refused" "a wrong-key sync while 20 silent connections are open"
rc=0
wait "$hostile" || rc=$?
(( rc == 0 )) || fail "the hostile client script failed (rc $rc)"
assert_file_eq "$A/docs/plan" "the plan" "A's mount after hostile clients"
errs=$(grep -cE "\[(warning|error)\]" "$alog" || true)
log "A's log: $errs warnings/errors; last: $(grep -E "\[(warning|error)\]" "$alog" | tail -n 1)"
grep -qiE "corrupt|frame|handshake failed|malformed|too large|limit" "$alog" \
  || fail "A's log names no handshake/frame error for the hostile clients: $(tail -n 5 "$alog")"

step "the key is never logged nor printed by status"
for f in "$IT_TMP"/*.log "$(store_of A)"/log/* "$(store_of B)"/log/* "$(store_of W)"/log/*; do
  [[ -f $f ]] || continue
  if grep -qF "${KEY_A#kvfs1-}" "$f"; then fail "the store key appears in $f"; fi
done
for n in A B; do
  st=$(kvs "$n" status "$(store_of "$n")") || fail "kvfs status $n failed"
  assert_not_contains "$st" "${KEY_A#kvfs1-}" "kvfs status $n"
done

sync_umount B
sync_umount A
