#!/usr/bin/env bash
# nospace: a full disk gives ENOSPC to the writer and corrupts nothing (SPEC,
# Reliability). The store lives on a small tmpfs that this test mounts itself; a
# writer fills it through the mount and must get ENOSPC (from write, fsync or close),
# the CLI must fail with a clear message, and everything written before is intact,
# before and after a remount. Freeing space makes writes work again, and the
# content of a deleted file is given back to the store within seconds.
. "$(dirname "$0")/lib.sh"

it_setup
[[ $(id -u) == 0 ]] || { log "SKIP: needs root to mount a small tmpfs"; exit 77; }

SMALL=$IT_TMP/small
mkdir -p "$SMALL"
b mount -t tmpfs -o size=48m kvfs-it-nospace "$SMALL" || fail "could not mount a 48 MiB tmpfs"
# Hooks run after the FUSE mounts are undone, so the store is closed by then.
IT_HOOKS+=("wait_daemon_gone '$MNT' 20; run_bounded 10 umount '$SMALL' || run_bounded 10 umount -l '$SMALL'")
STORE=$SMALL/store
new_store "$STORE"
it_mount

step "files written before the disk fills"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$IT_TMP/keep.bin"
b cp "$IT_TMP/keep.bin" "$MNT/keep.bin"
b mkdir -p "$MNT/etc"
write_file "$MNT/etc/config" "setting=1"
b sync -f "$MNT/keep.bin"

step "a writer fills the disk through the mount and gets ENOSPC"
# Writes 1 MiB blocks until something fails; prints where and with which errno.
# 200 MiB is far more than the tmpfs holds, so finishing means ENOSPC never came.
out=$(run_bounded 120 "$PY" - "$MNT/fill" <<'EOF'
import errno, os, sys
path = sys.argv[1]
block = os.urandom(1 << 20)
stage = "open"
try:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    stage = "write"
    for _ in range(200):
        os.write(fd, block)
    stage = "fsync"
    os.fsync(fd)
    stage = "close"
    os.close(fd)
    print("NO-ERROR")
except OSError as e:
    print(stage, errno.errorcode.get(e.errno, str(e.errno)))
EOF
) || fail "the fill probe did not run (rc=$?): $out"
log "fill probe: $out"
case $out in
  "write ENOSPC" | "fsync ENOSPC" | "close ENOSPC") ;;
  *) fail "expected ENOSPC from write, fsync or close when the disk is full; got: $out" ;;
esac

step "the mount still serves, and what was there is intact"
b test -d "$MNT/etc" || fail "the mount stopped serving after ENOSPC"
assert_same_file "$IT_TMP/keep.bin" "$MNT/keep.bin" "a 3 MiB file written before the disk filled"
assert_file_eq "$MNT/etc/config" "setting=1" "a small file written before the disk filled"

step "the CLI on a full disk: a clear error, a non-zero exit, nothing changed"
head -c $((40 * 1024 * 1024)) /dev/urandom >"$IT_TMP/big.bin"
rc=0
out=$(bsh '"$1" --store "$2" set cli-big < "$3"' "$KVFS_BIN" "$STORE" "$IT_TMP/big.bin" 2>&1) || rc=$?
(( rc != 0 )) || fail "kvfs set of 40 MiB on a full disk succeeded"
(( rc != 124 && rc != 137 )) || fail "kvfs set on a full disk timed out"
assert_contains "$out" "kvfs: " "error line of kvfs set on a full disk"
assert_contains "${out,,}" "space" "kvfs set on a full disk names the cause"
log "kvfs set on a full disk: exit $rc: $out"
rc=0
kv get cli-big >/dev/null 2>&1 || rc=$?
(( rc != 0 )) || fail "kvfs get cli-big succeeded: a failed set left a value behind"
got=$(kv get etc/config) || fail "kvfs get etc/config failed after ENOSPC"
assert_eq "setting=1" "$got" "kvfs get after the failed set"

step "freeing space makes writes work again"
# rm while the disk is still full. LMDB needs a few free pages to record a delete,
# so the rm may fail (ENOSPC, then it is retried after freeing space), or succeed
# with its purge waiting: the purge is retried about once a second and must get
# through once the disk has some room (here: the tmpfs grows by 8 MiB).
rm_rc=0
rm_out=$(b rm -f "$MNT/fill" 2>&1) || rm_rc=$?
log "rm of the filler on a full disk: exit $rm_rc $rm_out"
b mount -o remount,size=56m "$SMALL" || fail "could not grow the tmpfs to 56 MiB"
if (( rm_rc != 0 )); then
  assert_contains "$rm_out" "No space left on device" "why rm failed on a full disk"
  b rm -f "$MNT/fill"
fi
# Give the daemon's once-a-second purge two rounds before anything else takes the
# freed space (a write would, and the purge would then wait for space again).
sleep 2.5
write_file "$MNT/after" "written after freeing space"
# 20 MiB fit only once the filler's content (~40 MiB) is purged from the store (the daemon
# purges forgotten tombstones in batches, about once a second, and at once when a
# write finds the disk full). Space must come back within seconds of the rm.
head -c $((20 * 1024 * 1024)) /dev/urandom >"$IT_TMP/refill.bin"
refilled=0
for ((i = 0; i < 30; i++)); do
  if b cp "$IT_TMP/refill.bin" "$MNT/refill.bin" 2>/dev/null; then refilled=1; break; fi
  sleep 0.1
done
(( refilled )) || fail "a 20 MiB file still does not fit 3 s after rm of the filler: deleted content is not purged"
assert_same_file "$IT_TMP/refill.bin" "$MNT/refill.bin" "the 20 MiB file written after the rm"
b rm -f "$MNT/refill.bin"
assert_file_eq "$MNT/after" "written after freeing space" "a write after rm of the filler"
kv set cli-small "small value" >/dev/null || fail "kvfs set after freeing space failed"
assert_file_eq "$MNT/cli-small" "small value" "kvfs set after freeing space, seen by the mount"

step "everything intact after unmount and remount"
it_remount
assert_same_file "$IT_TMP/keep.bin" "$MNT/keep.bin" "the 3 MiB file after remount"
assert_file_eq "$MNT/etc/config" "setting=1" "the small file after remount"
assert_file_eq "$MNT/after" "written after freeing space" "the post-ENOSPC file after remount"
assert_missing "$MNT/fill" "the filler file came back after remount"
it_umount

step "kvfs check: the store is sound"
check_store
