#!/usr/bin/env bash
# tree: namespace operations with the usual tools — mkdir -p, mv of files and
# directories, rm -r, symlinks, hard links, chmod, touch -d + find -newer,
# find, grep -r, tar, du, long paths — and the whole tree unchanged after a
# remount.
. "$(dirname "$0")/lib.sh"

it_setup
it_mount

step "listings carry the attributes of directories, or of all entries when asked (-o ${IT_MOUNT_OPTS:-<none>})"
want=directories
[[ ,${IT_MOUNT_OPTS:-}, == *,readdirplus,* ]] && want="all entries"
got=$(grep -o 'readdirplus [^,]*' "$STORE/log/mount.log" | tail -n 1)
assert_eq "readdirplus $want" "$got" "what the daemon asked the kernel for (store/log/mount.log)"

step "mkdir -p 20 levels deep"
deep=$MNT
for i in $(seq 1 20); do deep=$deep/level$i; done
b mkdir -p "$deep"
[[ -d $deep ]] || fail "$deep is not a directory after mkdir -p"
write_file "$deep/bottom" "at the bottom"
assert_file_eq "$deep/bottom" "at the bottom" "file 20 levels down"
got=$(kv get "${deep#"$MNT"/}/bottom") || fail "kvfs get of the deep file failed"
assert_eq "at the bottom" "$got" "kvfs get of the file 20 levels down"
assert_eq "20" "$(b find "$MNT/level1" -type d | wc -l | tr -d ' ')" "dirs under level1 (find -type d)"

step "mv of a file, and over an existing file"
write_file "$MNT/f1" "one"
b mv "$MNT/f1" "$MNT/f2"
assert_missing "$MNT/f1" "f1 still exists after mv f1 f2"
assert_file_eq "$MNT/f2" "one" "f2 after mv"
write_file "$MNT/f3" "three"
b mv -f "$MNT/f3" "$MNT/f2"
assert_file_eq "$MNT/f2" "three" "f2 after mv f3 over it"
assert_missing "$MNT/f3"
b mkdir "$MNT/into"
b mv "$MNT/f2" "$MNT/into/"
assert_file_eq "$MNT/into/f2" "three" "file moved into a directory"
got=$(kv get into/f2) || fail "kvfs get into/f2 after mv failed"
assert_eq "three" "$got" "kvfs get at the new name after mv"
if kv get f2 >/dev/null 2>&1; then fail "kvfs get f2 (old name) still succeeds after mv"; fi

step "mv of a non-empty directory"
b mkdir -p "$MNT/src/a/b" "$MNT/src/c"
for p in src/top src/a/x src/a/b/y src/c/z; do write_file "$MNT/$p" "content of $p"; done
before=$(cd "$MNT/src" && b find . | sort)
b mv "$MNT/src" "$MNT/dst"
assert_missing "$MNT/src" "src still exists after mv src dst"
after=$(cd "$MNT/dst" && b find . | sort)
assert_same_text "$before" "$after" "tree listing after mv of a non-empty directory"
for p in top a/x a/b/y c/z; do
  assert_file_eq "$MNT/dst/$p" "content of src/$p" "dst/$p after directory mv"
done
got=$(kv get dst/a/b/y) || fail "kvfs get dst/a/b/y after directory mv failed"
assert_eq "content of src/a/b/y" "$got" "kvfs get below a moved directory"
# Move a directory into another directory, then back up.
b mkdir "$MNT/parent"
b mv "$MNT/dst" "$MNT/parent/"
assert_file_eq "$MNT/parent/dst/a/b/y" "content of src/a/b/y" "after mv dst parent/"
b mv "$MNT/parent/dst" "$MNT/moved"
assert_file_eq "$MNT/moved/c/z" "content of src/c/z" "after mv parent/dst moved"
# Rename over an empty directory replaces it.
b mkdir "$MNT/emptydir"
expect_errno OK rename "$MNT/moved" "$MNT/emptydir"
assert_file_eq "$MNT/emptydir/top" "content of src/top" "dir renamed over an empty dir"
assert_missing "$MNT/moved"

