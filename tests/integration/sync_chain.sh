#!/usr/bin/env bash
# sync_chain: three stores with one key in a chain A - B - C (A listens, B dials
# A and listens, C dials B): B relays. A write on A appears on C, a write on C
# appears on A, trees identical on all three. Then the relay goes down, both
# ends change, and the relay comes back as `kvfs serve` (no mount): everything
# converges again; finally as a mount again.
. "$(dirname "$0")/sync_lib.sh"

it_setup
sync_stores A B C
A=$(mnt_of A)
B=$(mnt_of B)
C=$(mnt_of C)
PA=$(free_port)
PB=$(free_port)
while [[ $PB == "$PA" ]]; do PB=$(free_port); done

step "chain: A (listen :$PA) <- B (peer A, listen :$PB) <- C (peer B)"
sync_mount A "listen=127.0.0.1:$PA"
sync_mount B "peer=127.0.0.1:$PA,listen=127.0.0.1:$PB"
sync_mount C "peer=127.0.0.1:$PB"

step "a write on A appears on C (through B)"
write_file "$A/from-a" "written on A"
ms=$(wait_file_eq 5 "$C/from-a" "written on A") \
  || fail "A/from-a not on C within 5 s (C: $(cat "$C/from-a" 2>&1); B: $(cat "$B/from-a" 2>&1))"
log "A -> B -> C latency: $ms ms"

step "a write on C appears on A (through B)"
write_file "$C/from-c" "written on C"
ms=$(wait_file_eq 5 "$A/from-c" "written on C") \
  || fail "C/from-c not on A within 5 s (A: $(cat "$A/from-c" 2>&1); B: $(cat "$B/from-c" 2>&1))"
log "C -> B -> A latency: $ms ms"

step "a tree made on A (dirs, modes, symlink, xattr, 1 MB file) is identical on all three"
b mkdir -p "$A/t/x/y"
for i in $(seq 1 20); do write_file "$A/t/x/file$i" "content $i"; done
b chmod 600 "$A/t/x/file7"
b ln -s x/file3 "$A/t/link"
b setfattr -n user.tag -v chain "$A/t/x/y"
head -c 1000000 /dev/urandom >"$IT_TMP/blob"
b cp "$IT_TMP/blob" "$A/t/blob"
b rm "$A/t/x/file20"
b mv "$C/from-c" "$C/t/from-c-moved"
wait_trees_equal 15 "chain after changes on A and C" "$A" "$B" "$C"
assert_same_file "$IT_TMP/blob" "$C/t/blob" "the 1 MB file on C"

step "the relay B goes down; A and C both change"
sync_umount B
write_file "$A/while-b-down-a" "A while B was down"
write_file "$C/while-b-down-c" "C while B was down"
b rm "$A/t/x/file1"
write_file "$C/t/x/file2" "file2 edited on C"
sleep 1
assert_missing "$C/while-b-down-a" "A's write on C while the relay is down"

step "B comes back as 'kvfs serve' (no mount): all three converge"
sync_serve B --listen "127.0.0.1:$PB" --peer "127.0.0.1:$PA"
serve_pid=$SYNC_SERVE_PID
ms=$(wait_file_eq 20 "$C/while-b-down-a" "A while B was down") \
  || fail "A's write not on C within 20 s of the relay's return"
log "A's offline write reached C $ms ms after kvfs serve B started"
wait_trees_equal 20 "A and C through kvfs serve B" "$A" "$C"
wait_missing "$C/t/x/file1" "file1 deleted on A, on C"
assert_file_eq "$A/t/x/file2" "file2 edited on C" "file2 edited on C, on A"
got=$(kvs B get while-b-down-c) || fail "kvfs get on B (served) failed"
assert_eq "C while B was down" "$got" "B's store holds C's write"

step "B mounted again (instead of serve): a last round both ways"
sync_stop_serve "$serve_pid" TERM
sync_mount B "peer=127.0.0.1:$PA,listen=127.0.0.1:$PB"
write_file "$A/last-a" "last from A"
write_file "$C/last-c" "last from C"
wait_file_eq 20 "$C/last-a" "last from A" >/dev/null || fail "last-a not on C within 20 s"
wait_file_eq 20 "$A/last-c" "last from C" >/dev/null || fail "last-c not on A within 20 s"
wait_trees_equal 20 "final" "$A" "$B" "$C"

sync_umount C
sync_umount B
sync_umount A

step "kvfs check: the three stores are sound"
for n in A B C; do check_store "$(store_of "$n")"; done
