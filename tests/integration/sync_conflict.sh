#!/usr/bin/env bash
# sync_conflict: disconnected edits, then a reconnect. Two stores with one key;
# B is taken offline (unmounted), both sides change shared files, B comes back
# with peer= and the trees must converge with nothing the users wrote lost:
#   - concurrent edit: the newer edit keeps the name, the other is a
#     NAME.sync-conflict-* copy; both contents present on both sides
#   - delete vs edit (delete before and after the edit): the edit survives
#   - rename vs edit: the edit survives (at the new name, as ARCHITECTURE.md says)
#   - rm -r of a directory vs a file created in it: the file (and dir) survive
#   - create of one new name on both: both files kept
#   - a delete B never saw is not undone when B comes back
#   - two conflict copies of one name minted by one node in one second: both
#     stay visible (they once took one name, and one vanished from the listing)
#   - a name-clash loser whose conflict name is already taken by a file: all
#     files visible, one tree on both sides, the loser at NAME.sync-conflict-...-HASH
# Round 1 edits B offline with the CLI (`kvfs set/rm` on its store), round 2
# with B mounted without peer= (a mount that does not sync), round 3 with the
# CLI and one-round `kvfs sync` against A's mount, round 4 with the CLI.
. "$(dirname "$0")/sync_lib.sh"

it_setup
sync_pair

# contents_of DIR GLOB: the contents of the files matching GLOB in DIR, sorted,
# one per line.
contents_of() {
  local f
  for f in "$1"/$2; do [[ -f $f ]] && { b cat "$f"; echo; }; done | sort
}

# conflict_copies DIR NAME: the names NAME.sync-conflict-* in DIR.
conflict_copies() {
  b find "$1" -maxdepth 1 -name "$2.sync-conflict-*" -printf '%f\n' | sort
}

step "shared files, synced"
write_file "$A/c" "base"
write_file "$A/del-early" "base"
write_file "$A/del-late" "base"
write_file "$A/ren" "base"
b mkdir -p "$A/gone/sub" "$A/gone-empty"
write_file "$A/gone/old" "old file in gone"
write_file "$A/gone/sub/deep" "deep in gone"
write_file "$A/stays-deleted" "B never touches this"
wait_trees_equal 10 "initial sync" "$A" "$B"

step "round 1: B offline; edits on A (mount) and on B (kvfs set/rm on its store)"
sync_umount B
# Interleaved so that both orders of the stamps occur.
write_file "$A/c" "edit on A"                       # concurrent edit, A older
kvs B set c "edit on B" >/dev/null                   # ... B newer: B keeps the name
b rm "$A/del-early"                                  # delete (older) vs edit (newer)
kvs B set del-early "edited on B after A's delete" >/dev/null
kvs B set del-late "edited on B before A's delete" >/dev/null
b rm "$A/del-late"                                   # delete (newer) vs edit (older)
b mv "$A/ren" "$A/ren-renamed"                       # rename vs edit
kvs B set ren "edited on B while A renamed it" >/dev/null
b rm -r "$A/gone" "$A/gone-empty"                    # rm -r vs create inside
kvs B set gone/sub/new "created on B inside gone/sub" >/dev/null
kvs B set gone-empty/new "created on B inside gone-empty" >/dev/null
write_file "$A/both-new" "both-new from A"           # one new name on both sides
kvs B set both-new "both-new from B" >/dev/null
b rm "$A/stays-deleted"                              # B never saw it: stays deleted
# What each side holds before the reconnect, for the record.
log "B's changes while offline: $(kvs B log -n 12 | cut -f3,4 | tr '\t\n' ' ;')"

step "round 1: B reconnects; trees converge"
sync_mount B "peer=127.0.0.1:$PA"
wait_trees_equal 30 "after round 1" "$A" "$B"

step "round 1: concurrent edit -> newer keeps the name, older is a conflict copy"
for side in "$A" "$B"; do
  assert_file_eq "$side/c" "edit on B" "c on $side (B's edit is newer)"
  copies=$(conflict_copies "$side" c)
  assert_eq 1 "$(grep -c . <<<"$copies")" "number of c.sync-conflict-* copies on $side ($copies)"
  assert_file_eq "$side/$copies" "edit on A" "the conflict copy $copies on $side"
  assert_same_text $'edit on A\nedit on B' "$(contents_of "$side" 'c*')" "the two versions of c on $side"
done
ca=$(kvs A conflicts "$(store_of A)") || fail "kvfs conflicts A failed"
cb=$(kvs B conflicts "$(store_of B)") || fail "kvfs conflicts B failed"
assert_contains "$ca" "c.sync-conflict-" "kvfs conflicts on A"
assert_eq "$ca" "$cb" "kvfs conflicts on A and B"