step "rm -r"
b rm -r "$MNT/emptydir" "$MNT/parent"
assert_missing "$MNT/emptydir" "emptydir still there after rm -r"
assert_missing "$MNT/parent" "parent still there after rm -r"
if kv get emptydir/a/b/y >/dev/null 2>&1; then fail "kvfs still sees emptydir/a/b/y after rm -r"; fi

step "ln -s, readlink, reading through the link"
write_file "$MNT/target" "through the link"
b ln -s target "$MNT/link"
assert_eq "target" "$(b readlink "$MNT/link")" "readlink of a relative symlink"
assert_eq "symbolic link" "$(b stat -c %F "$MNT/link")" "lstat type of the link"
assert_file_eq "$MNT/link" "through the link" "cat through the symlink"
b mkdir -p "$MNT/dotfiles"
b ln -s ../target "$MNT/dotfiles/rel"
assert_file_eq "$MNT/dotfiles/rel" "through the link" "cat through ../ symlink"
b ln -s "$MNT/dotfiles" "$MNT/dirlink"
assert_file_eq "$MNT/dirlink/rel" "through the link" "path through a symlink to a directory"
b ln -s /nonexistent/dangling "$MNT/dangling"
assert_eq "/nonexistent/dangling" "$(b readlink "$MNT/dangling")" "readlink of a dangling link"
expect_errno ENOENT stat "$MNT/dangling"
expect_errno OK lstat "$MNT/dangling"
# A dotfile-style link from outside the mount into it.
ln -s "$MNT/target" "$IT_TMP/outside-link"
assert_file_eq "$IT_TMP/outside-link" "through the link" "cat through a link from outside"
longtarget=$(printf 'x%.0s' $(seq 1 1000))
b ln -s "$longtarget" "$MNT/longlink"
assert_eq "$longtarget" "$(b readlink "$MNT/longlink")" "readlink of a 1000-byte target"

step "hard link: nlink 2, shared content"
write_file "$MNT/hl_a" "shared"
b ln "$MNT/hl_a" "$MNT/hl_b"
assert_eq "2" "$(b stat -c %h "$MNT/hl_a")" "nlink of the original after ln"
assert_eq "2" "$(b stat -c %h "$MNT/hl_b")" "nlink of the new link"
assert_eq "$(b stat -c %i "$MNT/hl_a")" "$(b stat -c %i "$MNT/hl_b")" "inode numbers of two hard links"
append_file "$MNT/hl_b" "+more"
assert_file_eq "$MNT/hl_a" "shared+more" "write through one hard link, read through the other"
b chmod 640 "$MNT/hl_b"
assert_eq "640" "$(b stat -c %a "$MNT/hl_a")" "chmod through one link, mode through the other"
b stat "$MNT/hl_a" >/dev/null
b touch -d '2022-02-02 02:02:02 UTC' "$MNT/hl_b"
assert_eq "$(date -u -d '2022-02-02 02:02:02' +%s)" "$(b stat -c %Y "$MNT/hl_a")" "utimensat through one link, mtime through the other"
append_file "$MNT/hl_b" "!"
assert_eq "12" "$(b stat -c %s "$MNT/hl_a")" "size through the other link after an append"
b ln "$MNT/hl_a" "$MNT/into/hl_c"
assert_eq "3" "$(b stat -c %h "$MNT/hl_b")" "nlink after a third link in another directory"
b rm "$MNT/hl_a"
assert_eq "2" "$(b stat -c %h "$MNT/hl_b")" "nlink after rm of one link"
assert_file_eq "$MNT/into/hl_c" "shared+more!" "content after rm of the first name"

