#!/usr/bin/env bash
# apps: real applications on the mount — a git working tree, sqlite3 databases
# (rollback journal and WAL: fcntl locks, fsync, shared mmap), an editor-style
# save (temp file + fsync + rename), flock/fcntl locks between processes, user
# xattrs and the kvfs.* attributes (HLC stamp, origin node), rsync -a.
. "$(dirname "$0")/lib.sh"

it_setup
it_mount

step "git init/add/commit/status/log"
repo=$MNT/repo
b mkdir -p "$repo/src"
gitc() { run_bounded 60 git -C "$repo" -c user.name=kvfs-test -c user.email=test@kvfs.invalid \
  -c init.defaultBranch=main -c safe.directory='*' -c core.fsync=all "$@"; }
gitc init -q || fail "git init in the mount failed"
for i in $(seq 1 30); do printf 'int f%d(void) { return %d; }\n' "$i" "$i" >"$IT_TMP/f.c"; b cp "$IT_TMP/f.c" "$repo/src/f$i.c"; done
write_file "$repo/README" $'hello\n'
gitc add -A || fail "git add failed"
gitc commit -q -m "first" || fail "git commit failed"
assert_eq "" "$(gitc status --porcelain)" "git status --porcelain after the first commit"
append_file "$repo/README" $'more\n'
b rm "$repo/src/f3.c"
b mv "$repo/src/f4.c" "$repo/src/renamed.c"
st=$(gitc status --porcelain | LC_ALL=C sort)
assert_contains "$st" " M README" "git status shows the modified README"
assert_contains "$st" " D src/f3.c" "git status shows the deleted file"
gitc add -A
gitc commit -q -m "second" || fail "second git commit failed"
assert_eq "2" "$(gitc log --oneline | wc -l | tr -d ' ')" "git log --oneline | wc -l"
assert_eq "second" "$(gitc log -1 --format=%s)" "subject of the last commit"
out=$(gitc fsck --strict 2>&1) || fail "git fsck --strict failed: $out"
gitc gc -q 2>&1 || fail "git gc (pack, rename, unlink of loose objects) failed"
out=$(gitc fsck --strict 2>&1) || fail "git fsck --strict after gc failed: $out"
gitc checkout -q HEAD~1 2>&1 || fail "git checkout HEAD~1 failed"
assert_file_eq "$repo/README" $'hello\n' "README after checkout of the first commit"
[[ -e $repo/src/f3.c ]] || fail "src/f3.c not restored by checkout"
assert_eq "" "$(gitc status --porcelain)" "git status clean after checkout (stat info right)"
gitc checkout -q main 2>&1 || fail "git checkout main failed"
gitc clone -q "$repo" "$MNT/clone" 2>&1 || fail "git clone within the mount failed"
assert_file_eq "$MNT/clone/README" $'hello\nmore\n' "README in the clone"

step "sqlite3: 1,000 rows in a transaction, count, integrity_check"
db=$MNT/db/test.sqlite
b mkdir -p "$MNT/db"
sq() { run_bounded 60 sqlite3 -batch -bail "$@"; }
sq "$db" <<'EOF' || fail "sqlite3 create + insert failed"
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, payload BLOB);
CREATE INDEX t_name ON t(name);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO t(id, name, payload) SELECT i, 'row-' || i, randomblob(200) FROM n;
COMMIT;
EOF
assert_eq "1000" "$(sq "$db" 'SELECT count(*) FROM t;')" "SELECT count(*)"
assert_eq "row-777" "$(sq "$db" "SELECT name FROM t WHERE name = 'row-777';")" "indexed lookup"
assert_eq "ok" "$(sq "$db" 'PRAGMA integrity_check;')" "PRAGMA integrity_check"
sq "$db" "DELETE FROM t WHERE id % 2 = 0; VACUUM;" || fail "sqlite3 delete + VACUUM failed"
assert_eq "500" "$(sq "$db" 'SELECT count(*) FROM t;')" "count after delete + VACUUM"
assert_eq "ok" "$(sq "$db" 'PRAGMA integrity_check;')" "integrity_check after VACUUM"

step "sqlite3 in WAL mode (shared mmap of the -shm file)"
wal=$MNT/db/wal.sqlite
assert_eq "wal" "$(sq "$wal" 'PRAGMA journal_mode=WAL;')" "PRAGMA journal_mode=WAL"
sq "$wal" <<'EOF' || fail "sqlite3 WAL inserts failed"
CREATE TABLE k(id INTEGER PRIMARY KEY, v TEXT);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO k SELECT i, hex(randomblob(16)) FROM n;
COMMIT;
EOF
assert_eq "1000" "$(sq "$wal" 'SELECT count(*) FROM k;')" "count in the WAL database"
sq "$wal" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null || fail "wal_checkpoint failed"
assert_eq "ok" "$(sq "$wal" 'PRAGMA integrity_check;')" "integrity_check of the WAL database"

