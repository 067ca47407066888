"""The on-disk kernel cache: per user, private, content-addressed, safe under concurrency.

Layout: `<dir>/v1/<key>.so` (the binary), `<key>.json` (its sha256 and provenance; written last, so its presence
commits the entry), `<key>.lock` (held while compiling). Before anything is loaded the directory must belong to
this user and be closed to others (mode 0700), the entry's files must belong to this user, and the binary's
sha256 must match its record; an entry that fails any check is rebuilt, never loaded. Writes go to a temporary
file in the same directory followed by os.replace, so a reader never sees half a file.

A directory that cannot be used (a file is in the way, it is read-only, the disk is full, it belongs to someone
else) raises CacheUnusable, naming the path and KERNELKIT_CACHE_DIR; the build then falls back to a private
cache in the temporary directory with a warning (`fallback_cache`). Temporary files are named
`.tmp-<host>-<pid>-...`: the next build removes those of processes that no longer run (a killed compiler, a
killed process), and any older than a day.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import socket
import stat
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator

from kernelkit import config
from kernelkit.backends import base
from kernelkit.errors import KernelError, caller_loc

FORMAT = "v1"


class CacheError(KernelError, PermissionError):
    """The cache directory is not safe to load code from."""


class CacheUnusable(CacheError):
    """The cache directory cannot be used (created, written, trusted); the build falls back to another one."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(
            f"the kernel cache {path!r} cannot be used: {reason}. Set KERNELKIT_CACHE_DIR to a directory of your "
            "own with free space"
        )


class CacheWarning(UserWarning):
    """The configured kernel cache could not be used; kernels are cached elsewhere for now."""


_TMP = ".tmp-"  # prefix of every temporary file or directory in the cache
_STALE_AFTER = 24 * 3600.0  # seconds: temporary files older than this are removed whoever made them
_HOST = socket.gethostname().replace("-", "_") or "host"

# errors of a directory that cannot be written or created (reported, then the build falls back)
_UNUSABLE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.ENOTDIR}


def _reason(e: OSError) -> str:
    return f"{e.strerror or type(e).__name__} ({errno.errorcode.get(e.errno or 0, e.errno)})"