step "inode numbers stable while mounted (also after the kernel forgets them)"
ino_file=$(b stat -c %i "$MNT/hl_b")
ino_dir=$(b stat -c %i "$MNT/into")
ino_deep=$(b stat -c %i "$deep/bottom")
sync
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || log "cannot drop caches; inode check is weaker"
assert_eq "$ino_file" "$(b stat -c %i "$MNT/hl_b")" "inode of hl_b after dropping caches"
assert_eq "$ino_dir" "$(b stat -c %i "$MNT/into")" "inode of a directory after dropping caches"
assert_eq "$ino_deep" "$(b stat -c %i "$deep/bottom")" "inode of a deep file after dropping caches"
b mv "$MNT/hl_b" "$MNT/hl_b2"
assert_eq "$ino_file" "$(b stat -c %i "$MNT/hl_b2")" "inode after rename"
b mv "$MNT/hl_b2" "$MNT/hl_b"

step "a directory of 3,000 entries: readdir, and rm -rf while reading it"
bsh 'cd "$1" && mkdir big && cd big && for i in $(seq 1 3000); do : > "entry-with-a-longish-name-$i"; done' "$MNT"
assert_eq "3000" "$(b ls -f "$MNT/big" | grep -c '^entry-')" "entries listed by ls -f"
assert_eq "3000" "$(b ls "$MNT/big" | sort -u | wc -l | tr -d ' ')" "distinct names listed by ls"
assert_eq "3000" "$(b "$PY" -c 'import os,sys; print(len(os.listdir(sys.argv[1])))' "$MNT/big")" "os.listdir count"
# Read the listing in the reader's batches while a third of the names go away
# between them: every name that stays is listed exactly once (offsets are inode
# numbers, not positions, so deleting names already listed shifts nothing).
got=$(b "$PY" - "$MNT/big" <<'PYEOF'
import os, sys
big = sys.argv[1]
seen = []
with os.scandir(big) as it:
    for e in it:
        seen.append(e.name)
        if len(seen) == 200:
            # Delete 1,000 names: half of them already listed, half not yet.
            gone = set(seen[:100] + [n for n in sorted(os.listdir(big)) if n not in seen][:900])
            for n in gone:
                os.rename(os.path.join(big, n), os.path.join(big, "..", "moved-" + n))
stay = {n for n in os.listdir(big)}
dups = len(seen) - len(set(seen))
missing = len(stay - set(seen))
print(f"{len(stay)} stayed, {dups} listed twice, {missing} not listed")
PYEOF
)
assert_eq "2000 stayed, 0 listed twice, 0 not listed" "$got" "a listing read while names are moved away"
bsh 'cd "$1" && for f in moved-entry-*; do mv "$f" "big/${f#moved-}"; done' "$MNT"
assert_eq "3000" "$(b ls "$MNT/big" | sort -u | wc -l | tr -d ' ')" "entries after moving them back"
# Delete every other entry, then list again: no duplicates, none missing.
bsh 'cd "$1/big" && for i in $(seq 2 2 3000); do rm "entry-with-a-longish-name-$i"; done' "$MNT"
assert_eq "1500" "$(b ls "$MNT/big" | sort -u | wc -l | tr -d ' ')" "entries after deleting every other one"
b rm -rf "$MNT/big" || fail "rm -rf of a 1,500-entry directory failed"
assert_missing "$MNT/big" "the big directory is still there after rm -rf"

step "an unlinked file stays usable through its open descriptor"
out=$(b "$PY" - "$MNT/unlinked" <<'EOF2'
import os, sys
p = sys.argv[1]
fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"before unlink;")
os.unlink(p)
gone = not os.path.exists(p)
os.write(fd, b"after unlink")
os.lseek(fd, 0, 0)
data = os.read(fd, 100)
size = os.fstat(fd).st_size
os.close(fd)
print(gone, data.decode(), size, os.path.exists(p))
EOF2
) || fail "unlinked-open probe failed: $out"
assert_eq "True before unlink;after unlink 26 False" "$out" "write/read/fstat through an fd whose name was unlinked"
if kv get unlinked >/dev/null 2>&1; then fail "kvfs get still finds an unlinked file"; fi