step "sqlite3 lock contention between two processes"
# A writer holds an exclusive transaction for 2 s; a second writer with no busy
# timeout must get SQLITE_BUSY ("database is locked"), not corrupt anything.
(printf 'BEGIN EXCLUSIVE;\nINSERT INTO t(name) VALUES (%s);\n' "'held'"; sleep 2; printf 'COMMIT;\n') \
  | run_bounded 30 sqlite3 -batch "$db" &
holder=$!
sleep 0.7
rc=0
out=$(sq "$db" "INSERT INTO t(name) VALUES ('second');" 2>&1) || rc=$?
wait "$holder" || fail "the sqlite3 process holding the lock failed"
(( rc != 0 )) || fail "second sqlite3 writer succeeded while another held an exclusive lock (fcntl locks not enforced?)"
assert_contains "$out" "locked" "error of the blocked sqlite3 writer"
assert_eq "501" "$(sq "$db" 'SELECT count(*) FROM t;')" "rows after the locked-out writer"

step "flock and fcntl locks between processes"
write_file "$MNT/lockfile" "x"
out=$(run_bounded 30 "$PY" - "$MNT/lockfile" <<'EOF'
import fcntl, os, sys, time, errno
p = sys.argv[1]
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    fd = os.open(p, os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX)           # POSIX (fcntl) lock
    fd2 = os.open(p, os.O_RDONLY)
    fcntl.flock(fd2, fcntl.LOCK_EX)          # BSD lock
    os.write(w, b"1")
    time.sleep(2)
    os._exit(0)
os.read(r, 1)
fd = os.open(p, os.O_RDWR)
res = []
for name, fn in (("fcntl", lambda: fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)),
                 ("flock", lambda: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB))):
    try:
        fn()
        res.append(name + ":acquired")
    except OSError as e:
        res.append(name + ":" + errno.errorcode[e.errno])
os.waitpid(pid, 0)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
res.append("after:acquired")
print(" ".join(res))
EOF
) || fail "lock probe failed: $out"
case $out in
  "fcntl:EAGAIN flock:EWOULDBLOCK after:acquired" | "fcntl:EACCES flock:EWOULDBLOCK after:acquired" | \
  "fcntl:EAGAIN flock:EAGAIN after:acquired" | "fcntl:EACCES flock:EAGAIN after:acquired") ;;
  *) fail "locks not exclusive between processes: expected fcntl:EAGAIN flock:EWOULDBLOCK after:acquired, got: $out" ;;
esac

step "shared mmap write is visible to read()"
out=$(run_bounded 30 "$PY" - "$MNT/mapped" <<'EOF'
import mmap, os, sys
p = sys.argv[1]
with open(p, "wb") as f:
    f.truncate(8192)
fd = os.open(p, os.O_RDWR)
m = mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[4000:4005] = b"hello"
m.flush()
m.close()
os.close(fd)
with open(p, "rb") as f:
    data = f.read()
print(len(data), data[4000:4005].decode(), data[:4000] == bytes(4000))
EOF
) || fail "mmap probe failed: $out"
assert_eq "8192 hello True" "$out" "file content after a MAP_SHARED write + msync"
got=$(kv get mapped | head -c 4005 | tail -c 5) || fail "kvfs get mapped failed"
assert_eq "hello" "$got" "kvfs get sees the mmap write after close"

