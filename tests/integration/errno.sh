#!/usr/bin/env bash
# errno: what a POSIX file system refuses, kvfs refuses with the same errno —
# checked both through the shell tools' messages and exactly through python's
# os calls (errno_probe.py).
. "$(dirname "$0")/lib.sh"

it_setup
it_mount

b mkdir -p "$MNT/full/sub" "$MNT/empty" "$MNT/a/b/c"
write_file "$MNT/full/file" "x"
write_file "$MNT/file" "plain"
write_file "$MNT/other" "other"

step "rmdir of a non-empty directory: ENOTEMPTY"
assert_fails_msg "Directory not empty" rmdir "$MNT/full"
expect_errno ENOTEMPTY rmdir "$MNT/full"
[[ -d $MNT/full && -e $MNT/full/file ]] || fail "the non-empty directory or its file is gone after a refused rmdir"
b rm "$MNT/full/file"
b rmdir "$MNT/full/sub"
expect_errno OK rmdir "$MNT/full"

step "missing files: ENOENT"
assert_fails_msg "No such file or directory" cat "$MNT/missing"
expect_errno ENOENT open "$MNT/missing"
expect_errno ENOENT stat "$MNT/missing"
expect_errno ENOENT unlink "$MNT/missing"
expect_errno ENOENT rmdir "$MNT/missing"
expect_errno ENOENT rename "$MNT/missing" "$MNT/missing2"
expect_errno ENOENT creat "$MNT/nodir/file"
expect_errno ENOENT mkdir "$MNT/nodir/sub"
expect_errno ENOENT readlink "$MNT/missing"
expect_errno ENOENT chmod "$MNT/missing" 644
expect_errno ENOENT link "$MNT/missing" "$MNT/missing-link"

step "names of 255 and 256 bytes: ENAMETOOLONG"
n255=$(printf 'n%.0s' $(seq 1 255))
n256=${n255}x
assert_fails_msg "File name too long" touch "$MNT/$n256"
expect_errno ENAMETOOLONG creat "$MNT/$n256"
expect_errno ENAMETOOLONG mkdir "$MNT/$n256"
expect_errno ENAMETOOLONG stat "$MNT/$n256"
expect_errno ENAMETOOLONG rename "$MNT/file" "$MNT/$n256"
expect_errno ENAMETOOLONG symlink "target" "$MNT/$n256"
expect_errno OK creat "$MNT/$n255"
b ls "$MNT" | grep -qx "$n255" || fail "ls does not list the 255-byte name"
expect_errno OK rename "$MNT/$n255" "$MNT/${n255%n}m"
expect_errno OK unlink "$MNT/${n255%n}m"
# Multi-byte names: 85 x 3-byte UTF-8 = 255 bytes is fine, one more is not.
u255=$(printf '€%.0s' $(seq 1 85))
expect_errno OK mkdir "$MNT/$u255"
expect_errno ENAMETOOLONG mkdir "$MNT/${u255}x"
# Names are bytes: not valid UTF-8, and with newlines and backslashes.
out=$(b "$PY" - "$MNT" <<'EOF'
import os, sys
d = os.fsencode(sys.argv[1])
names = [b"\xff\xfe latin1 \xe9", b"new\nline", b"back\\slash", b" ", b"...", b"*?[]"]
for n in names:
    with open(os.path.join(d, n), "wb") as f:
        f.write(n)
listed = set(os.listdir(d))
for n in names:
    assert n in listed, n
    with open(os.path.join(d, n), "rb") as f:
        assert f.read() == n, n
    os.unlink(os.path.join(d, n))
print("ok")
EOF
) || fail "names with arbitrary bytes: $out"

step "existing names: EEXIST"
assert_fails_msg "File exists" mkdir "$MNT/file"
expect_errno EEXIST mkdir "$MNT/file"
expect_errno EEXIST mkdir "$MNT/empty"
expect_errno EEXIST creat_excl "$MNT/file"
expect_errno EEXIST symlink "x" "$MNT/file"
expect_errno EEXIST link "$MNT/other" "$MNT/file"
expect_errno EEXIST rename_noreplace "$MNT/other" "$MNT/file"
assert_file_eq "$MNT/file" "plain" "file untouched by the refused operations"
assert_file_eq "$MNT/other" "other" "source untouched by a refused RENAME_NOREPLACE"

step "rename of a directory into its own subdirectory: EINVAL"
assert_fails_msg "subdirectory of itself" mv "$MNT/a" "$MNT/a/b/c/"
expect_errno EINVAL rename "$MNT/a" "$MNT/a/b/c/a"
expect_errno EINVAL rename "$MNT/a" "$MNT/a/b"
[[ -d $MNT/a/b/c ]] || fail "a/b/c gone after a refused rename into itself"

step "type mismatches: ENOTDIR, EISDIR, EPERM"
expect_errno ENOTDIR creat "$MNT/file/child"
expect_errno ENOTDIR mkdir "$MNT/file/child"
expect_errno ENOTDIR rmdir "$MNT/file"
expect_errno ENOTDIR open_dironly "$MNT/file"
expect_errno ENOTDIR rename "$MNT/empty" "$MNT/file"
expect_errno EISDIR rename "$MNT/file" "$MNT/empty"
expect_errno EISDIR unlink "$MNT/empty"
expect_errno EISDIR open_w "$MNT/empty"
expect_errno EPERM link "$MNT/empty" "$MNT/dirlink"
expect_errno EINVAL readlink "$MNT/file"
b ln -s file "$MNT/sym"
expect_errno ELOOP open_nofollow "$MNT/sym"
b ln -s loop2 "$MNT/loop1"
b ln -s loop1 "$MNT/loop2"
expect_errno ELOOP open "$MNT/loop1"
expect_errno ENOTEMPTY rename "$MNT/empty" "$MNT/a"
b mkdir "$MNT/empty2"
expect_errno OK rename "$MNT/empty" "$MNT/empty2"
assert_missing "$MNT/empty" "source of a dir-over-empty-dir rename still exists"

step "xattrs: ENODATA for a missing one"
expect_errno ENODATA getxattr "$MNT/file" user.none
expect_errno ENODATA removexattr "$MNT/file" user.none

step "the mount survives all of that"
assert_file_eq "$MNT/file" "plain" "file content at the end"
n=$(b ls -A "$MNT" | wc -l | tr -d ' ')
assert_gt "$n" 3 "entries in the root"

it_umount

step "kvfs check: the store is sound"
check_store
