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
from kernelkit.compile.cache import default_cache
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
    cache = default_cache()
    path = cache.lookup(key)
    from_cache = path is not None
    if path is None:
        with cache.lock(key):
            path = cache.lookup(key)  # another process may have built it while we waited
            from_cache = path is not None
            if path is None:
                provenance = {"kernel": kernel.name, "file": kernel.loc.file, "target": backend.name}
                path = cache.store(key, lambda out: backend.compile(source, kernel, out), provenance)
    built = Built(backend.load(path, kernel), path, key, from_cache)
    _built[key] = built
    return built


def _dump(directory: str, kernel: N.Kernel, source: str, key: str, suffix: str) -> None:
    from kernelkit.ir import printer

    os.makedirs(directory, exist_ok=True)
    stem = os.path.join(directory, f"{kernel.name}-{key[:12]}")
    with open(stem + ".ir", "w", encoding="utf-8") as f:
        f.write((printer.program(kernel) if isinstance(kernel, N.Program) else printer.kernel(kernel)) + "\n")
    with open(stem + suffix, "w", encoding="utf-8") as f:
        f.write(source)