step "editor-style save: temp + fsync + rename over the original"
write_file "$MNT/notes.txt" $'version 1\n'
b chmod 640 "$MNT/notes.txt"
assert_file_eq "$MNT/notes.txt" $'version 1\n' "original before the save"
# vim-like: write a temp file with fsync, then rename it over the original.
bsh 'printf "version 2\n" | dd of="$1/.notes.txt.swp" conv=fsync status=none' "$MNT"
b chmod 640 "$MNT/.notes.txt.swp"
b sync "$MNT/.notes.txt.swp"
b mv -f "$MNT/.notes.txt.swp" "$MNT/notes.txt"
assert_file_eq "$MNT/notes.txt" $'version 2\n' "content after mv over the original"
assert_missing "$MNT/.notes.txt.swp" "temp file still there after the rename"
got=$(kv get notes.txt) || fail "kvfs get notes.txt failed"
assert_eq "version 2" "$got" "kvfs get after the editor-style save"
assert_eq "640" "$(b stat -c %a "$MNT/notes.txt")" "mode after the editor-style save"
# emacs-like, in python: keep a file open, then atomically replace it.
out=$(run_bounded 30 "$PY" - "$MNT/notes.txt" <<'EOF'
import os, sys
p = sys.argv[1]
old = open(p, "rb")                     # a reader keeps the old version open
tmp = p + ".tmp~"
fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
os.write(fd, b"version 3\n")
os.fsync(fd)
os.fdatasync(fd)
os.close(fd)
os.rename(tmp, p)
dfd = os.open(os.path.dirname(p), os.O_RDONLY | os.O_DIRECTORY)
os.fsync(dfd)
os.close(dfd)
print(old.read().decode().strip(), "|", open(p, "rb").read().decode().strip())
EOF
) || fail "python temp+fsync+rename save failed: $out"
assert_eq "version 2 | version 3" "$out" "old fd still reads the old version; the name gives the new one"

step "user xattrs: setfattr / getfattr round trip"
write_file "$MNT/xa" "data"
b setfattr -n user.x -v 1 "$MNT/xa" || fail "setfattr -n user.x -v 1 failed"
assert_eq "1" "$(b getfattr --absolute-names --only-values -n user.x "$MNT/xa")" "getfattr -n user.x"
b setfattr -n user.long -v "$(printf 'v%.0s' $(seq 1 2000))" "$MNT/xa"
assert_eq "2000" "$(b getfattr --absolute-names --only-values -n user.long "$MNT/xa" | wc -c | tr -d ' ')" "length of a 2000-byte xattr value"
dump=$(b getfattr --absolute-names -d "$MNT/xa" 2>/dev/null)
assert_contains "$dump" 'user.x="1"' "getfattr -d lists user.x"
b setfattr -x user.x "$MNT/xa" || fail "setfattr -x user.x failed"
expect_errno ENODATA getxattr "$MNT/xa" user.x
b mkdir "$MNT/xadir"
b setfattr -n user.dir -v yes "$MNT/xadir" || fail "setfattr on a directory failed"
assert_eq "yes" "$(b getfattr --absolute-names --only-values -n user.dir "$MNT/xadir")" "xattr on a directory"

step "kvfs.* attributes: HLC stamp and origin"
dump=$(b getfattr --absolute-names -d -m kvfs "$MNT/xa" 2>&1) || fail "getfattr -d -m kvfs failed: $dump"
assert_contains "$dump" "kvfs.hlc" "getfattr -d -m kvfs shows the HLC stamp"
assert_contains "$dump" "kvfs.origin" "getfattr -d -m kvfs shows the origin node"
hlc1=$(grep 'kvfs.hlc=' <<<"$dump")
append_file "$MNT/xa" "more"
dump2=$(b getfattr --absolute-names -d -m kvfs "$MNT/xa" 2>&1) || fail "second getfattr -d -m kvfs failed: $dump2"
hlc2=$(grep 'kvfs.hlc=' <<<"$dump2")
assert_ne "$hlc1" "$hlc2" "kvfs.hlc after a write (must change)"
st=$(kv stat xa 2>&1) || fail "kvfs stat xa failed: $st"

step "chown/chmod to what a file already is: no new stamp; a real change still stamps"
# tar and cp -p do this for every file; the daemon answers it without a commit.
b chmod 640 "$MNT/xa" || fail "chmod 640 failed"
hlc3=$(b getfattr --absolute-names --only-values -n kvfs.hlc "$MNT/xa") || fail "getfattr kvfs.hlc failed"
b chown "$(id -u):$(id -g)" "$MNT/xa" || fail "chown to the same owner failed"
b chmod 640 "$MNT/xa" || fail "chmod to the same mode failed"
assert_eq "$hlc3" "$(b getfattr --absolute-names --only-values -n kvfs.hlc "$MNT/xa")" \
  "kvfs.hlc after a chown/chmod that changes nothing (must not change)"
assert_eq "640" "$(b stat -c %a "$MNT/xa")" "mode after a no-op chmod"
b chmod 604 "$MNT/xa" || fail "chmod 604 failed"
assert_ne "$hlc3" "$(b getfattr --absolute-names --only-values -n kvfs.hlc "$MNT/xa")" \
  "kvfs.hlc after a chmod that changes the mode (must change)"
assert_eq "604" "$(b stat -c %a "$MNT/xa")" "mode after chmod 604"