step "round 1: delete vs edit -> the edit survives (either order)"
for side in "$A" "$B"; do
  assert_file_eq "$side/del-early" "edited on B after A's delete" "del-early on $side"
  assert_file_eq "$side/del-late" "edited on B before A's delete" "del-late on $side"
done

step "round 1: rename vs edit -> the edit survives, at the new name"
for side in "$A" "$B"; do
  found=$(b grep -rlF "edited on B while A renamed it" "$side" || true)
  [[ -n $found ]] || fail "the edit of 'ren' made on B while A renamed it is on no file of $side"
  log "rename vs edit on $side: the edit is in: $(tr '\n' ' ' <<<"${found//$side\//}")"
  assert_file_eq "$side/ren-renamed" "edited on B while A renamed it" "ren-renamed on $side"
  wait_missing "$side/ren" "the old name 'ren' on $side after the rename won"
done

step "round 1: rm -r of a directory vs a file created in it -> the file survives"
for side in "$A" "$B"; do
  assert_file_eq "$side/gone/sub/new" "created on B inside gone/sub" "gone/sub/new on $side"
  assert_file_eq "$side/gone-empty/new" "created on B inside gone-empty" "gone-empty/new on $side"
  # What the delete had seen stays deleted.
  wait_missing "$side/gone/old" "gone/old on $side (its delete saw it)"
  wait_missing "$side/gone/sub/deep" "gone/sub/deep on $side (its delete saw it)"
done

step "round 1: one new name created on both sides -> both files kept"
for side in "$A" "$B"; do
  assert_same_text $'both-new from A\nboth-new from B' "$(contents_of "$side" 'both-new*')" \
    "the files named both-new* on $side"
done

step "round 1: a delete B never saw stays deleted"
for side in "$A" "$B"; do wait_missing "$side/stays-deleted" "stays-deleted on $side"; done

step "round 2: B mounted without peer= (offline); concurrent edits through both mounts"
write_file "$A/m" "base m"
write_file "$A/attr" "base attr"
write_file "$A/del-dir-file" "x"
wait_trees_equal 10 "before round 2" "$A" "$B"
sync_umount B
sync_mount B ""                       # a mount without sync
write_file "$B/m" "m edited on B (older)"
write_file "$A/m" "m edited on A (newer)"
b chmod 600 "$A/attr"                  # attrs on A, content on B: both survive
write_file "$B/attr" "attr content from B"
b rm "$B/del-dir-file"                 # delete on B vs append on A
append_file "$A/del-dir-file" "y"
b mkdir "$B/newdir"                    # mkdir of one name on both, with files
write_file "$B/newdir/fromB" "b"
b mkdir "$A/newdir"
write_file "$A/newdir/fromA" "a"
sync_umount B
sync_mount B "peer=127.0.0.1:$PA"
wait_trees_equal 30 "after round 2" "$A" "$B"

step "round 2: checks"
for side in "$A" "$B"; do
  assert_file_eq "$side/m" "m edited on A (newer)" "m on $side"
  assert_same_text $'m edited on A (newer)\nm edited on B (older)' "$(contents_of "$side" 'm*')" \
    "the two versions of m on $side"
  assert_file_eq "$side/attr" "attr content from B" "attr content on $side"
  assert_eq 600 "$(b stat -c %a "$side/attr")" "attr's mode on $side (chmod on A, write on B)"
  assert_file_eq "$side/del-dir-file" "xy" "del-dir-file on $side (append on A beats rm on B)"
  got=$(b find "$side" -path "$side/newdir*" -type f -printf '%f\n' | sort | tr '\n' ' ')
  assert_eq "fromA fromB " "$got" "files under the newdir* directories on $side"
done
st=$(kvs A status "$(store_of A)") || fail "kvfs status A failed"
assert_contains "$st" "conflicts: " "kvfs status A"
log "status of A: $(grep -E '^(conflicts|peer)' <<<"$st" | tr '\n' ';')"

step "round 3: two conflict copies of one directory name from one node in one second"
# A's directory rd loses the name to B's (a conflict copy rd.sync-conflict-T-A);
# then A deletes B's rd and makes a new rd, while B adds a file to its rd: A's
# new rd loses the name too, in the same second, so it would get the same
# conflict name. Both copies, and every file in them, must stay visible.
sync_umount B
SB=$(store_of B)
"$PY" -c 'import time; time.sleep(1.02 - time.time() % 1)'   # start just after a second boundary
t_start=$(date +%s)
kvs A mkdir rd >/dev/null
kvs A set rd/first "first rd of A" >/dev/null
kvs B mkdir rd >/dev/null
kvs B set rd/fromB "rd of B" >/dev/null
kvs B sync "$SB" --peer "127.0.0.1:$PA" -q >/dev/null || fail "kvfs sync B (round 3, 1) failed"
kvs A rm -r rd >/dev/null
kvs A mkdir rd >/dev/null
kvs A set rd/second "second rd of A" >/dev/null
kvs B set rd/laterB "added on B" >/dev/null
kvs B sync "$SB" --peer "127.0.0.1:$PA" -q >/dev/null || fail "kvfs sync B (round 3, 2) failed"
kvs B sync "$SB" --peer "127.0.0.1:$PA" -q >/dev/null || fail "kvfs sync B (round 3, 3) failed"
same_second=$(( $(date +%s) == t_start ))
log "round 3 ran within one second: $same_second; conflict copies on A: $(kvs A conflicts "$(store_of A)" | grep '^rd' | tr '\n' ' ')"
sync_mount B "peer=127.0.0.1:$PA"
wait_trees_equal 30 "after round 3" "$A" "$B"
lost=""
for side in "$A" "$B"; do
  for content in "first rd of A" "second rd of A" "added on B"; do
    b grep -rqxF "$content" "$side" || lost+="'$content' is in no file of $side; "
  done
done
hidden="A hides: $(hidden_objects A | tr '\n' ' '); B hides: $(hidden_objects B | tr '\n' ' ')"
[[ -z $lost ]] || fail "files lost after round 3 (ran within one second: $same_second): $lost ($hidden)"
assert_eq "A hides: ; B hides: " "$hidden" "live objects missing from the listings after round 3"
for side in "$A" "$B"; do
  n=$(b find "$side" -maxdepth 1 -name 'rd.sync-conflict-*' | grep -c . || true)
  assert_eq 2 "$n" "rd.sync-conflict-* copies on $side"
done

step "round 4: a name clash whose conflict name is already taken"
# A's 'sq' loses the name to B's later 'sq', so A's is shown as
# sq.sync-conflict-<its stamp>-<A>; a file of that very name already exists on
# A (made by the user, or a copy from elsewhere). All three files must stay
# visible, and both peers must show the same tree.
sync_umount B
kvs A set sq "sq of A" >/dev/null
stamp=$(kvs A stat sq | sed -n 's/^stamp: //p')
kvs B set sq "sq of B" >/dev/null
taken=$("$PY" - "$stamp" <<'EOF'
import re, sys
# stamp: 2026-11-22T21:00:17.627Z/LOGICAL/NODE -> the conflict name of merge.cc
m = re.match(r"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z/(\d+)/([0-9a-f]+)$", sys.argv[1])
Y, Mo, D, h, mi, s, ms, lg, node = m.groups()
print("sq.sync-conflict-%s%s%s-%s%s%s.%s%s-%s" % (Y, Mo, D, h, mi, s, ms,
      "." + lg if lg != "0" else "", node[:8]))
EOF
) || fail "cannot parse the stamp '$stamp' of sq on A"
kvs A set "$taken" "squatter on A" >/dev/null
log "A's sq has stamp $stamp; A also holds a file named $taken"
sync_mount B "peer=127.0.0.1:$PA"
problems=""
if ! wait_trees_equal_quiet 15 "$A" "$B"; then
  problems+="the trees of A and B still differ after 15 s: $(diff <(tree_listing "$A") <(tree_listing "$B") | tr '\n' ' ' || true); "
fi
for side in "$A" "$B"; do
  for content in "sq of A" "sq of B" "squatter on A"; do
    b grep -rqxF "$content" "$side" || problems+="'$content' is in no file of $side; "
  done
done
hidden="A hides: $(hidden_objects A | tr '\n' ' '); B hides: $(hidden_objects B | tr '\n' ' ')"
[[ $hidden == "A hides: ; B hides: " ]] || problems+="live objects missing from the listings: $hidden; "
[[ -z $problems ]] || fail "round 4 (a name-clash loser whose conflict name '$taken' is taken): $problems"
# The names are a function of the objects alone: B's sq keeps 'sq', the squatter
# (the later name stamp) keeps its name, A's sq moves on to its displaced name.
for side in "$A" "$B"; do
  assert_file_eq "$side/sq" "sq of B" "sq on $side"
  assert_file_eq "$side/$taken" "squatter on A" "$taken on $side"
  moved=$(b find "$side" -maxdepth 1 -name "$taken-*" -printf '%f\n')
  assert_eq 1 "$(grep -c . <<<"$moved")" "names $taken-* on $side ($moved)"
  assert_file_eq "$side/$moved" "sq of A" "A's sq on $side, at $moved"
done
log "round 4: A's sq is shown as $moved on both"

sync_umount B
sync_umount A

step "kvfs check: both stores are sound"
for n in A B; do check_store "$(store_of "$n")"; done
