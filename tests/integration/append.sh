#!/usr/bin/env bash
# append: O_APPEND writes land at the end of the file as the store has it, also when
# the file changed under the mount (the CLI here; a peer's merge alike) while an
# appender held it open and the kernel still cached the old size; and appenders in
# two processes lose nothing.
. "$(dirname "$0")/lib.sh"

it_setup
it_mount

step "an open O_APPEND fd appends after a kvfs set that shrank the file"
# The fd is opened and the first block written while the file is 1000 bytes long;
# then the CLI replaces it with 5 bytes; the next append must give "short" + tail,
# not 995 zero bytes before the tail (the kernel's cached size is still 1000).
out=$(b "$PY" - "$MNT/log" "$KVFS_BIN" "$STORE" <<'PY'
import os, subprocess, sys
path, kvfs, store = sys.argv[1:4]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
os.write(fd, b"x" * 1000)
os.fstat(fd)  # the kernel now caches size 1000
subprocess.run([kvfs, "--store", store, "set", "log", "short"], check=True,
               stdout=subprocess.DEVNULL)
os.write(fd, b"+tail")
os.close(fd)
with open(path, "rb") as f:
    data = f.read()
print(len(data), data[:12].replace(b"\0", b".").decode("latin-1"), data.count(b"\0"))
PY
) || fail "append probe failed: $out"
assert_eq "10 short+tail 0" "$out" "size, first bytes and NUL count after the append"
got=$(kv get log) || fail "kvfs get log failed"
assert_eq "short+tail" "$got" "kvfs get after the append"
assert_eq "10" "$(b stat -c %s "$MNT/log")" "stat size after the append"

step "shell >> after a kvfs set that grew the file"
write_file "$MNT/grow" "a"
assert_file_eq "$MNT/grow" "a" "before"
kv set grow "abcdef" >/dev/null || fail "kvfs set grow failed"
append_file "$MNT/grow" "+"
assert_file_eq "$MNT/grow" "abcdef+" "echo >> after kvfs set grew the file"

step "two processes appending alternately lose nothing"
out=$(b "$PY" - "$MNT/shared" <<'PY'
import os, sys
path = sys.argv[1]
a = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
pid = os.fork()
if pid == 0:
    b = os.open(path, os.O_WRONLY | os.O_APPEND)
    for i in range(200):
        os.write(b, b"B%03d\n" % i)
    os._exit(0)
for i in range(200):
    os.write(a, b"A%03d\n" % i)
os.waitpid(pid, 0)
os.close(a)
lines = open(path, "rb").read().split(b"\n")[:-1]
print(len(lines), sum(l.startswith(b"A") for l in lines), sum(l.startswith(b"B") for l in lines),
      len(set(lines)))
PY
) || fail "two-appender probe failed: $out"
assert_eq "400 200 200 400" "$out" "lines, A lines, B lines, distinct lines"

step "appends are still there after a remount"
it_remount
assert_file_eq "$MNT/log" "short+tail" "log after remount"
assert_file_eq "$MNT/grow" "abcdef+" "grow after remount"
assert_eq "2000" "$(b stat -c %s "$MNT/shared")" "size of the two-appender file after remount"
it_umount

step "kvfs check: the store is sound"
check_store