step "rsync -a into the mount, second run transfers nothing"
if command -v rsync >/dev/null; then
  mkdir -p "$IT_TMP/rs/sub"
  for i in $(seq 1 50); do head -c $((i * 100)) /dev/urandom >"$IT_TMP/rs/sub/r$i"; done
  ln -s sub/r1 "$IT_TMP/rs/link"
  chmod 600 "$IT_TMP/rs/sub/r7"
  run_bounded 60 rsync -a "$IT_TMP/rs/" "$MNT/rs/" || fail "rsync -a into the mount failed"
  out=$(run_bounded 60 rsync -a --itemize-changes "$IT_TMP/rs/" "$MNT/rs/") || fail "second rsync failed"
  assert_eq "" "$out" "second rsync -a --itemize-changes (sizes, mtimes, modes kept)"
  out=$(run_bounded 60 diff -r --no-dereference "$IT_TMP/rs" "$MNT/rs" 2>&1) || fail "diff -r after rsync: $out"
else
  log "rsync not installed; rsync step not run"
fi

step "durability: closed and fsynced data survive kill -9 of the daemon"
write_file "$MNT/closed.txt" "closed before the crash"
rm -f "$IT_TMP/synced"
# (timeout itself in the background, so that $! is its pid and killing it
# ends the writer too)
timeout -k 5 60 "$PY" - "$MNT/fsynced.bin" "$IT_TMP/synced" "$MNT/held.bin" <<'EOF2' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, b"S" * 100000)
os.fsync(fd)
# A file deleted while open: its content must stay until the close, which the
# crash skips; the remount purges it.
held = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(held, b"H" * 200000)
os.setxattr(sys.argv[3], "user.held", b"yes")
os.unlink(sys.argv[3])
open(sys.argv[2], "w").close()      # tell the test fsync has returned
time.sleep(50)                      # keep the file open across the crash
EOF2
writer=$!
wait_until 20 "fsync" test -e "$IT_TMP/synced" || fail "writer did not get through fsync within 20 s"
daemon=$(pids_mentioning "$MNT")
[[ -n $daemon ]] || fail "cannot find the daemon serving $MNT"
# fsync went through the store's redo log: a record starts one of its two halves.
heads() { local half=$(( $(stat -c %s "$STORE/db/redo.log") / 2 ))
  { head -c 4 "$STORE/db/redo.log"; tail -c +$((half + 1)) "$STORE/db/redo.log" | head -c 4; } | od -An -c | tr -d ' \n'; }
[[ $(heads) == *KVRD* ]] || fail "no record at the start of either half of the redo log after fsync (heads: $(heads))"
check_counts() { # "<content bytes> <xattrs>" from kvfs check
  kv check | sed -n 's/.*(\([0-9]*\) bytes), \([0-9]*\) extended attributes.*/\1 \2/p'
}
read -r bytes_held xattrs_held <<<"$(check_counts)"
[[ -n $bytes_held ]] || fail "could not read the counts of kvfs check: $(kv check 2>&1)"
log "kill -9 $daemon"
kill -9 $daemon
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
force_unmount "$MNT" || fail "cannot unmount $MNT after the daemon was killed"
it_mount
# The remount found everything logged already in the store, and emptied the log.
grep -q "could not be replayed" "$STORE/log/mount.log" && fail "the remount could not replay the redo log: $(grep "could not be replayed" "$STORE/log/mount.log")"
[[ $(heads) != *KVRD* ]] || fail "the redo log still holds records after the remount"
assert_file_eq "$MNT/closed.txt" "closed before the crash" "closed file after kill -9 + remount"
assert_eq "100000" "$(b stat -c %s "$MNT/fsynced.bin")" "size of the fsynced file after kill -9 + remount"
assert_eq "0" "$(bsh 'tr -d S < "$1" | wc -c' "$MNT/fsynced.bin" | tr -d ' ')" "bytes other than 'S' in the fsynced file"
assert_eq "ok" "$(sq "$db" 'PRAGMA integrity_check;')" "sqlite integrity_check after kill -9 + remount"
out=$(gitc fsck --strict 2>&1) || fail "git fsck after kill -9 + remount: $out"
purged() {
  local bytes xattrs
  read -r bytes xattrs <<<"$(check_counts)"
  (( bytes <= bytes_held - 200000 && xattrs < xattrs_held ))
}
wait_until 5 "the held file purged" purged || fail "the file deleted while open before \
the crash still holds its content or xattr 5 s after the remount (kvfs check: $(check_counts); \
before the crash: $bytes_held $xattrs_held)"

it_umount

step "kvfs check: the store is sound"
check_store
