"""Files keyed by their content's hash under the user's cache directory: the
compiled Python code of a scenario (`explore.codegen`) and the JIT's object
code (`vm.llvm_jit`), so that a spec checked again skips what it compiled
before.

What is read back is run (code objects, machine code), so a read trusts
nothing that another user or a damaged disk could have put there:
- the directories are this user's and writable by nobody else (checked
  on every read and write; a directory this module creates is 0700);
- a file is this user's, a regular file, not a link, and holds a digest of
  its payload that must match (a torn or flipped file is a miss, and is
  removed);
- files are written whole to a temporary name and renamed (`fsio`), so a
  reader never sees half of one.
A cache that cannot be used (read-only, someone else's, a full disk) costs
the next run a compile, never the run's result. Each kind of entry is bounded
(`FileCache.limit`): past it the least recently used files go.

`MIGCHECK_CACHE=off` turns these caches off (not numba's own, which holds
the VM's kernels: `vm.jit`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from checker.fsio import write_binary_atomic

ROOT_NAME = "migcheck-vm"
_MAGIC = b"migcheck-cache-2\n"
_DIGEST = 32  # blake2b-256
_STALE_TMP_NS = 3600 * 10**9


def cache_root() -> Path:
    """`migcheck-vm` under the user's cache directory ($NUMBA_CACHE_DIR,
    else $XDG_CACHE_HOME, else ~/.cache), where numba's cache of the VM's
    kernels lives too; with none (no $HOME, no entry for this user in the
    password file: a bare container), one of this user's own under the
    temporary directory (`_temp_root`)."""
    base = os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            return _temp_root(tempfile.gettempdir(), os.geteuid())
    return Path(base) / ROOT_NAME


@functools.cache
def _temp_root(tmp: str, uid: int) -> Path:
    """`migcheck-vm-UID` in `tmp`, made private; if someone else's is there
    (or one open to others), a fresh directory of this process's: numba's
    cache is code too."""
    path = Path(tmp) / f"{ROOT_NAME}-{uid}"
    with contextlib.suppress(OSError):
        path.mkdir(mode=0o700)
    return path if _private(path) else Path(tempfile.mkdtemp(prefix=f"{ROOT_NAME}-"))


def enabled() -> bool:
    return os.environ.get("MIGCHECK_CACHE", "").lower() not in ("off", "0", "no")


def key_of(*parts: bytes | str) -> str:
    """A file name for what `parts` determine."""
    h = hashlib.blake2b(digest_size=20)
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH
# What a cache may meet and turn into a miss: a file system's errors, no
# home directory (RuntimeError), a platform without some call.
_FAILURES = (OSError, RuntimeError, NotImplementedError, ValueError)


def _digest(key: str, payload: bytes) -> bytes:
    """Over the key too: an entry renamed to another key is damaged."""
    h = hashlib.blake2b(digest_size=_DIGEST)
    h.update(key.encode())
    h.update(b"\0")
    h.update(payload)
    return h.digest()


def _private(path: Path, mend: bool = False) -> bool:
    """Whether `path` is a directory (not a link) of this user's that no one
    else may write to. With `mend`, migcheck's own directory (`ROOT_NAME`
    or one in it) of this user's that others may write to (made so by a
    umask of 002, by numba or an older migcheck) loses that right first;
    never another directory, nor a sticky one such as /tmp."""
    try:
        st = os.lstat(path)
        if mend and stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() \
                and st.st_mode & _OTHERS_WRITE and not st.st_mode & stat.S_ISVTX \
                and ROOT_NAME in (path.name, path.parent.name):
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            try:
                os.fchmod(fd, stat.S_IMODE(os.fstat(fd).st_mode) & ~_OTHERS_WRITE)
            finally:
                os.close(fd)
            st = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid()
            and not st.st_mode & _OTHERS_WRITE)


class FileCache:
    """Entries of one kind, in the directory `where()` names (a function, so
    that a test or a benchmark may point it elsewhere), at most `limit` bytes
    of them."""

    def __init__(self, where: Callable[[], Path], limit: int, suffix: str):
        self.where = where
        self.limit = limit
        self.suffix = suffix

    @property
    def directory(self) -> Path:
        return self.where()

    def _usable(self, mend: bool = False) -> bool:
        d = self.directory
        return _private(d.parent, mend) and _private(d, mend)

    def path(self, key: str) -> Path:
        return self.directory / f"{key}{self.suffix}"

    def has(self, key: str) -> bool:
        """Whether an entry is there (not read: a hint, for choosing when to
        compile)."""
        try:
            return enabled() and self._usable() and self.path(key).is_file()
        except _FAILURES:
            return False

    def get(self, key: str) -> bytes | None:
        """The payload stored under `key`, or None (absent, not trusted,
        damaged: then removed; or any failure)."""
        try:
            return self._get(key) if enabled() else None
        except _FAILURES:
            return None

    def _get(self, key: str) -> bytes | None:
        if not self._usable():
            return None
        path = self.path(key)
        try:  # never blocks on a FIFO; never follows a link
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() \
                    or st.st_size > self.limit:
                return None
            data = f.read()
        head = len(_MAGIC) + _DIGEST
        payload = data[head:]
        if data[:len(_MAGIC)] != _MAGIC or data[len(_MAGIC):head] != _digest(key, payload):
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: the last to be evicted
        return payload

    def put(self, key: str, payload: bytes) -> None:
        """Store `payload` under `key`; a cache that cannot take it (or any
        failure) is left as it is."""
        if not enabled():
            return
        with contextlib.suppress(*_FAILURES):
            self._put(key, payload)

    def _put(self, key: str, payload: bytes) -> None:
        d = self.directory
        d.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        d.mkdir(mode=0o700, exist_ok=True)
        if not self._usable(mend=True):
            return
        def write(f: BinaryIO) -> None:
            f.write(_MAGIC + _digest(key, payload) + payload)

        write_binary_atomic(self.path(key), write)
        self._evict()

    def _evict(self) -> None:
        """Past `limit` bytes, remove the least recently used files until
        three quarters of it are left; and a temporary file an hour old (a
        writer killed before its rename)."""
        files = []
        total = 0
        stale = time.time_ns() - _STALE_TMP_NS
        with os.scandir(self.directory) as it:
            for e in it:
                if not e.is_file(follow_symlinks=False):
                    continue
                st = e.stat(follow_symlinks=False)
                if e.name.endswith(".tmp"):
                    if st.st_mtime_ns < stale:
                        with contextlib.suppress(OSError):
                            os.unlink(e.path)
                    continue
                if not e.name.endswith(self.suffix):  # an older format's, never read
                    with contextlib.suppress(OSError):
                        os.unlink(e.path)
                    continue
                files.append((st.st_mtime_ns, st.st_size, e.path))
                total += st.st_size
        if total <= self.limit:
            return
        files.sort()
        for _, size, path in files:
            if total <= self.limit * 3 // 4:
                break
            with contextlib.suppress(OSError):
                os.unlink(path)
                total -= size
