#!/usr/bin/env bash
# bigfile: a 100 MiB file copied in and compared (also after a remount, so the
# bytes come from the store and not the page cache); writes in the middle of a
# big file; sparse writes read zeros in the hole; truncate shrink and grow; and
# once the big files are deleted, the next mount compacts the store.
. "$(dirname "$0")/lib.sh"

it_setup
it_mount

BIG_MB=${BIG_MB:-100}
size=$((BIG_MB * 1024 * 1024))

step "cp of a ${BIG_MB} MiB random file + cmp"
run_bounded 60 head -c "$size" /dev/urandom >"$IT_TMP/big"
run_bounded 180 cp "$IT_TMP/big" "$MNT/big" || fail "cp of ${BIG_MB} MiB into the mount failed"
assert_eq "$size" "$(b stat -c %s "$MNT/big")" "size of the copied file"
assert_same_file "$IT_TMP/big" "$MNT/big" "${BIG_MB} MiB file read back"

step "partial overwrite in the middle of the big file"
off=$((size / 2 + 12345))
head -c 5000 /dev/urandom >"$IT_TMP/patch"
for f in "$IT_TMP/big" "$MNT/big"; do
  run_bounded 60 dd if="$IT_TMP/patch" of="$f" bs=1 seek="$off" conv=notrunc status=none \
    || fail "dd patch into $f failed"
done
assert_eq "$size" "$(b stat -c %s "$MNT/big")" "size after writing in the middle"
assert_same_file "$IT_TMP/big" "$MNT/big" "big file after an unaligned 5000-byte write at $off"

step "append to the big file"
bsh 'printf tail >> "$1"' "$MNT/big"
printf tail >>"$IT_TMP/big"
assert_same_file "$IT_TMP/big" "$MNT/big" "big file after append"

step "sparse write (dd seek=)"
head -c 4096 /dev/urandom >"$IT_TMP/block"
run_bounded 30 dd if="$IT_TMP/block" of="$MNT/sparse" bs=4096 seek=1000 status=none \
  || fail "dd seek=1000 into the mount failed"
assert_eq "$((4096 * 1001))" "$(b stat -c %s "$MNT/sparse")" "size of the sparse file"
run_bounded 30 cmp -n $((4096 * 1000)) "$MNT/sparse" /dev/zero \
  || fail "the hole of the sparse file (first 4096000 bytes) does not read as zeros"
run_bounded 30 dd if="$MNT/sparse" of="$IT_TMP/block.back" bs=4096 skip=1000 status=none
assert_same_file "$IT_TMP/block" "$IT_TMP/block.back" "data after the hole"
# A hole inside a block: write 10 bytes at 100, then 10 bytes at 70000.
bsh 'printf 0123456789 | dd of="$1" bs=1 seek=100 status=none conv=notrunc' "$MNT/holes"
bsh 'printf abcdefghij | dd of="$1" bs=1 seek=70000 status=none conv=notrunc' "$MNT/holes"
bsh '{ head -c 100 /dev/zero; printf 0123456789; head -c 69890 /dev/zero; printf abcdefghij; } > "$1"' "$IT_TMP/holes"
assert_same_file "$IT_TMP/holes" "$MNT/holes" "two small writes with holes around them"

step "offsets past 4 GiB (a 5 GiB sparse file)"
out=$(b "$PY" - "$MNT/huge" <<'EOF2'
import os, sys
p = sys.argv[1]
G = 1 << 30
fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.pwrite(fd, b"low", 1000)
os.pwrite(fd, b"past-4G", 4 * G + 12345)
os.pwrite(fd, b"end", 5 * G - 3)
os.close(fd)
fd = os.open(p, os.O_RDONLY)
st = os.fstat(fd)
res = [st.st_size,
       os.pread(fd, 3, 1000) == b"low",
       os.pread(fd, 7, 4 * G + 12345) == b"past-4G",
       os.pread(fd, 3, 5 * G - 3) == b"end",
       os.pread(fd, 4096, 3 * G) == bytes(4096),        # in the hole
       os.pread(fd, 7, 12345) == bytes(7)]              # 4 GiB below the write: no aliasing
os.close(fd)
print(*res)
EOF2
) || fail "5 GiB sparse file probe failed: $out"
assert_eq "$((5 * 1024 * 1024 * 1024)) True True True True True" "$out" "size and bytes of a 5 GiB sparse file"
b rm "$MNT/huge"