def temp_prefix() -> str:
    """The prefix of this process's temporary files in a cache (host and pid: see Cache.sweep)."""
    return f"{_TMP}{_HOST}-{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's process
        return True
    return True


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
            try:
                os.makedirs(d, mode=0o700, exist_ok=True)
                st = os.lstat(d)
            except FileExistsError:
                raise CacheUnusable(d, "a file (not a directory) is in the way") from None
            except OSError as e:
                raise CacheUnusable(d, f"it cannot be created: {_reason(e)}") from None
            if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
                raise CacheUnusable(
                    d,
                    "it is not a plain directory (a symbolic link or a file); kernelkit does not load code through it",
                )
            if st.st_uid != os.getuid():
                raise CacheUnusable(
                    d, f"it belongs to uid {st.st_uid}, not to you (uid {os.getuid()}), so code is never loaded from it"
                )
            if st.st_mode & 0o077:
                # A directory we own but others can write to: close it rather than trust it.
                try:
                    os.chmod(d, 0o700)
                except OSError as e:
                    raise CacheUnusable(d, f"it is open to others and cannot be closed: {_reason(e)}") from None
        self._checked = True

    def forget_checks(self) -> None:
        """Check the directory again before its next use (it was removed, or replaced)."""
        self._checked = False

    def _unusable(self, e: OSError, doing: str) -> CacheUnusable | None:
        """The CacheUnusable for an OSError met while writing, or None when it is not about the directory.
        A directory removed meanwhile (another process cleared the cache) is re-created on the next attempt."""
        if isinstance(e, FileNotFoundError):
            self.forget_checks()
            return None
        if e.errno in _UNUSABLE_ERRNOS:
            return CacheUnusable(self.root, f"{doing} failed: {_reason(e)}")
        return None

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
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            unusable = self._unusable(e, "creating a lock file")
            if unusable is not None:
                raise unusable from None
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def store(self, key: str, build: Callable[[str], None], provenance: dict) -> str:
        """Build into a temporary file with `build(tmp_path)`, then publish binary and record atomically. The
        build may make `tmp_path + ".d"` for its own temporary files; it is removed with the temporary file."""
        self._ensure()
        self.sweep()
        so, meta, _ = self.paths(key)
        tmp = tmpm = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=".so", dir=self.root)
            os.close(fd)
            try:
                build(tmp)
            except Exception:
                if not os.path.exists(tmp):  # the cache was cleared under the build (its inputs are gone)
                    self.forget_checks()
                    raise FileNotFoundError(errno.ENOENT, "the build's temporary file was removed", tmp) from None
                raise
            with open(tmp, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            os.chmod(tmp, 0o700)
            record = dict(provenance, key=key, sha256=digest, created=time.time())
            fd, tmpm = tempfile.mkstemp(prefix=temp_prefix(), suffix=".json", dir=self.root)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f)
            os.replace(tmp, so)
            os.replace(tmpm, meta)
        except OSError as e:
            unusable = self._unusable(e, "writing a compiled kernel")
            if unusable is not None:
                raise unusable from None
            raise
        finally:
            for t in (tmp, tmpm):
                if t is not None:
                    _remove(t)
            if tmp is not None:
                _remove(tmp + ".d")
        return so

    def sweep(self) -> int:
        """Remove temporary files left by builds that did not finish (their process is gone, or they are older
        than a day); returns how many were removed. Those of live processes are left alone."""
        removed = 0
        now = time.time()
        try:
            names = os.listdir(self.root)
        except OSError:
            return 0
        for name in names:
            if not name.startswith(".") or name.endswith(".lock"):
                continue
            path = os.path.join(self.root, name)
            try:
                age = now - os.lstat(path).st_mtime
            except FileNotFoundError:
                continue
            parts = name[len(_TMP) :].split("-") if name.startswith(_TMP) else []
            dead = len(parts) >= 3 and parts[0] == _HOST and parts[1].isdigit() and not _pid_alive(int(parts[1]))
            if dead or age > _STALE_AFTER:
                removed += _remove(path)
        return removed

    # ------------------------------------------------------------------------------------------ records

    def read(self, name: str) -> dict | None:
        """A small JSON record (a toolchain memo) written by `write`, or None: missing, foreign or garbled (or the
        directory is unusable)."""
        try:
            self._ensure()
        except CacheUnusable:
            return None
        path = os.path.join(self.root, f"{name}.record.json")
        if not self._owned(path):
            return None
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def write(self, name: str, data: dict) -> bool:
        """Replace the record `name` atomically. Records are memos: when the directory cannot be written the
        record is not kept (False) and whoever needs it computes it again."""
        try:
            self._ensure()
            fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=".json", dir=self.root)
        except (CacheUnusable, OSError):
            return False
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(tmp, os.path.join(self.root, f"{name}.record.json"))
        except OSError:
            return False
        finally:
            _remove(tmp)
        return True

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


def _remove(path: str) -> int:
    """Remove a temporary file or directory if it is there (1 when something was removed)."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        return 0
    return 1


_default: Cache | None = None
_fallback: Cache | None = None
_warned: set[tuple[str, str]] = set()


def default_cache() -> Cache:
    """The cache at KERNELKIT_CACHE_DIR (default: $XDG_CACHE_HOME/kernelkit)."""
    global _default
    d = config.get().cache_dir
    if _default is None or _default.directory != os.path.abspath(d):
        _default = Cache(d)
    return _default


def fallback_cache(why: CacheUnusable) -> Cache:
    """A private cache in the temporary directory, used while the configured one cannot be (a warning says
    why, once per reason): `$TMPDIR/kernelkit-cache-<uid>`, shared by this user's processes, or a fresh
    directory of this process when even that one cannot be used."""
    global _fallback
    if _fallback is None:
        candidate = Cache(os.path.join(tempfile.gettempdir(), f"kernelkit-cache-{os.getuid()}"))
        try:
            candidate._ensure()
        except CacheUnusable:
            candidate = Cache(tempfile.mkdtemp(prefix="kernelkit-cache-"))
        _fallback = candidate
    if (why.path, why.reason) not in _warned:
        _warned.add((why.path, why.reason))
        where = caller_loc()
        warnings.warn_explicit(
            f"{why.message}; kernels are cached in {_fallback.directory!r} for now",
            CacheWarning,
            where.file if where is not None else "<kernelkit>",
            where.line if where is not None else 0,
        )
    return _fallback


base.set_records(default_cache)  # backends read their toolchain memos through the interface, not from here
