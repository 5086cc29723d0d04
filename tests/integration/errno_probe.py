#!/usr/bin/env python3
"""Run one file-system call and print OK or the errno name it failed with.

Usage: errno_probe.py OP ARGS...   (see OPS below). Exit status 0 when the call
ran (whatever its outcome), 2 on bad usage. The tests compare the printed name
with the exact errno POSIX requires (ENOTEMPTY, ENAMETOOLONG, ...), which the
shell tools' messages alone would not pin down.
"""
import errno
import fcntl
import os
import sys


def _open_close(path, flags, mode=0o644):
    os.close(os.open(path, flags, mode))


def _write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data.encode())
    finally:
        os.close(fd)


def _append(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, data.encode())
    finally:
        os.close(fd)


def _read(path):
    with open(path, "rb") as f:
        f.read()


def _readdir(path):
    os.listdir(path)


OPS = {
    "open": lambda p: _open_close(p, os.O_RDONLY),
    "open_w": lambda p: _open_close(p, os.O_WRONLY),
    "open_rw": lambda p: _open_close(p, os.O_RDWR),
    "creat": lambda p: _open_close(p, os.O_WRONLY | os.O_CREAT),
    "creat_excl": lambda p: _open_close(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL),
    "open_dir_w": lambda p: _open_close(p, os.O_WRONLY),
    "open_dironly": lambda p: _open_close(p, os.O_RDONLY | os.O_DIRECTORY),
    "open_nofollow": lambda p: _open_close(p, os.O_RDONLY | os.O_NOFOLLOW),
    "read": _read,
    "write": _write,
    "append": _append,
    "readdir": _readdir,
    "stat": os.stat,
    "lstat": os.lstat,
    "mkdir": lambda p: os.mkdir(p, 0o755),
    "rmdir": os.rmdir,
    "unlink": os.unlink,
    "rename": os.rename,
    # RENAME_NOREPLACE through renameat2 (flag 1).
    "rename_noreplace": lambda a, b: _renameat2(a, b, 1),
    "link": os.link,
    "symlink": os.symlink,
    "readlink": os.readlink,
    "chmod": lambda p, m: os.chmod(p, int(m, 8)),
    "chown": lambda p, u, g: os.chown(p, int(u), int(g)),
    "truncate": lambda p, n: os.truncate(p, int(n)),
    "utime": lambda p: os.utime(p, (0, 0)),
    "utime_now": lambda p: os.utime(p, None),
    "setxattr": lambda p, n, v: os.setxattr(p, n, v.encode()),
    "getxattr": lambda p, n: os.getxattr(p, n),
    "removexattr": os.removexattr,
    "mknod_fifo": lambda p: os.mkfifo(p, 0o644),
    "chdir": os.chdir,
    "flock_nb": lambda p: _flock_nb(p),
}


def _renameat2(a, b, flags):
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    AT_FDCWD = -100
    r = libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags)
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def _flock_nb(p):
    fd = os.open(p, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def main(argv):
    if len(argv) < 2 or argv[1] not in OPS:
        print("usage: errno_probe.py {%s} ARGS..." % "|".join(sorted(OPS)),
              file=sys.stderr)
        return 2
    try:
        OPS[argv[1]](*argv[2:])
    except OSError as e:
        print(errno.errorcode.get(e.errno, "errno%d" % e.errno))
        return 0
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