step "four processes creating, renaming, deleting and appending at once"
cat >"$IT_TMP/stress.py" <<'EOF2'
import os, sys
w, d = int(sys.argv[1]), sys.argv[2]
for i in range(500):
    p = os.path.join(d, "w%d-%d" % (w, i))
    with open(p, "wb") as f:
        f.write(os.urandom(100 + i))
    os.rename(p, p + ".r")
    if i % 3 == 0:
        os.unlink(p + ".r")
    os.makedirs(os.path.join(d, "dir%d" % w, str(i % 7)), exist_ok=True)
    with open(os.path.join(d, "common"), "ab") as f:   # O_APPEND from 4 writers
        f.write(b"%d-%d\n" % (w, i))
EOF2
b mkdir "$MNT/shared"
pids=()
for w in 1 2 3 4; do
  timeout -k 5 120 "$PY" "$IT_TMP/stress.py" "$w" "$MNT/shared" 2>"$IT_TMP/stress.$w.err" &
  pids+=($!)
done
for _ in $(seq 1 30); do b ls "$MNT/shared" >/dev/null; b find "$MNT/shared" >/dev/null; done
for w in 1 2 3 4; do
  wait "${pids[w - 1]}" || fail "stress writer $w failed: $(cat "$IT_TMP/stress.$w.err")"
done
assert_eq "1332" "$(b find "$MNT/shared" -name '*.r' | wc -l | tr -d ' ')" "renamed files left (4 x 333)"
assert_eq "1337" "$(b ls "$MNT/shared" | wc -l | tr -d ' ')" "entries in the shared directory"
assert_eq "2000" "$(b wc -l <"$MNT/shared/common" | tr -d ' ')" "lines appended by 4 writers"
assert_eq "500" "$(b grep -c '^3-' "$MNT/shared/common")" "lines appended by writer 3"
assert_eq "32" "$(b find "$MNT/shared" -mindepth 1 -type d | wc -l | tr -d ' ')" "directories made with makedirs(exist_ok)"
b rm -rf "$MNT/shared"

step "chmod 600"
write_file "$MNT/secret" "key material"
b chmod 600 "$MNT/secret"
assert_eq "600" "$(b stat -c %a "$MNT/secret")" "mode after chmod 600"
b chmod 4755 "$MNT/into/f2"
assert_eq "4755" "$(b stat -c %a "$MNT/into/f2")" "mode after chmod 4755 (setuid bit kept)"
b mkdir -m 700 "$MNT/private"
assert_eq "700" "$(b stat -c %a "$MNT/private")" "mode of mkdir -m 700"

step "touch -d and find -newer"
write_file "$MNT/old" "old"
b touch -d '2020-01-01 00:00:00 UTC' "$MNT/old"
assert_eq "$(date -u -d '2020-01-01 00:00:00' +%s)" "$(b stat -c %Y "$MNT/old")" "mtime after touch -d 2020-01-01"
write_file "$MNT/new" "new"
newer=$(cd "$MNT" && b find . -maxdepth 1 -type f -newer old | sort | tr '\n' ' ')
assert_contains "$newer" "./new " "find -newer old"
assert_not_contains "$newer" "./old " "find -newer old"
b touch -m -d '2021-06-01 12:00:00 UTC' "$MNT/new"
assert_eq "$(date -u -d '2021-06-01 12:00:00' +%s)" "$(b stat -c %Y "$MNT/new")" "mtime after touch -m -d"
b touch -a -d '2019-01-01 00:00:00 UTC' "$MNT/new"
assert_eq "$(date -u -d '2021-06-01 12:00:00' +%s)" "$(b stat -c %Y "$MNT/new")" "mtime unchanged by touch -a (UTIME_OMIT)"
assert_eq "$(date -u -d '2019-01-01 00:00:00' +%s)" "$(b stat -c %X "$MNT/new")" "atime after touch -a -d"
t0=$(date +%s)
b touch "$MNT/old"
t_now=$(b stat -c %Y "$MNT/old")
(( t_now >= t0 - 2 && t_now <= t0 + 5 )) || fail "touch (UTIME_NOW) set mtime $t_now, now is $t0"
mt_before=$(b stat -c %Y "$MNT/into")
b touch -d '2020-01-01' "$MNT/into"
write_file "$MNT/into/newentry" "x"
mt_after=$(b stat -c %Y "$MNT/into")
assert_gt "$mt_after" "$(date -d '2020-01-01' +%s)" "directory mtime after creating an entry in it (was $mt_before)"

