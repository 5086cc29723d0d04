#!/usr/bin/env bash
# mount_helper: mount(8) integration through mount.kvfs — `mount -t kvfs`,
# `mount -a` and `mount DIR` from an fstab (noauto respected), `umount DIR`;
# and read-only mounts (`-o ro`) refusing every write with EROFS.
. "$(dirname "$0")/lib.sh"

it_setup

# mount(8) looks for /sbin/mount.<type>. Link ours there for the test unless
# one is installed already (then that one is what mount(8) runs).
HELPER=/sbin/mount.kvfs
if [[ -e $HELPER || -L $HELPER ]]; then
  log "using the installed $HELPER -> $(readlink -f "$HELPER")"
else
  [[ -n $MOUNT_KVFS_BIN && -x $MOUNT_KVFS_BIN ]] \
    || fail "no $HELPER and MOUNT_KVFS_BIN ('$MOUNT_KVFS_BIN') is not an executable mount.kvfs"
  ln -s "$MOUNT_KVFS_BIN" "$HELPER" || fail "cannot link $HELPER"
  IT_HOOKS+=("[[ \$(readlink '$HELPER') == '$MOUNT_KVFS_BIN' ]] && rm -f '$HELPER'")
fi

D1=$IT_TMP/m1
D2=$IT_TMP/m2
D3=$IT_TMP/m3
mkdir -p "$D1" "$D2" "$D3"
IT_MOUNTS+=("$D1" "$D2" "$D3")
STORE2=$IT_TMP/store2
new_store "$STORE2"

# um DIR: umount(8), then the daemon must go.
um() {
  local out
  out=$(b umount "$1" 2>&1) || fail "umount $1 failed: $out"
  wait_until 10 "unmount $1" not_mounted "$1" || fail "$1 still mounted after umount"
  wait_daemon_gone "$1" 20 || fail "daemon for $1 still running 20 s after umount: $(pids_mentioning "$1")"
}

step "mount -t kvfs STORE DIR"
out=$(run_bounded 30 mount -t kvfs "$STORE" "$D1" 2>&1) || fail "mount -t kvfs $STORE $D1 failed: $out"
wait_until 10 "mount" is_mounted "$D1" || fail "$D1 is not a mount point after mount -t kvfs returned"
fstype=$(findmnt -n -o FSTYPE --mountpoint "$D1") || true
assert_contains "$fstype" "kvfs" "file system type of the mount in /proc/mounts"
src=$(findmnt -n -o SOURCE --mountpoint "$D1") || true
log "findmnt: type=$fstype source=$src"
write_file "$D1/via-helper" "written through mount -t kvfs"
got=$(kv get via-helper) || fail "kvfs get via-helper failed"
assert_eq "written through mount -t kvfs" "$got" "kvfs get of a file written via the mount.kvfs mount"
um "$D1"

step "mount -t kvfs -o ro: writes fail with EROFS"
out=$(run_bounded 30 mount -t kvfs -o ro "$STORE" "$D1" 2>&1) || fail "mount -t kvfs -o ro failed: $out"
wait_until 10 "mount" is_mounted "$D1" || fail "$D1 not mounted after mount -o ro"
findmnt -n -o OPTIONS --mountpoint "$D1" | grep -qE '(^|,)ro(,|$)' \
  || fail "mount options of $D1 do not include ro: $(findmnt -n -o OPTIONS --mountpoint "$D1")"
assert_file_eq "$D1/via-helper" "written through mount -t kvfs" "read on a ro mount"
assert_fails_msg "Read-only file system" bash -c 'echo x > "$1"' _ "$D1/new"
expect_errno EROFS creat "$D1/new"
expect_errno EROFS open_w "$D1/via-helper"
expect_errno EROFS mkdir "$D1/dir"
expect_errno EROFS unlink "$D1/via-helper"
expect_errno EROFS rename "$D1/via-helper" "$D1/renamed"
expect_errno EROFS chmod "$D1/via-helper" 600
expect_errno EROFS setxattr "$D1/via-helper" user.x 1
expect_errno EROFS truncate "$D1/via-helper" 0
expect_errno EROFS symlink x "$D1/sym"
assert_file_eq "$D1/via-helper" "written through mount -t kvfs" "content after refused writes"
um "$D1"

step "kvfs mount -o ro"
it_mount "$D1" "$STORE" -- -o ro
expect_errno EROFS creat "$D1/new2"
expect_errno EROFS open_w "$D1/via-helper"
assert_file_eq "$D1/via-helper" "written through mount -t kvfs" "read on a kvfs mount -o ro"
it_umount "$D1"

step "mount -a from a test fstab (noauto left alone)"
FSTAB=$IT_TMP/fstab
cat >"$FSTAB" <<EOF
# test fstab for kvfs
$STORE   $D2  kvfs  defaults,_netdev  0 0
$STORE2  $D3  kvfs  noauto,_netdev    0 0
EOF
out=$(run_bounded 60 mount -T "$FSTAB" -a 2>&1) || fail "mount -T $FSTAB -a failed: $out"
wait_until 10 "mount -a" is_mounted "$D2" || fail "$D2 (auto line) not mounted by mount -a: $out"
if is_mounted "$D3"; then fail "$D3 (noauto line) was mounted by mount -a"; fi
assert_file_eq "$D2/via-helper" "written through mount -t kvfs" "file seen through the fstab mount"
write_file "$D2/from-fstab" "fstab"
# mount -a again must not mount it twice.
out=$(run_bounded 60 mount -T "$FSTAB" -a 2>&1) || fail "second mount -a failed: $out"
assert_eq "1" "$(awk -v m="$D2" '$2 == m' /proc/mounts | wc -l | tr -d ' ')" "mounts on $D2 after a second mount -a"

