"""The on-disk kernel cache: per user, private, content-addressed, safe under concurrency.

Layout: `<dir>/v1/<key>.so` (the binary), `<key>.json` (its sha256 and provenance; written last, so its presence
commits the entry), `<key>.lock` (held while compiling). Before anything is loaded the directory must belong to
this user and be closed to others (mode 0700), the entry's files must belong to this user, and the binary's
sha256 must match its record; an entry that fails any check is rebuilt, never loaded. Writes go to a temporary
file in the same directory followed by os.replace, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator

from kernelkit import config
from kernelkit.backends import base
from kernelkit.errors import KernelError

FORMAT = "v1"


class CacheError(KernelError, PermissionError):
    """The cache directory is not safe to load code from."""


class Cache:
    def __init__(self, directory: str):
        self.directory = os.path.abspath(directory)
        self.root = os.path.join(self.directory, FORMAT)
        self._checked = False

    # ------------------------------------------------------------------------------------------ safety

    def _ensure(self) -> None:
        if self._checked:
            return
        for d in (self.directory, self.root):
            os.makedirs(d, mode=0o700, exist_ok=True)
            st = os.lstat(d)
            if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
                raise CacheError(f"kernel cache {d!r} is not a plain directory; refusing to use it")
            if st.st_uid != os.getuid():
                raise CacheError(
                    f"kernel cache {d!r} belongs to uid {st.st_uid}, not to you (uid {os.getuid()}); refusing to "
                    "load code from it. Set KERNELKIT_CACHE_DIR to a directory of your own."
                )
            if st.st_mode & 0o077:
                # A directory we own but others can write to: close it rather than trust it.
                os.chmod(d, 0o700)
        self._checked = True

    def _owned(self, path: str) -> bool:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return False
        return stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and not (st.st_mode & 0o022)

    # ------------------------------------------------------------------------------------------ entries

    def paths(self, key: str) -> tuple[str, str, str]:
        base = os.path.join(self.root, key)
        return base + ".so", base + ".json", base + ".lock"

    def lookup(self, key: str) -> str | None:
        """The path of a verified binary for `key`, or None (missing, foreign or corrupt: the caller rebuilds)."""
        self._ensure()
        so, meta, _ = self.paths(key)
        if not (self._owned(so) and self._owned(meta)):
            return None
        try:
            with open(meta, encoding="utf-8") as f:
                record = json.load(f)
            with open(so, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("key") != key or record.get("sha256") != digest:
            return None
        return so

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """An exclusive lock on one key, across processes (and MPI ranks on one node)."""
        import fcntl

        self._ensure()
        _, _, lock = self.paths(key)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def store(self, key: str, build: Callable[[str], None], provenance: dict) -> str:
        """Build into a temporary file with `build(tmp_path)`, then publish binary and record atomically."""
        self._ensure()
        so, meta, _ = self.paths(key)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".so", dir=self.root)
        os.close(fd)
        try:
            build(tmp)
            with open(tmp, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            os.chmod(tmp, 0o700)
            os.replace(tmp, so)
            record = dict(provenance, key=key, sha256=digest, created=time.time())
            fd, tmpm = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".json", dir=self.root)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f)
            os.replace(tmpm, meta)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return so

    # ------------------------------------------------------------------------------------------ records

    def read(self, name: str) -> dict | None:
        """A small JSON record (a toolchain memo) written by `write`, or None: missing, foreign or garbled."""
        self._ensure()
        path = os.path.join(self.root, f"{name}.record.json")
        if not self._owned(path):
            return None
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write(self, name: str, data: dict) -> None:
        """Replace the record `name` atomically."""
        self._ensure()
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".json", dir=self.root)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(tmp, os.path.join(self.root, f"{name}.record.json"))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    # ------------------------------------------------------------------------------------------ management

    def entries(self) -> int:
        if not os.path.isdir(self.root):
            return 0
        return sum(1 for n in os.listdir(self.root) if n.endswith(".json") and not n.endswith(".record.json"))

    def size_bytes(self) -> int:
        total = 0
        if os.path.isdir(self.root):
            for n in os.listdir(self.root):
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(self.root, n)).st_size
        return total

    def clear(self) -> int:
        """Remove every entry; returns how many were removed. Binaries already loaded stay valid."""
        removed = 0
        if not os.path.isdir(self.root):
            return 0
        for n in os.listdir(self.root):
            p = os.path.join(self.root, n)
            with contextlib.suppress(FileNotFoundError):
                if os.path.isfile(p) and not os.path.islink(p):
                    removed += n.endswith(".json") and not n.endswith(".record.json")
                    os.unlink(p)
        return removed


_default: Cache | None = None


def default_cache() -> Cache:
    """The cache at KERNELKIT_CACHE_DIR (default: $XDG_CACHE_HOME/kernelkit)."""
    global _default
    d = config.get().cache_dir
    if _default is None or _default.directory != os.path.abspath(d):
        _default = Cache(d)
    return _default


base.set_records(default_cache)  # backends read their toolchain memos through the interface, not from here
