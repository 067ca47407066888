"""Every KERNELKIT_* setting in one typed place.

Read once, lazily, from the environment; `override(...)` changes settings for a block (tests use it). Nothing
else in kernelkit reads os.environ for its own settings.

| variable                  | default                                  | meaning                                      |
|---------------------------|------------------------------------------|----------------------------------------------|
| KERNELKIT_SPACE           | cuda if a GPU is usable, else openmp     | default execution space                      |
| KERNELKIT_CACHE_DIR       | $XDG_CACHE_HOME/kernelkit or ~/.cache/.. | compiled-kernel cache (per user, mode 0700)  |
| KERNELKIT_CXX / CXX       | first of c++, g++, clang++ on PATH       | C++ compiler for the CPU spaces              |
| KERNELKIT_CXXFLAGS        | (empty)                                  | extra flags appended to the C++ command      |
| KERNELKIT_NUM_THREADS     | OMP_NUM_THREADS, else all cores          | threads of the OpenMP space                  |
| KERNELKIT_BOUNDS_CHECK    | 0                                        | 1: check every View index in compiled code   |
| KERNELKIT_DEBUG           | 0                                        | 1: keep internal traceback frames, keep logs |
| KERNELKIT_DUMP            | (empty)                                  | directory: write IR and generated source     |
| KERNELKIT_CUDA_CHECK_ARCH | sm_90                                    | architecture the CudaCheck space compiles for|
| KERNELKIT_PROFILE         | 0                                        | 1: time every launch per label (pk.profile)  |
| KERNELKIT_CUDA_SIMD_WARPS | 1                                        | 0: pk.jit simd loops one thread, not a warp  |
| KERNELKIT_MPI_CUDA_AWARE  | (probe the MPI library)                  | 1/0: pass device pointers to MPI, or stage   |
| KERNELKIT_VIRTUAL_GPUS    | the physical GPUs                        | logical GPUs of kernelkit.tasks (n >= 0)     |
| KERNELKIT_TRACE           | (empty)                                  | file: Chrome/Perfetto trace of tasks         |
| KERNELKIT_FAST_MATH       | 0                                        | 1: contraction and fast math in every kernel |
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kernelkit")


def _tristate(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    if text in ("", "auto"):
        return None
    return _flag(text)


def _default_threads() -> int:
    for var in ("KERNELKIT_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass
class Settings:
    space: str | None
    cache_dir: str
    cxx: str | None
    cxxflags: str
    num_threads: int
    bounds_check: bool
    debug: bool
    dump_dir: str | None
    cuda_check_arch: str = "sm_90"
    profile: bool = False
    num_threads_set: bool = False  # KERNELKIT_NUM_THREADS or OMP_NUM_THREADS was given
    mpi_cuda_aware: bool | None = None  # None: ask the MPI library (kernelkit.mpi.cuda_aware)
    virtual_gpus: str | None = None  # a count, checked by kernelkit.tasks when a Parla context starts
    trace: str | None = None
    fast_math: bool = False  # the default of @pk.workunit(fast_math=...): IEEE results unless asked (numerics.md)
    cuda_simd_warps: bool = True  # KERNELKIT_CUDA_SIMD_WARPS=0: simd loops of pk.Cuda programs in one thread each

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            space=(env.get("KERNELKIT_SPACE") or None),
            cache_dir=env.get("KERNELKIT_CACHE_DIR") or _default_cache_dir(),
            cxx=env.get("KERNELKIT_CXX") or env.get("CXX") or None,
            cxxflags=env.get("KERNELKIT_CXXFLAGS", ""),
            num_threads=_default_threads(),
            bounds_check=_flag(env.get("KERNELKIT_BOUNDS_CHECK")),
            debug=_flag(env.get("KERNELKIT_DEBUG")),
            dump_dir=env.get("KERNELKIT_DUMP") or None,
            cuda_check_arch=env.get("KERNELKIT_CUDA_CHECK_ARCH") or "sm_90",
            profile=_flag(env.get("KERNELKIT_PROFILE")),
            num_threads_set=any(env.get(v, "").strip() for v in ("KERNELKIT_NUM_THREADS", "OMP_NUM_THREADS")),
            mpi_cuda_aware=_tristate(env.get("KERNELKIT_MPI_CUDA_AWARE")),
            virtual_gpus=env.get("KERNELKIT_VIRTUAL_GPUS", "").strip() or None,
            trace=env.get("KERNELKIT_TRACE") or None,
            fast_math=_flag(env.get("KERNELKIT_FAST_MATH")),
            cuda_simd_warps=_flag(env.get("KERNELKIT_CUDA_SIMD_WARPS", "1")),
        )


_settings: Settings | None = None


def get() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def reload() -> Settings:
    """Re-read the environment (after a test changed it)."""
    global _settings
    _settings = Settings.from_env()
    return _settings


@contextlib.contextmanager
def override(**changes) -> Iterator[Settings]:
    """Change settings inside a `with` block: `with config.override(bounds_check=True): ...`."""
    global _settings
    old = get()
    _settings = dataclasses.replace(old, **changes)
    try:
        yield _settings
    finally:
        _settings = old
