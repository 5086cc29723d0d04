#!/usr/bin/env bash
# multiuser (as root): an allow_other mount serves other users with the
# kernel's permission checks — files belong to their creator, a non-owner
# cannot chmod/chown (EPERM) or read a 0600 file (EACCES), the sticky bit
# protects others' files, a setgid directory passes its group on, umask is
# honoured, writes, truncates and chowns drop set-user-ID bits as ext4 does;
# without allow_other other users are kept out entirely.
. "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || fail "multiuser.sh must run as root (it switches to user nobody)"
id nobody >/dev/null 2>&1 || fail "no user 'nobody' on this machine"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
NOBODY_GROUP=$(id -gn nobody)

it_setup
chmod 755 "$IT_TMP"            # let nobody reach the mount point
cp "$IT_DIR/errno_probe.py" "$IT_TMP/errno_probe.py"
chmod 644 "$IT_TMP/errno_probe.py"

# as_nobody CMD...: run CMD as nobody:nogroup with no supplementary groups.
as_nobody() {
  b setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups -- "$@"
}
nobody_sh() { as_nobody sh -c "cd / && $1" sh "${@:2}"; }
# expect_errno_as_nobody ERRNO OP ARGS...
expect_errno_as_nobody() {
  local want=$1 got
  shift
  got=$(as_nobody "$PY" "$IT_TMP/errno_probe.py" "$@") || fail "probe as nobody: $* did not run"
  assert_eq "$want" "$got" "errno of $* as nobody"
}

it_mount "$MNT" "$STORE" -- -o allow_other

step "world-writable sticky directory"
b mkdir "$MNT/pub"
b chmod 1777 "$MNT/pub"
assert_eq "1777" "$(b stat -c %a "$MNT/pub")" "mode of pub after chmod 1777"

step "a file created by nobody belongs to nobody"
nobody_sh 'echo from-nobody > "$1"' "$MNT/pub/nf" || fail "nobody could not create a file in a 1777 directory"
assert_eq "nobody:$NOBODY_GROUP" "$(b stat -c %U:%G "$MNT/pub/nf")" "owner of a file nobody created"
assert_eq "$NOBODY_UID:$NOBODY_GID" "$(b stat -c %u:%g "$MNT/pub/nf")" "numeric owner"
assert_file_eq "$MNT/pub/nf" $'from-nobody\n' "root reads nobody's file"
nobody_sh 'mkdir "$1"' "$MNT/pub/nd" || fail "nobody could not mkdir in a 1777 directory"
assert_eq "nobody:$NOBODY_GROUP" "$(b stat -c %U:%G "$MNT/pub/nd")" "owner of a directory nobody created"
nobody_sh 'ln -s nf "$1"' "$MNT/pub/nl" || fail "nobody could not create a symlink"
assert_eq "nobody" "$(b stat -c %U "$MNT/pub/nl")" "owner of a symlink nobody created"

step "nobody vs root's files"
write_file "$MNT/pub/rootfile" "root secret"
b chmod 600 "$MNT/pub/rootfile"
assert_eq "root" "$(b stat -c %U "$MNT/pub/rootfile")" "owner of a file root created"
out=$(nobody_sh 'cat "$1"' "$MNT/pub/rootfile" 2>&1) && fail "nobody read root's 0600 file: $out"
assert_contains "$out" "Permission denied" "nobody cat of root's 0600 file"
expect_errno_as_nobody EACCES open "$MNT/pub/rootfile"
expect_errno_as_nobody EPERM chmod "$MNT/pub/rootfile" 644
expect_errno_as_nobody EPERM chown "$MNT/pub/rootfile" "$NOBODY_UID" -1
expect_errno_as_nobody EPERM utime "$MNT/pub/rootfile"
expect_errno_as_nobody EPERM unlink "$MNT/pub/rootfile"                       # sticky dir
expect_errno_as_nobody EPERM rename "$MNT/pub/rootfile" "$MNT/pub/stolen"     # sticky dir
assert_eq "600" "$(b stat -c %a "$MNT/pub/rootfile")" "mode of root's file after nobody's refused chmod"
b chmod 644 "$MNT/pub/rootfile"
assert_eq "root secret" "$(nobody_sh 'cat "$1"' "$MNT/pub/rootfile")" "nobody reads root's 0644 file"
expect_errno_as_nobody EACCES open_w "$MNT/pub/rootfile"
expect_errno_as_nobody EACCES creat "$MNT/denied"                              # root dir is 0755 root
expect_errno_as_nobody EACCES mkdir "$MNT/denied"
b mkdir -m 700 "$MNT/private"
expect_errno_as_nobody EACCES readdir "$MNT/private"
expect_errno_as_nobody EACCES stat "$MNT/private/x"

