#!/usr/bin/env bash
# powercut: a power cut that leaves the mount's newest meta pages on disk without the
# pages they name (the kernel writes LMDB's pages back in any order) does not damage
# the store; the next mount sets it back to its last flush (src/store/checkpoint.h)
# and redoes what fsync made durable.
#
# Staged with files: the mount flushes when it starts, so a copy of data.mdb taken
# right after is what the disk holds; the cut is that copy with the final file's two
# meta pages over its first two, and the redo log as it was. A reboot is a new
# $KVFS_BOOT_ID. The daemon's next flush is 10 s after its start; the writes before
# the cut take well under that.
. "$(dirname "$0")/lib.sh"

it_setup
PAGE=$(getconf PAGESIZE)
DB=$STORE/db

step "mount (boot a), copy data.mdb right after the mount's first flush"
export KVFS_BOOT_ID=powercut-boot-a
it_mount
cp "$DB/data.mdb" "$IT_TMP/disk.mdb"

step "write through the mount: files fsynced, a file rewritten and fsynced"
bsh 'for i in $(seq 1 50); do printf "file %s\n" "$i" > "$1/f$i"; done; sync "$1/f50"' "$MNT"
b "$PY" -c '
import os, sys
path = sys.argv[1]
for i in range(30):  # each rewrite frees the pages of the one before
    with open(path, "wb") as f:
        f.write(bytes([65 + i]) * 200000)
        f.flush()
        os.fsync(f.fileno())
' "$MNT/big"
b mkdir -p "$MNT/d/e"
write_file "$MNT/d/e/last" "fsynced last"
b "$PY" -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd)' "$MNT/d/e/last"

step "power cut: kill -9 the daemon, put back the disk as the cut left it"
pid=$(pids_mentioning "$MNT" | head -n 1)
[[ -n $pid ]] || fail "no daemon serves $MNT"
kill -9 "$pid"
wait_until 10 "daemon gone" no_daemon "$MNT" || fail "daemon $pid survived kill -9"
force_unmount "$MNT"
cp "$DB/redo.log" "$IT_TMP/redo.log"
dd if="$DB/data.mdb" of="$IT_TMP/disk.mdb" bs="$PAGE" count=2 conv=notrunc status=none
cp "$IT_TMP/disk.mdb" "$DB/data.mdb"
cp "$IT_TMP/redo.log" "$DB/redo.log"

step "without the restore (the same boot) the cut store is damaged"
cp -a "$STORE" "$IT_TMP/copy"
if run_bounded 60 "$KVFS_BIN" --store "$IT_TMP/copy" check >"$IT_TMP/copy.out" 2>&1; then
  fail "kvfs check found the torn store sound without a restore: the staging cut nothing"
fi

step "after the reboot (boot b) the mount shows what fsync made durable"
export KVFS_BOOT_ID=powercut-boot-b
it_mount
assert_file_eq "$MNT/f50" "file 50
" "f50, fsynced"
assert_eq "200000" "$(b stat -c %s "$MNT/big")" "size of big, rewritten and fsynced 30 times"
assert_eq "0" "$(b tr -d "^" <"$MNT/big" | wc -c | tr -d " ")" "bytes of big other than its last content (^)"
assert_file_eq "$MNT/d/e/last" "fsynced last" "the last file fsynced before the cut"
# The store is opened before the daemon detaches: `kvfs mount` itself says so.
assert_contains "$(cat "$IT_TMP/mount.$(basename "$MNT").log")" "set back to its last flush" \
  "what kvfs mount printed"
it_umount
check_store
log "ok"
