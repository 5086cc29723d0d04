#!/usr/bin/env bash
# unlink: unlinks are answered before their commit and committed in batches
# (src/fs/deferred_unlinks.h). Nothing a user can see may tell: through the mount,
# through the CLI, through an open fd, and after unmount + remount.
. "$(dirname "$0")/lib.sh"

it_setup
it_mount

step "rm -rf of 400 files: gone at once through the mount and through the CLI"
bsh 'cd "$1" && mkdir -p t/a t/b && for i in $(seq 1 200); do echo "a$i" > "t/a/f$i"; echo "b$i" > "t/b/f$i"; done' "$MNT"
assert_eq "400" "$(b find "$MNT/t" -type f | wc -l | tr -d ' ')" "files before rm -rf"
b rm -rf "$MNT/t"
assert_missing "$MNT/t" "t is still there after rm -rf"
assert_eq "" "$(b ls -A "$MNT")" "the mount's root right after rm -rf"
# The CLI reads the store itself; it has the mount commit its answered unlinks first.
out=$(kv ls) || fail "kvfs ls failed right after rm -rf"
assert_eq "" "$out" "kvfs ls right after rm -rf through the mount"

step "rm, then at once a new file under the same name"
write_file "$MNT/same" "old"
bsh 'rm "$1/same" && printf new > "$1/same"' "$MNT"
assert_file_eq "$MNT/same" "new" "the new file under the reused name"
assert_eq "new" "$(kv get same)" "kvfs get of the reused name"

step "rm on the mount, then at once kvfs set of the same name: the new value stays"
write_file "$MNT/cli" "old"
bsh 'rm "$1/cli" && "$2" --store "$3" set cli fromcli' "$MNT" "$KVFS_BIN" "$STORE"
assert_eq "fromcli" "$(kv get cli)" "kvfs get of the name set right after rm"
assert_file_eq "$MNT/cli" "fromcli" "the name set by the CLI right after rm, through the mount"

step "rm of one of two hard links: nlink 1 at once through the other"
write_file "$MNT/h1" "linked"
b ln "$MNT/h1" "$MNT/h2"
bsh 'rm "$1/h1" && stat -c %h "$1/h2" > "$2"' "$MNT" "$IT_TMP/nlink"
assert_eq "1" "$(cat "$IT_TMP/nlink")" "nlink of h2 read right after rm h1"
assert_file_eq "$MNT/h2" "linked" "content through the remaining link"

step "an open file removed: fstat says nlink 0, its content stays readable"
write_file "$MNT/open" "still here"
out=$(b "$PY" -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.unlink(sys.argv[1])
print(os.fstat(fd).st_nlink, os.pread(fd, 100, 0).decode(), os.path.exists(sys.argv[1]))
' "$MNT/open") || fail "reading an unlinked open file failed"
assert_eq "0 still here False" "$out" "fstat nlink, content, exists() after unlink of an open file"

step "the directory's mtime moves with rm, and the store keeps the time stat showed"
b mkdir "$MNT/d"
write_file "$MNT/d/x" "x"
b touch -d '2020-01-01 00:00:00 UTC' "$MNT/d"
b rm "$MNT/d/x"
shown=$(b stat -c %y "$MNT/d")
[[ $shown != 2020-* ]] || fail "the directory's mtime did not move with rm: $shown"

step "rm -rf of 1,000 files, then unmount at once: nothing comes back"
bsh 'cd "$1" && mkdir many && for i in $(seq 1 1000); do : > "many/f$i"; done' "$MNT"
b rm -rf "$MNT/many"
it_remount
assert_missing "$MNT/many" "many is back after remount"
assert_missing "$MNT/t" "t is back after remount"
assert_missing "$MNT/h1" "h1 is back after remount"
assert_missing "$MNT/open" "the unlinked open file is back after remount"
assert_file_eq "$MNT/same" "new" "the reused name after remount"
assert_file_eq "$MNT/cli" "fromcli" "the name the CLI set right after rm, after remount"
assert_eq "$shown" "$(b stat -c %y "$MNT/d")" "the directory's mtime after remount (as stat showed it)"

it_umount

step "kvfs check: the store is sound"
check_store