step "truncate -s shrink / grow"
head -c 200000 /dev/urandom >"$IT_TMP/t"
b cp "$IT_TMP/t" "$MNT/t"
b truncate -s 1000 "$MNT/t"
assert_eq "1000" "$(b stat -c %s "$MNT/t")" "size after truncate -s 1000"
head -c 1000 "$IT_TMP/t" >"$IT_TMP/t.1000"
assert_same_file "$IT_TMP/t.1000" "$MNT/t" "content after shrinking to 1000"
b truncate -s 150000 "$MNT/t"
assert_eq "150000" "$(b stat -c %s "$MNT/t")" "size after truncate -s 150000"
# The grown part must be zeros, not the bytes that were there before the shrink.
bsh '{ cat "$1"; head -c 149000 /dev/zero; } > "$2"' "$IT_TMP/t.1000" "$IT_TMP/t.grown"
assert_same_file "$IT_TMP/t.grown" "$MNT/t" "grown file: old prefix + zeros (no stale data)"
b truncate -s 0 "$MNT/t"
assert_eq "0" "$(b stat -c %s "$MNT/t")" "size after truncate -s 0"
assert_eq "" "$(b cat "$MNT/t")" "content after truncate -s 0"
# Shrink to a non-block-aligned size inside the big file, then write past the end.
b truncate -s 4097 "$MNT/big"
head -c 4097 "$IT_TMP/big" >"$IT_TMP/big.4097"
assert_same_file "$IT_TMP/big.4097" "$MNT/big" "big file truncated to 4097"
bsh 'printf Z | dd of="$1" bs=1 seek=10000 conv=notrunc status=none' "$MNT/big"
bsh '{ cat "$1"; head -c 5903 /dev/zero; printf Z; } > "$2"' "$IT_TMP/big.4097" "$IT_TMP/big.ext"
assert_same_file "$IT_TMP/big.ext" "$MNT/big" "write past EOF after shrink leaves zeros, not old bytes"

step "remount, then everything read back from the store"
run_bounded 180 cp "$IT_TMP/big" "$MNT/big2" || fail "second cp of the big file failed"
it_remount
assert_same_file "$IT_TMP/big" "$MNT/big2" "${BIG_MB} MiB file after remount"
assert_same_file "$IT_TMP/holes" "$MNT/holes" "sparse file after remount"
assert_same_file "$IT_TMP/big.ext" "$MNT/big" "truncated/extended file after remount"
assert_eq "0" "$(b stat -c %s "$MNT/t")" "size of t after remount"

step "deleted big files: the next mount compacts the store"
b rm "$MNT/big2"
b truncate -s 0 "$MNT/big"
data_mb() { echo $(( $(stat -c %s "$STORE/db/data.mdb") / 1024 / 1024 )); }
before=$(data_mb)
assert_gt "$before" "$((BIG_MB - 1))" "data.mdb MiB while it held a ${BIG_MB} MiB file"
it_remount  # the unmount purges the deleted content; the mount compacts
after=$(data_mb)
(( after < 16 )) || fail "data.mdb is still $after MiB after the remount (was $before MiB): not compacted"
assert_contains "$(cat "$STORE/log/mount.log")" "compacted the store" "the mount log"
assert_same_file "$IT_TMP/holes" "$MNT/holes" "sparse file after compaction"
run_bounded 30 dd if="$MNT/sparse" of="$IT_TMP/block.back2" bs=4096 skip=1000 status=none
assert_same_file "$IT_TMP/block" "$IT_TMP/block.back2" "data after the hole, after compaction"
write_file "$MNT/after-compaction" "still writable"
it_remount
assert_eq "still writable" "$(b cat "$MNT/after-compaction")" "a file written after compaction, after a remount"

it_umount

step "kvfs check: the store is sound"
check_store