step "mount DIR of a noauto fstab line"
out=$(run_bounded 30 mount -T "$FSTAB" "$D3" 2>&1) || fail "mount -T $FSTAB $D3 failed: $out"
wait_until 10 "mount DIR" is_mounted "$D3" || fail "$D3 not mounted by mount DIR"
write_file "$D3/second-store" "two"
got=$(b "$KVFS_BIN" --store "$STORE2" get second-store) || fail "kvfs get from store2 failed"
assert_eq "two" "$got" "kvfs get from the second store"
expect_errno ENOENT stat "$D3/from-fstab"
um "$D3"
um "$D2"
got=$(kv get from-fstab) || fail "kvfs get from-fstab after umount failed"
assert_eq "fstab" "$got" "file written through the fstab mount, read by the CLI"

step "mount -t kvfs with extra FUSE options passed through"
out=$(run_bounded 30 mount -t kvfs -o rw,noatime,allow_other "$STORE" "$D1" 2>&1) \
  || fail "mount -t kvfs -o rw,noatime,allow_other failed: $out"
wait_until 10 "mount" is_mounted "$D1" || fail "$D1 not mounted"
opts=$(findmnt -n -o OPTIONS --mountpoint "$D1")
assert_contains "$opts" "allow_other" "allow_other passed through to the kernel mount ($opts)"
um "$D1"

step "kvfs mount -f stays in the foreground until unmounted"
"$KVFS_BIN" mount "$STORE" "$D1" -f >"$IT_TMP/fg.log" 2>&1 &
fg_pid=$!
wait_until 20 "foreground mount" is_mounted "$D1" || { kill "$fg_pid" 2>/dev/null; fail "kvfs mount -f did not mount within 20 s: $(cat "$IT_TMP/fg.log")"; }
sleep 0.5
kill -0 "$fg_pid" 2>/dev/null || fail "kvfs mount -f returned while the mount is up (not foreground)"
assert_file_eq "$D1/from-fstab" "fstab" "read through a foreground mount"
out=$(b "$KVFS_BIN" umount "$D1" 2>&1) || fail "kvfs umount of the foreground mount failed: $out"
for ((i = 0; i < 200; i++)); do kill -0 "$fg_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$fg_pid" 2>/dev/null && { kill "$fg_pid"; fail "kvfs mount -f still running 20 s after kvfs umount"; }
rc=0; wait "$fg_pid" || rc=$?
assert_eq "0" "$rc" "exit status of kvfs mount -f after a clean unmount"

step "kvfs umount of a busy mount fails and keeps the mount"
it_mount "$D1" "$STORE"
# (bounded by sleep itself; killed below)
bash -c 'cd "$1" && exec sleep 30' _ "$D1" &
busy=$!
sleep 0.5
rc=0
out=$(b "$KVFS_BIN" umount "$D1" 2>&1) || rc=$?
kill "$busy" 2>/dev/null; wait "$busy" 2>/dev/null || true
if (( rc == 0 )); then
  # Acceptable only if the mount is really gone (a lazy unmount); then it must
  # not have left a broken mount behind.
  in_proc_mounts "$D1" && fail "kvfs umount exited 0 but $D1 is still mounted"
  log "kvfs umount of a busy mount succeeded (lazy); output: $out"
else
  [[ -n $out ]] || fail "kvfs umount of a busy mount failed (exit $rc) without saying why"
  is_mounted "$D1" || fail "kvfs umount failed (exit $rc) yet $D1 is no longer a working mount"
  assert_file_eq "$D1/from-fstab" "fstab" "mount still serves after a refused umount"
  it_umount "$D1"
fi
wait_daemon_gone "$D1" 20 || fail "daemon of $D1 still running after the umount"

step "bad mount requests fail fast with a message and leave nothing mounted"
rc=0
out=$(run_bounded 30 "$KVFS_BIN" mount "$IT_TMP/no-such-store" "$D1" 2>&1) || rc=$?
(( rc != 0 && rc != 124 )) || fail "kvfs mount of a missing store: exit $rc (expected a quick non-zero exit); output: $out"
[[ -n $out ]] || fail "kvfs mount of a missing store failed silently"
is_mounted "$D1" && fail "kvfs mount of a missing store left a mount on $D1"
rc=0
out=$(run_bounded 30 "$KVFS_BIN" mount "$STORE" "$IT_TMP/no-such-dir" 2>&1) || rc=$?
(( rc != 0 && rc != 124 )) || fail "kvfs mount on a missing mount point: exit $rc; output: $out"
[[ -n $out ]] || fail "kvfs mount on a missing mount point failed silently"
rc=0
out=$(run_bounded 30 mount -t kvfs "$IT_TMP/no-such-store" "$D1" 2>&1) || rc=$?
(( rc != 0 && rc != 124 )) || fail "mount -t kvfs of a missing store: exit $rc; output: $out"
is_mounted "$D1" && fail "mount -t kvfs of a missing store left a mount on $D1"
no_daemon "$IT_TMP/no-such-store" || fail "a daemon for the missing store is running: $(pids_mentioning "$IT_TMP/no-such-store")"
