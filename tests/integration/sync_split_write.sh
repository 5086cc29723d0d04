#!/usr/bin/env bash
# sync_split_write: a peer never gets a file between the pieces of one write(2).
# Without the writeback cache the kernel cuts a write(2) into several WRITE requests
# (at the first page boundary when it starts inside a page, then every max_write
# bytes), and each is its own commit. A (listen) appends payloads of 4.5 MB that
# start inside a page, each with one write(2); meanwhile B's store is polled: every
# size it ever shows must be a whole number of payloads. In the end both hold all of
# them, byte for byte.
. "$(dirname "$0")/sync_lib.sh"

it_setup
sync_stores A B
A=$(mnt_of A)
PA=$(free_port)
sync_mount A "listen=127.0.0.1:$PA"
sync_mount B "peer=127.0.0.1:$PA"

step "A appends 24 payloads of 4,500,001 bytes, one write(2) each, while B's size is polled"
out=$(run_bounded 180 "$PY" - "$A/big" "$KVFS_BIN" "$(store_of B)" <<'EOF'
import os, subprocess, sys, threading, time
path, kvfs, store_b = sys.argv[1:]
L, N = 4_500_001, 24
seen, stop = [], threading.Event()
def poll():
    while not stop.is_set():
        r = subprocess.run([kvfs, "--store", store_b, "stat", "big"], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            if line.startswith("size: "):
                seen.append(int(line.split()[1]))
poller = threading.Thread(target=poll)
poller.start()
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(N):
    body = (b"[P%02d]" % i) * (L // 5 + 1)
    os.write(fd, body[: L - 1] + b"\n")   # one write(2) of L bytes
    time.sleep(0.03)
os.close(fd)
deadline = time.time() + 30
while time.time() < deadline and (not seen or seen[-1] != N * L):
    time.sleep(0.05)
stop.set()
poller.join()
torn = sorted({s for s in seen if s % L})
print("samples %d, distinct sizes %d, last %d, torn %s"
      % (len(seen), len(set(seen)), seen[-1] if seen else -1, torn[:5]))
sys.exit(1 if torn or not seen or seen[-1] != N * L else 0)
EOF
) || fail "B showed a state between the pieces of a write(2), or never got all of it: $out"
log "$out"

step "B's copy equals A's"
want=$(sha256sum <"$A/big" | cut -d' ' -f1)
got=$(kvs B get big | sha256sum | cut -d' ' -f1)
assert_eq "$want" "$got" "sha256 of big on B against A"
it_umount "$A"
sync_umount B
