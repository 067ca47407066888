"""Kernel IR -> loaded native entry point, through the cache.

The key is the sha256 of: the kernelkit version, a fingerprint of the code generator (its Python sources and
the C++ headers), the target, the toolchain identity and flags, and the generated source itself (which carries
the IR, the specialization and every baked-in constant). Anything that could change the binary changes the key.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass

from kernelkit import config
from kernelkit.compile.cache import default_cache
from kernelkit.compile.toolchain import INCLUDE_DIR, require_cxx
from kernelkit.ir import nodes as N

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CODEGEN_SOURCES = (
    "frontend/lower.py", "frontend/builtins.py", "ir/nodes.py", "ir/types.py", "backends/cpp.py",
    "backends/openmp/driver.py", "backends/cuda/render.py", "compile/pipeline.py", "compile/toolchain.py",
)


@functools.lru_cache(maxsize=None)
def codegen_fingerprint() -> str:
    from kernelkit import __version__

    h = hashlib.sha256(__version__.encode())
    files = [os.path.join(_PKG, p) for p in _CODEGEN_SOURCES]
    hdr = os.path.join(INCLUDE_DIR, "kernelkit")
    files += sorted(os.path.join(d, n) for d, _, names in os.walk(hdr) for n in names)  # sub-folders too (nvrtc/)
    for path in files:
        with open(path, "rb") as f:
            h.update(path.encode() + b"\0" + f.read())
    return h.hexdigest()


@dataclass
class Loaded:
    """A loaded kernel binary: the entry address and the library object that keeps it mapped."""

    address: int
    library: object
    path: str
    from_cache: bool


_loaded: dict[str, Loaded] = {}  # key -> Loaded, per process


def build_host(kernel: N.Kernel, target: str) -> Loaded:
    """Compile (or find in the cache) the host binary of `kernel` for target "openmp" or "serial"."""
    from kernelkit.backends.openmp import driver

    cfg = config.get()
    source = driver.render(kernel, bounds_check=cfg.bounds_check)
    tc = require_cxx()
    h = hashlib.sha256()
    for part in (codegen_fingerprint(), target, tc.identity, " ".join(tc.flags(target)), source):
        h.update(part.encode() + b"\0")
    key = h.hexdigest()
    hit = _loaded.get(key)
    if hit is not None:
        return hit
    if cfg.dump_dir:
        _dump(cfg.dump_dir, kernel, source, key)
    cache = default_cache()
    path = cache.lookup(key)
    from_cache = path is not None
    if path is None:
        with cache.lock(key):
            path = cache.lookup(key)  # another process may have built it while we waited
            from_cache = path is not None
            if path is None:
                path = cache.store(key, lambda out: _compile(tc, source, out, target, kernel),
                                   {"kernel": kernel.name, "file": kernel.loc.file, "target": target})
    loaded = _load(path, from_cache)
    _loaded[key] = loaded
    return loaded


def _compile(tc, source: str, out: str, target: str, kernel: N.Kernel) -> None:
    with tempfile.TemporaryDirectory(prefix="kernelkit-") as tmp:
        src = os.path.join(tmp, f"{kernel.name}.cpp")
        with open(src, "w", encoding="utf-8") as f:
            f.write(source)
        tc.compile(src, out, target, kernel.name)


def _load(path: str, from_cache: bool) -> Loaded:
    import ctypes

    lib = ctypes.CDLL(path, mode=os.RTLD_NOW | os.RTLD_LOCAL)
    address = ctypes.cast(lib.kk_entry, ctypes.c_void_p).value
    return Loaded(address, lib, path, from_cache)


def _dump(directory: str, kernel: N.Kernel, source: str, key: str, suffix: str = ".cpp") -> None:
    from kernelkit.ir import printer

    os.makedirs(directory, exist_ok=True)
    stem = os.path.join(directory, f"{kernel.name}-{key[:12]}")
    with open(stem + ".ir", "w", encoding="utf-8") as f:
        f.write(printer.kernel(kernel) + "\n")
    with open(stem + suffix, "w", encoding="utf-8") as f:
        f.write(source)


_nvrtc_memo: dict[str, tuple[str, bool, str]] = {}


def nvrtc_recorded() -> bool:
    """True when an earlier process recorded an NVRTC library (in the cache) that is still on disk: finding one
    again means scanning sys.path, which a warm start should not pay for."""
    import json

    cache = default_cache()
    path = os.path.join(cache.root, "nvrtc.json")
    if not cache._owned(path):
        return False
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return False
    return any(os.path.exists(k.rsplit(":", 2)[0]) for k in record)


def nvrtc_target(arch: str) -> tuple[str, bool, str]:
    """(target, is_ptx, NVRTC identity) for `arch`, without loading libnvrtc when an earlier process recorded
    them for the same library file (same path, size and mtime): a warm start must not pay NVRTC's ~20 ms load.
    The record lives in the private cache directory, like the kernels."""
    import json

    from kernelkit.backends.cuda import nvrtc

    hit = _nvrtc_memo.get(arch)
    if hit is not None:
        return hit
    cache = default_cache()
    cache._ensure()
    memo_path = os.path.join(cache.root, "nvrtc.json")
    record: dict = {}
    if cache._owned(memo_path):
        try:
            with open(memo_path, encoding="utf-8") as f:
                record = json.load(f)
        except (OSError, ValueError):
            record = {}
    # a recorded library that is still the same file (path, size, mtime): no sys.path scan, no dlopen
    if nvrtc._lib is None:
        for light_key, archs in record.items():
            path, size, mtime = light_key.rsplit(":", 2)
            try:
                st = os.stat(path)
            except OSError:
                continue
            if f"{st.st_size}" == size and f"{st.st_mtime_ns}" == mtime and arch in archs:
                entry = archs[arch]
                result = (entry[0], bool(entry[1]), entry[2])
                _nvrtc_memo[arch] = result
                return result
    light = None
    candidates = nvrtc.candidate_paths() if nvrtc._lib is None else [nvrtc.library_path() or ""]
    if candidates and candidates[0]:
        real = os.path.realpath(candidates[0])
        try:
            st = os.stat(real)
            light = f"{real}:{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            light = None
    target, is_ptx = nvrtc.target_for(arch)
    result = (target, is_ptx, nvrtc.identity())
    _nvrtc_memo[arch] = result
    if light is not None and os.path.realpath(nvrtc.library_path() or "") == light.rsplit(":", 2)[0]:
        record.setdefault(light, {})[arch] = list(result)
        fd, tmp = tempfile.mkstemp(prefix=".nvrtc.", suffix=".json", dir=cache.root)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(tmp, memo_path)
    return result


@dataclass
class CudaBinary:
    """A CUDA image for one kernel and architecture (cubin, or PTX for GPUs newer than NVRTC)."""

    image: bytes
    is_ptx: bool
    target: str
    from_cache: bool
    key: str


_cuda_images: dict[str, CudaBinary] = {}


def build_cuda(kernel: N.Kernel, arch: str) -> CudaBinary:
    """Compile (or find in the cache) the CUDA image of `kernel` for `arch` ("sm_90"). Needs NVRTC, not a GPU."""
    from kernelkit.backends.cuda import nvrtc, render

    cfg = config.get()
    source = render.render(kernel, bounds_check=cfg.bounds_check)
    target, is_ptx, ident = nvrtc_target(arch)
    h = hashlib.sha256()
    for part in (codegen_fingerprint(), "cuda", target, str(is_ptx), ident, source):
        h.update(part.encode() + b"\0")
    key = h.hexdigest()
    hit = _cuda_images.get(key)
    if hit is not None:
        return hit
    if cfg.dump_dir:
        _dump(cfg.dump_dir, kernel, source, key, suffix=".cu")
    cache = default_cache()
    path = cache.lookup(key)
    from_cache = path is not None
    if path is None:
        with cache.lock(key):
            path = cache.lookup(key)
            from_cache = path is not None
            if path is None:
                def build(out: str) -> None:
                    image = nvrtc.compile(source, f"{kernel.name}.cu", target, include_dirs=[INCLUDE_DIR],
                                          ptx=is_ptx)
                    with open(out, "wb") as f:
                        f.write(image)

                path = cache.store(key, build, {"kernel": kernel.name, "file": kernel.loc.file, "target": target})
    with open(path, "rb") as f:
        image = f.read()
    b = CudaBinary(image, is_ptx, target, from_cache, key)
    _cuda_images[key] = b
    return b
