#!/usr/bin/env bash
# basic: shell reads and writes on the mount, and the CLI and the mount seeing
# each other's writes at once (no sleeps).
. "$(dirname "$0")/lib.sh"

it_setup
it_mount

step "echo > / echo >> / cat"
bsh 'echo hello > "$1"' "$MNT/greeting"
assert_file_eq "$MNT/greeting" $'hello\n' "after echo >"
bsh 'echo world >> "$1"' "$MNT/greeting"
assert_file_eq "$MNT/greeting" $'hello\nworld\n' "after echo >>"
assert_eq "12" "$(b stat -c %s "$MNT/greeting")" "size after append"
bsh 'echo again > "$1"' "$MNT/greeting"
assert_file_eq "$MNT/greeting" $'again\n' "after a second echo > (O_TRUNC)"

step "mount write -> kvfs get"
got=$(kv get greeting; printf x) || fail "kvfs get greeting failed"
assert_eq $'again\n' "${got%x}" "kvfs get of a file written through the mount"
b mkdir -p "$MNT/dir/sub"
write_file "$MNT/dir/sub/leaf" "nested value"
got=$(kv get dir/sub/leaf) || fail "kvfs get dir/sub/leaf failed"
assert_eq "nested value" "$got" "kvfs get of a nested file written through the mount"
ls_out=$(kv ls dir/sub) || fail "kvfs ls dir/sub failed"
assert_contains "$ls_out" "leaf" "kvfs ls dir/sub"

step "kvfs set -> immediate cat"
kv set fresh "value-one" >/dev/null || fail "kvfs set fresh failed"
assert_file_eq "$MNT/fresh" "value-one" "cat right after kvfs set of a new key"
b ls "$MNT" | grep -qx fresh || fail "ls of the mount does not list 'fresh' after kvfs set"

step "kvfs set over a file the kernel has cached"
# Read it through the mount first so the page cache and attributes are warm.
assert_file_eq "$MNT/greeting" $'again\n' "warm-up read"
kv set greeting "replaced by the CLI" >/dev/null || fail "kvfs set greeting failed"
assert_file_eq "$MNT/greeting" "replaced by the CLI" "cat right after kvfs set of a cached file"

step "kvfs set of a shorter value"
kv set shrink "a rather long value of forty-two bytes...." >/dev/null
assert_file_eq "$MNT/shrink" "a rather long value of forty-two bytes...." "long value"
kv set shrink "xy" >/dev/null
assert_file_eq "$MNT/shrink" "xy" "cat after kvfs set of a shorter value"
assert_eq "2" "$(b stat -c %s "$MNT/shrink")" "stat size after kvfs set of a shorter value"

step "kvfs set from stdin, binary-safe"
head -c 65536 /dev/urandom >"$IT_TMP/bin"
printf '\0\0\n\377' >>"$IT_TMP/bin"
bsh '"$1" --store "$2" set blob < "$3"' "$KVFS_BIN" "$STORE" "$IT_TMP/bin" \
  || fail "kvfs set blob < file failed"
assert_same_file "$IT_TMP/bin" "$MNT/blob" "binary value set from stdin, read through the mount"
b cp "$IT_TMP/bin" "$MNT/blob2"
bsh '"$1" --store "$2" get blob2 > "$3"' "$KVFS_BIN" "$STORE" "$IT_TMP/bin2" \
  || fail "kvfs get blob2 failed"
assert_same_file "$IT_TMP/bin" "$IT_TMP/bin2" "binary file cp'd into the mount, read by kvfs get"

step "kvfs rm -> the mount no longer shows it"
b stat "$MNT/fresh" >/dev/null
kv rm fresh >/dev/null || fail "kvfs rm fresh failed"
expect_errno ENOENT stat "$MNT/fresh"
if b ls "$MNT" | grep -qx fresh; then fail "ls still lists 'fresh' after kvfs rm"; fi

