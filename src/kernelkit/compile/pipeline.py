"""Kernel IR -> loaded binary, for any compiled backend, through the cache.

One build for every target: the backend renders the kernel, the key is computed, the process memo and the
on-disk cache are consulted (under a per-key lock, so concurrent processes and MPI ranks compile once), the
backend compiles into the cache and loads the result. The key is the sha256 of the kernelkit version, a
fingerprint of the code generator (the shared frontend, IR and renderer sources, the C++ headers and the
backend's own codegen files), the backend's name and toolchain identity, and the generated source (which carries
the IR, the specialization and every baked-in constant): anything that could change the binary changes the key.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from kernelkit import config
from kernelkit.backends.base import Backend
from kernelkit.compile.cache import Cache, CacheError, CacheUnusable, default_cache, fallback_cache
from kernelkit.errors import CompileError
from kernelkit.ir import nodes as N

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SHARED_DIRS = ("frontend", "ir", "lang", "loops")  # every .py here shapes the IR every backend renders
_SHARED_FILES = ("backends/cpp.py", "compile/pipeline.py")
_HEADERS = os.path.join(_PKG, "backends", "include", "kernelkit")

_fingerprints: dict[tuple[str, ...], str] = {}


def _shared_files() -> list[str]:
    files = [os.path.join(_PKG, p) for p in _SHARED_FILES]
    for d in _SHARED_DIRS:
        root = os.path.join(_PKG, d)
        if os.path.isdir(root):
            files += sorted(os.path.join(root, n) for n in os.listdir(root) if n.endswith(".py"))
    for dirpath, dirnames, filenames in os.walk(_HEADERS):
        dirnames.sort()
        files += sorted(os.path.join(dirpath, n) for n in filenames)
    return files


def codegen_fingerprint(backend: Backend) -> str:
    """sha256 of the kernelkit version and the code generator's sources (memoized per process)."""
    own = backend.codegen_files()
    hit = _fingerprints.get(own)
    if hit is not None:
        return hit
    from kernelkit._version import __version__

    h = hashlib.sha256(__version__.encode())
    for path in _shared_files() + list(own):
        with open(path, "rb") as f:
            h.update(os.path.relpath(path, _PKG).encode() + b"\0" + f.read())
    _fingerprints[own] = digest = h.hexdigest()
    return digest


@dataclass
class Built:
    """A loaded binary (what `backend.load` returned) and where it came from."""

    binary: Any
    path: str
    key: str
    from_cache: bool


_built: dict[str, Built] = {}  # key -> Built, per process


def key_of(backend: Backend, source: str) -> str:
    h = hashlib.sha256()
    for part in (codegen_fingerprint(backend), backend.name, backend.identity(default_cache()), source):
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def build(backend: Backend, kernel: N.Kernel) -> Built:
    """Compile (or find in the cache) and load `kernel` for `backend`; its companions are built too."""
    for companion in backend.companions:
        accepts = getattr(companion, "accepts", None)  # a companion made for some units only
        if accepts is None or accepts(kernel):
            build(companion, kernel)
    source = backend.render(kernel)
    key = key_of(backend, source)
    hit = _built.get(key)
    if hit is not None:
        return hit
    cfg = config.get()
    if cfg.dump_dir:
        _dump(cfg.dump_dir, kernel, source, key, backend.suffix)
    for _attempt in range(3):
        path, from_cache = _cached(backend, kernel, source, key)
        try:
            binary = backend.load(path, kernel)
        except OSError:
            if os.path.exists(path):
                raise
            continue  # removed between the lookup and the load (a cache cleared meanwhile): build it again
        built = Built(binary, path, key, from_cache)
        _built[key] = built
        return built
    raise CacheError(f"the compiled kernel {kernel.name!r} keeps disappearing from the cache before it is loaded")


def _cached(backend: Backend, kernel: N.Kernel, source: str, key: str) -> tuple[str, bool]:
    """(path of the binary, found in the cache): from the configured cache, else from the fallback cache when
    the configured one cannot be used (cache.fallback_cache warns once). A cache directory deleted meanwhile
    (another process cleared it) is re-created and the build tried again; one that keeps vanishing counts as
    unusable."""
    cache = default_cache()
    vanished = 0
    while True:
        try:
            return _lookup_or_store(cache, backend, kernel, source, key)
        except CacheUnusable as e:
            if cache is not default_cache():
                raise CacheError(
                    f"{e.message}; kernelkit fell back to {cache.directory!r} because {default_cache().directory!r} "
                    "could not be used either"
                ) from None
            cache = fallback_cache(e)
        except FileNotFoundError:
            cache.forget_checks()  # the directory vanished between two steps: it is made (and checked) again
            vanished += 1
            if vanished >= 3:
                why = CacheUnusable(
                    cache.root, "it keeps disappearing while kernels are built (another process deletes it)"
                )
                if cache is not default_cache():
                    raise why from None
                cache = fallback_cache(why)
                vanished = 0


def _lookup_or_store(cache: Cache, backend: Backend, kernel: N.Kernel, source: str, key: str) -> tuple[str, bool]:
    path = _verified(cache, backend, key)
    if path is not None:
        return path, True
    with cache.lock(key):
        path = _verified(cache, backend, key)  # another process may have built it while we waited
        if path is not None:
            return path, True
        provenance = {"kernel": kernel.name, "file": kernel.loc.file, "target": backend.name}
        try:
            return cache.store(key, lambda out: backend.compile(source, kernel, out), provenance), False
        except CompileError as e:
            full = _out_of_space(cache.root, e)
            if full:
                raise CacheUnusable(cache.root, full) from None
            raise


def _verified(cache: Cache, backend: Backend, key: str) -> str | None:
    """A cached binary that passed the cache's checks and the backend's (`verify`: loading it cannot crash)."""
    path = cache.lookup(key)
    if path is not None and backend.verify(path) is not None:
        return None  # rebuilt under the lock, then replaced atomically
    return path


_FULL = ("No space left on device", "Disk quota exceeded", "File too large", "File size limit exceeded")


def _out_of_space(root: str, e: CompileError) -> str | None:
    """Why a failed compile is the cache's fault (its disk is full), or None."""
    text = f"{e.message}\n{e.detail or ''}"
    for phrase in _FULL:
        if phrase in text:
            return f"the compiler could not write its output there ({phrase})"
    try:
        st = os.statvfs(root)
    except OSError:
        return None
    if st.f_bavail * st.f_frsize < (1 << 20):
        return "its file system is full"
    return None


def _dump(directory: str, kernel: N.Kernel, source: str, key: str, suffix: str) -> None:
    from kernelkit.ir import printer

    os.makedirs(directory, exist_ok=True)
    stem = os.path.join(directory, f"{kernel.name}-{key[:12]}")
    with open(stem + ".ir", "w", encoding="utf-8") as f:
        f.write((printer.program(kernel) if isinstance(kernel, N.Program) else printer.kernel(kernel)) + "\n")
    with open(stem + suffix, "w", encoding="utf-8") as f:
        f.write(source)