step "chown: only root gives a file away"
b chown nobody "$MNT/pub/rootfile"
assert_eq "nobody" "$(b stat -c %U "$MNT/pub/rootfile")" "owner after root's chown nobody"
expect_errno_as_nobody OK chmod "$MNT/pub/rootfile" 600
assert_eq "600" "$(b stat -c %a "$MNT/pub/rootfile")" "mode after the new owner's chmod"
assert_eq "root secret" "$(nobody_sh 'cat "$1"' "$MNT/pub/rootfile")" "new owner reads the 0600 file"
expect_errno_as_nobody EPERM chown "$MNT/pub/nf" 0 -1
expect_errno_as_nobody EPERM chown "$MNT/pub/nf" -1 0                          # not a member of group root
assert_eq "nobody:$NOBODY_GROUP" "$(b stat -c %U:%G "$MNT/pub/nf")" "owner after refused chowns"
b chown 0:0 "$MNT/pub/nf"
assert_eq "root:root" "$(b stat -c %U:%G "$MNT/pub/nf")" "owner after root's chown 0:0"

step "setgid directory passes its group on"
SG_GID=$(getent group users | cut -d: -f3) || SG_GID=4242
[[ -n $SG_GID ]] || SG_GID=4242
b mkdir "$MNT/sg"
b chgrp "$SG_GID" "$MNT/sg"
b chmod 2777 "$MNT/sg"
assert_eq "2777" "$(b stat -c %a "$MNT/sg")" "mode of the setgid directory"
nobody_sh 'echo x > "$1"' "$MNT/sg/byn" || fail "nobody could not create in the setgid dir"
assert_eq "$NOBODY_UID:$SG_GID" "$(b stat -c %u:%g "$MNT/sg/byn")" "uid:gid of nobody's file in a setgid dir"
nobody_sh 'mkdir "$1"' "$MNT/sg/subn" || fail "nobody could not mkdir in the setgid dir"
assert_eq "$NOBODY_UID:$SG_GID" "$(b stat -c %u:%g "$MNT/sg/subn")" "uid:gid of nobody's subdir in a setgid dir"
mode=$(b stat -c %a "$MNT/sg/subn")
[[ ${#mode} == 4 && ${mode:0:1} == 2 ]] || fail "subdirectory of a setgid dir does not inherit the setgid bit: mode $mode"
write_file "$MNT/sg/byroot" "r"
assert_eq "0:$SG_GID" "$(b stat -c %u:%g "$MNT/sg/byroot")" "uid:gid of root's file in a setgid dir"

step "umask is honoured"
bsh 'umask 027; mkdir "$1/um_d"; echo x > "$1/um_f"' "$MNT"
assert_eq "750" "$(b stat -c %a "$MNT/um_d")" "mode of mkdir under umask 027"
assert_eq "640" "$(b stat -c %a "$MNT/um_f")" "mode of a file created under umask 027"

step "set-user-ID and set-group-ID bits drop as on ext4"
# kvfs takes FUSE_HANDLE_KILLPRIV_V2: the kernel flags the requests and the daemon
# drops the bits (src/fs/kill_privs.h), so each case below is the daemon's doing.
for f in w t s r c k; do write_file "$MNT/pub/suid_$f" "x"; done
b chmod 6777 "$MNT/pub/suid_w" "$MNT/pub/suid_t" "$MNT/pub/suid_s" "$MNT/pub/suid_r" "$MNT/pub/suid_c"
b chmod 2767 "$MNT/pub/suid_k"   # set-group-ID without group execute: a lock mark, kept
nobody_sh 'echo more >> "$1"' "$MNT/pub/suid_w" || fail "nobody could not append to a 6777 file"
assert_eq "777" "$(b stat -c %a "$MNT/pub/suid_w")" "mode after nobody's write to a 6777 file"
assert_file_eq "$MNT/pub/suid_w" $'xmore\n' "content after nobody's append"
nobody_sh ': > "$1"' "$MNT/pub/suid_t" || fail "nobody could not truncate (O_TRUNC) a 6777 file"
assert_eq "777" "$(b stat -c %a "$MNT/pub/suid_t")" "mode after nobody's O_TRUNC open"
as_nobody truncate -s 1 "$MNT/pub/suid_s" || fail "nobody could not truncate(1) a 6777 file"
assert_eq "777" "$(b stat -c %a "$MNT/pub/suid_s")" "mode after nobody's truncate -s 1"
nobody_sh 'echo more >> "$1"' "$MNT/pub/suid_k" || fail "nobody could not append to a 2767 file"
assert_eq "2767" "$(b stat -c %a "$MNT/pub/suid_k")" "mode after nobody's write to a 2767 file"
append_file "$MNT/pub/suid_r" "root"
assert_eq "6777" "$(b stat -c %a "$MNT/pub/suid_r")" "mode after root's write (CAP_FSETID keeps the bits)"
b chown nobody "$MNT/pub/suid_c"
assert_eq "777" "$(b stat -c %a "$MNT/pub/suid_c")" "mode after root's chown of a 6777 file"

step "ownership survives a remount"
it_remount "$MNT" -- -o allow_other
assert_eq "$NOBODY_UID:$SG_GID" "$(b stat -c %u:%g "$MNT/sg/byn")" "owner of nobody's file after remount"
assert_eq "nobody" "$(b stat -c %U "$MNT/pub/rootfile")" "owner of the given-away file after remount"
assert_eq "1777" "$(b stat -c %a "$MNT/pub")" "sticky mode after remount"
expect_errno_as_nobody EPERM unlink "$MNT/pub/nf"
assert_eq "777 777 777 2767 6777" \
  "$(b stat -c %a "$MNT/pub/suid_w" "$MNT/pub/suid_t" "$MNT/pub/suid_s" "$MNT/pub/suid_k" "$MNT/pub/suid_r" | tr '\n' ' ' | sed 's/ $//')" \
  "modes of the set-user-ID cases after remount"

step "with the writeback cache, a write still drops the bits"
# The kernel then writes such a file through (no caching) with the same flag.
it_remount "$MNT" -- -o allow_other,writeback_cache
write_file "$MNT/pub/suid_wb" "x"
b chmod 6777 "$MNT/pub/suid_wb"
nobody_sh 'echo more >> "$1"' "$MNT/pub/suid_wb" || fail "nobody could not append (writeback cache)"
assert_eq "777" "$(b stat -c %a "$MNT/pub/suid_wb")" "mode after nobody's write, writeback cache"
assert_file_eq "$MNT/pub/suid_wb" $'xmore\n' "content after nobody's append, writeback cache"

step "without allow_other, other users are kept out"
it_umount
it_mount
expect_errno_as_nobody EACCES stat "$MNT/pub"
assert_file_eq "$MNT/pub/rootfile" "root secret" "root still reads"
it_umount