step "names the kernel saw missing appear at once after kvfs set/mkdir"
expect_errno ENOENT stat "$MNT/later"                  # a negative lookup, may be cached
expect_errno ENOENT stat "$MNT/later-dir"
kv set later "now here" >/dev/null || fail "kvfs set later failed"
assert_file_eq "$MNT/later" "now here" "cat of a name looked up (missing) just before kvfs set"
kv set later-dir/a/b "deep" >/dev/null || fail "kvfs set later-dir/a/b failed"
assert_file_eq "$MNT/later-dir/a/b" "deep" "cat of a key whose directories kvfs set created"
kv mkdir made-by-cli >/dev/null || fail "kvfs mkdir made-by-cli failed"
[[ -d $MNT/made-by-cli ]] || fail "directory made by kvfs mkdir not visible on the mount"
b ls "$MNT/later-dir" | grep -qx a || fail "ls of a CLI-created directory does not show its child"
kv rm -r later-dir >/dev/null || fail "kvfs rm -r later-dir failed"
expect_errno ENOENT stat "$MNT/later-dir/a/b"
expect_errno ENOENT stat "$MNT/later-dir"

step "mount rm -> kvfs get fails"
b rm "$MNT/blob2"
if kv get blob2 >/dev/null 2>&1; then fail "kvfs get blob2 succeeded after rm through the mount"; fi

step "cp, stat, statfs"
b cp "$MNT/greeting" "$MNT/copy"
assert_same_file "$MNT/greeting" "$MNT/copy" "cp within the mount"
assert_eq "regular file" "$(b stat -c %F "$MNT/copy")" "stat type"
b stat -f "$MNT" >/dev/null || fail "statfs (stat -f) on the mount failed"
b df "$MNT" >/dev/null || fail "df on the mount failed"
read -r f_blocks f_namelen < <(b stat -f -c '%b %l' "$MNT")
assert_gt "$f_blocks" 0 "statfs f_blocks (total blocks)"
assert_eq "255" "$f_namelen" "statfs f_namelen (longest name)"

step "open(O_TRUNC) and cp over a longer file truncate in the store"
out=$(b "$PY" - "$MNT/otrunc" <<'EOF2'
import os, sys
p = sys.argv[1]
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"0123456789")
os.close(fd)
fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"ab")
os.close(fd)
print(open(p, "rb").read().decode())
EOF2
) || fail "O_TRUNC probe failed: $out"
assert_eq "ab" "$out" "read through the mount after open(O_WRONLY|O_TRUNC) + write 'ab'"
got=$(kv get otrunc) || fail "kvfs get otrunc failed"
assert_eq "ab" "$got" "kvfs get after open(O_WRONLY|O_TRUNC) + write 'ab' (was 0123456789)"
head -c 300000 /dev/urandom >"$IT_TMP/long"
head -c 1000 /dev/urandom >"$IT_TMP/short"
b cp "$IT_TMP/long" "$MNT/cpover"
b cp "$IT_TMP/short" "$MNT/cpover"
bsh '"$1" --store "$2" get cpover > "$3"' "$KVFS_BIN" "$STORE" "$IT_TMP/cpover.kv" || fail "kvfs get cpover failed"
assert_same_file "$IT_TMP/short" "$IT_TMP/cpover.kv" "kvfs get after cp of a 1000-byte file over a 300000-byte one"

step "kvfs count sees mount writes"
n=$(kv count dir) || fail "kvfs count dir failed"
n=$(grep -oE "[0-9]+" <<<"$n" | head -n1)
assert_gt "${n:-0}" 0 "kvfs count dir (holds dir/sub/leaf)"

step "after unmount + remount the store has the final values"
it_remount
assert_file_eq "$MNT/greeting" "replaced by the CLI" "greeting after remount"
assert_file_eq "$MNT/shrink" "xy" "shrink after remount"
assert_file_eq "$MNT/dir/sub/leaf" "nested value" "nested file after remount"
assert_same_file "$IT_TMP/bin" "$MNT/blob" "binary value after remount"
assert_file_eq "$MNT/otrunc" "ab" "O_TRUNC-rewritten file after remount"
assert_same_file "$IT_TMP/short" "$MNT/cpover" "file cp'd over a longer one, after remount"
assert_missing "$MNT/fresh" "a key removed by kvfs rm is back after remount"

it_umount

step "kvfs check: the store is sound"
check_store