step "find -name / -type / -size"
b mkdir -p "$MNT/proj/src" "$MNT/proj/include" "$MNT/proj/empty"
for i in 1 2 3; do write_file "$MNT/proj/src/m$i.c" "int m$i;"; done
write_file "$MNT/proj/include/m.h" "#pragma once"
run_bounded 20 head -c 3000 /dev/urandom >"$IT_TMP/3k"
b cp "$IT_TMP/3k" "$MNT/proj/blob.bin"
b ln -s src/m1.c "$MNT/proj/main.c"
assert_eq "3" "$(b find "$MNT/proj" -name '*.c' -type f | wc -l | tr -d ' ')" "find -name '*.c' -type f"
assert_eq "1" "$(b find "$MNT/proj" -name '*.c' -type l | wc -l | tr -d ' ')" "find -name '*.c' -type l"
assert_eq "4" "$(b find "$MNT/proj" -type d | wc -l | tr -d ' ')" "find -type d"
assert_eq "$MNT/proj/blob.bin" "$(b find "$MNT/proj" -type f -size +2k)" "find -size +2k"
assert_eq "$MNT/proj/empty" "$(b find "$MNT/proj" -empty)" "find -empty"
# Cold: the kernel has forgotten the tree, so the listing and the attributes come
# from the daemon again (readdirplus, and a LOOKUP for whatever it did not cover).
warm=$(cd "$MNT/proj" && b find . -printf '%p %y %s %m %n\n' | sort)
if sync && { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
  b ls -lR "$MNT/proj" >/dev/null
  cold=$(cd "$MNT/proj" && b find . -printf '%p %y %s %m %n\n' | sort)
  assert_eq "$warm" "$cold" "types, sizes, modes and link counts after the caches were dropped"
  assert_eq "1" "$(b find "$MNT/proj" -name '*.c' -type l | wc -l | tr -d ' ')" "find -type l, cold"
else
  log "cannot drop caches (not root): cold listing not checked"
fi

step "grep -r across 1,000 files"
bsh 'cd "$1"; for d in $(seq 0 9); do mkdir -p "g/d$d"; for i in $(seq 0 99); do
       n=$((d * 100 + i))
       if (( n % 7 == 0 )); then printf "line one\nthe NEEDLE %d\nline three\n" "$n"
       else printf "line one\nnothing %d\n" "$n"; fi > "g/d$d/f$i.txt"
     done; done' "$MNT"
assert_eq "1000" "$(b find "$MNT/g" -type f | wc -l | tr -d ' ')" "files created for grep"
assert_eq "143" "$(run_bounded 60 grep -rl NEEDLE "$MNT/g" | wc -l | tr -d ' ')" "grep -rl NEEDLE (files with a match)"
assert_eq "143" "$(run_bounded 60 grep -rh NEEDLE "$MNT/g" | wc -l | tr -d ' ')" "grep -rh NEEDLE (matching lines)"
assert_eq "2143" "$(run_bounded 60 cat "$MNT"/g/d*/f*.txt | wc -l | tr -d ' ')" "total lines of the 1,000 files"

step "tar c | tar x of /usr/include/fuse3 + a generated tree, diff -r"
gen=$IT_TMP/gen
mkdir -p "$gen/src/fuse3" "$gen/gen"
if [[ -d /usr/include/fuse3 ]]; then cp -a /usr/include/fuse3/. "$gen/src/fuse3/"; fi
(
  cd "$gen/gen" || exit 1
  for d in $(seq 0 19); do
    mkdir -p "d$d/sub"
    for i in $(seq 0 9); do
      head -c $(( (d * 10 + i) * 517 % 20000 )) /dev/urandom >"d$d/file$i"
      printf 'text %d %d\n' "$d" "$i" >"d$d/sub/t$i.txt"
    done
  done
  : >empty
  printf 'spaces\n' >"name with spaces"
  printf 'utf8\n' >"ünïcødé-名前"
  printf 'dash\n' >"-leading-dash"
  printf 'dots\n' >"..dots.."
  ln -s d0/file1 symlink
  ln -s nowhere dangling
  ln d1/file1 hardlink
  chmod 600 d2/file2
  chmod 755 d3/file3
  chmod 700 d4
  touch -d '2001-02-03 04:05:06' d5/file5
)
b mkdir "$MNT/tarx"
run_bounded 120 bash -c 'set -o pipefail; tar -C "$1" -cf - . | tar -C "$2" -xpf -' _ "$gen" "$MNT/tarx" \
  2>"$IT_TMP/tar.err" || fail "tar c | tar x into the mount failed: $(cat "$IT_TMP/tar.err")"
out=$(run_bounded 120 diff -r --no-dereference "$gen" "$MNT/tarx" 2>&1) \
  || fail "diff -r between the source tree and its tar copy on the mount:
$out"
# Directory sizes are the file system's business; everything else must match.
# (GNU tar keeps whole seconds, hence %Ts.)
tree_meta() {
  (cd "$1" && run_bounded 60 find . \( -type d -printf '%p d %m %Ts\n' \) -o -printf '%p %y %m %s %Ts %l\n' | LC_ALL=C sort)
}
assert_same_text "$(tree_meta "$gen")" "$(tree_meta "$MNT/tarx")" \
  "names, types, modes, sizes, mtimes and link targets of the tar copy (find -printf)"
assert_eq "2" "$(b stat -c %h "$MNT/tarx/gen/hardlink")" "nlink of a hard link extracted by tar"

step "du -s"
du_k=$(b du -sk "$MNT/tarx" | cut -f1)
assert_gt "$du_k" 100 "du -sk of the tar copy (KiB)"
du_big=$(b du -k "$MNT/proj/blob.bin" | cut -f1)
assert_gt "$du_big" 1 "du -k of a 3000-byte file (st_blocks)"

step "paths up to 4095 bytes from the mount's root"
# 16 components of 250 bytes = 4015 bytes of relative path (plus a file name).
out=$(cd "$MNT" && b "$PY" - <<'EOF'
import os
comp = "L" * 249
parts = [comp + "%x" % i for i in range(16)]
rel = "/".join(parts)
os.makedirs(rel)
path = rel + "/" + "f" * 60
assert len(path) < 4096, len(path)
with open(path, "w") as f:
    f.write("far away")
with open(path) as f:
    assert f.read() == "far away"
st = os.stat(path)
os.rename(path, path + ".r")
os.unlink(path + ".r")
print(len(path))
EOF
) || fail "create/read/rename/unlink at a ~4080-byte path failed: $out"
assert_gt "$out" 4000 "length of the long path exercised"

step "remount: everything still there"
listing() {
  (cd "$MNT" && run_bounded 60 find . -printf '%p %y %m %s %n %T@ %l\n' | LC_ALL=C sort) \
    || fail "find on the mount failed"
  (cd "$MNT" && run_bounded 120 find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) \
    || fail "sha256sum on the mount failed"
}
listing >"$IT_TMP/before.txt"
it_remount
listing >"$IT_TMP/after.txt"
out=$(diff "$IT_TMP/before.txt" "$IT_TMP/after.txt") \
  || fail "tree differs after unmount + remount (< before, > after):
$(head -n 40 <<<"$out")"
assert_eq "600" "$(b stat -c %a "$MNT/secret")" "mode 600 after remount"
assert_file_eq "$MNT/link" "through the link" "symlink after remount"
assert_eq "2" "$(b stat -c %h "$MNT/hl_b")" "nlink after remount"
log "$(wc -l <"$IT_TMP/before.txt") lines of listing identical after remount"

it_umount

step "kvfs check: the store is sound after all of the above"
check_store
