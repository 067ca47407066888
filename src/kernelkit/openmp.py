"""PyOMP's names on kernelkit: a PyOMP program runs after `from numba.openmp import ...` (and `from numba import
njit`) becomes `from kernelkit.openmp import ...`.

    from kernelkit.openmp import njit, openmp_context as openmp, omp_get_wtime

    @njit
    def pi(num_steps):
        step = 1.0 / num_steps
        s = 0.0
        with openmp("parallel for reduction(+:s) private(x)"):
            for i in range(num_steps):
                x = (i + 0.5) * step
                s += 4.0 / (1.0 + x * x)
        return step * s

`@njit` is `@pk.jit` (PyOMP's options `parallel=`, `fastmath=`, `cache=` accepted); the `with openmp("...")`
directives are lowered by kernelkit.loops (loops/directives.py parses them) to the same IR as `pk.prange` loops
and OpenMP regions. An njit program is a host program: it runs on CPU threads (pk.OpenMP) unless a `target`
construct names a GPU, whose loops then run on pk.Cuda. Outside compiled code `openmp(...)` is a no-op context
manager and the `omp_*` functions give the answers of one thread, so an undecorated function runs sequentially.
This module holds names only: the compiler is kernelkit.loops, the runtime `@pk.jit`'s.
"""

from __future__ import annotations

import dataclasses as _dataclasses
import os as _os
import time as _time

from kernelkit.api import spaces as _spaces
from kernelkit.api.jit import JitFunction as _JitFunction
from kernelkit.loops import Options as _Options
from kernelkit.loops.directives import (
    NonconstantOpenmpSpecification,
    NonStringOpenmpSpecification,
    ParallelForExtraCode,
    ParallelForWrongLoopCount,
    UnspecifiedVarInDefaultNone,
)


class _OpenmpContext:
    """`with openmp("parallel for ...")`: a directive in compiled code, nothing in plain Python."""

    _kk_openmp = True

    def __call__(self, directive: str = ""):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False


openmp_context = _OpenmpContext()
openmp = openmp_context

_ICV = {"dynamic": 0, "nested": 0, "max_active_levels": 1, "default_device": None}


def _omp(what: str):
    """Mark a function as the Python face of an OpenMP runtime call: compiled code calls the real one."""

    def deco(f):
        f._kk_omp = what
        return f

    return deco


def _devices() -> int:
    """GPUs kernelkit can run target regions on (the host is device number `omp_get_initial_device()`)."""
    if _spaces.Cuda.available():
        try:
            from kernelkit.backends.cuda.driver.api import device_count

            return int(device_count())
        except Exception:  # a driver that answers nothing: no devices
            return 0
    return 0


_NDEV: list[int] = []


def _ndev() -> int:
    if not _NDEV:
        _NDEV.append(_devices())
    return _NDEV[0]


# --- threads -------------------------------------------------------------------------------------------------


@_omp("set_num_threads")
def omp_set_num_threads(n) -> None:
    """Threads of the next parallel region (and of every kernelkit OpenMP launch: pk.set_num_threads)."""
    _spaces.set_num_threads(max(1, int(n)))


@_omp("get_thread_num")
def omp_get_thread_num() -> int:
    return 0


@_omp("get_num_threads")
def omp_get_num_threads() -> int:
    return 1


@_omp("get_max_threads")
def omp_get_max_threads() -> int:
    return _spaces.get_num_threads()


@_omp("get_num_procs")
def omp_get_num_procs() -> int:
    return len(_os.sched_getaffinity(0)) if hasattr(_os, "sched_getaffinity") else (_os.cpu_count() or 1)


@_omp("in_parallel")
def omp_in_parallel() -> int:
    return 0


@_omp("get_thread_limit")
def omp_get_thread_limit() -> int:
    return 2147483647


@_omp("set_dynamic")
def omp_set_dynamic(flag) -> None:
    _ICV["dynamic"] = int(bool(flag))


@_omp("get_dynamic")
def omp_get_dynamic() -> int:
    return _ICV["dynamic"]


@_omp("set_nested")
def omp_set_nested(flag) -> None:
    _ICV["nested"] = int(bool(flag))


@_omp("get_nested")
def omp_get_nested() -> int:
    return _ICV["nested"]


@_omp("set_max_active_levels")
def omp_set_max_active_levels(n) -> None:
    _ICV["max_active_levels"] = int(n)


@_omp("get_max_active_levels")
def omp_get_max_active_levels() -> int:
    return _ICV["max_active_levels"]


@_omp("get_supported_active_levels")
def omp_get_supported_active_levels() -> int:
    return 255


@_omp("get_level")
def omp_get_level() -> int:
    return 0


@_omp("get_active_level")
def omp_get_active_level() -> int:
    return 0


@_omp("get_ancestor_thread_num")
def omp_get_ancestor_thread_num(level) -> int:
    return 0 if int(level) == 0 else -1


@_omp("get_team_size")
def omp_get_team_size(level) -> int:
    return 1 if int(level) == 0 else -1


@_omp("in_final")
def omp_in_final() -> int:
    return 0


@_omp("get_wtime")
def omp_get_wtime() -> float:
    return _time.perf_counter()


@_omp("get_wtick")
def omp_get_wtick() -> float:
    return _time.get_clock_info("perf_counter").resolution


# --- devices and teams ---------------------------------------------------------------------------------------


@_omp("get_num_devices")
def omp_get_num_devices() -> int:
    return _ndev()


@_omp("get_initial_device")
def omp_get_initial_device() -> int:
    return _ndev()


@_omp("is_initial_device")
def omp_is_initial_device() -> int:
    return 1


@_omp("get_device_num")
def omp_get_device_num() -> int:
    return _ndev()


@_omp("set_default_device")
def omp_set_default_device(n) -> None:
    _ICV["default_device"] = int(n)


@_omp("get_default_device")
def omp_get_default_device() -> int:
    d = _ICV["default_device"]
    return (0 if _ndev() else _ndev()) if d is None else int(d)


@_omp("get_team_num")
def omp_get_team_num() -> int:
    return 0


@_omp("get_num_teams")
def omp_get_num_teams() -> int:
    return 1


# --- the decorator -------------------------------------------------------------------------------------------


class _NjitFunction(_JitFunction):
    """An njit program: a host program. Its space is the given one, else the default space, except that a GPU
    default runs it on host threads (pk.OpenMP) unless it has a target construct (whose loops then go to the GPU)."""

    def run_space(self):
        if self.space is not None:
            return self.space
        space = _spaces.get_default_space()
        if space.backend_name == "cuda" and not self._targets_gpu():
            return _spaces.OpenMP
        return space

    def __call__(self, *args, **kwargs):
        gpu = self.run_space().backend_name == "cuda"  # target loops lowered for the GPU (device queries, checks)
        if self.options.gpu != gpu:
            self.options = _dataclasses.replace(self.options, gpu=gpu)
        return super().__call__(*args, **kwargs)

    def _targets_gpu(self) -> bool:
        """Does a target construct of this function name a GPU (no device clause, or device(n) with n below
        omp_get_num_devices())? Then the program runs on pk.Cuda; otherwise its target loops run on the host."""
        flag = getattr(self, "_gpu_target", None)
        if flag is None:
            flag = self._gpu_target = _ndev() > 0 and any(_gpu_directive(t, _ndev()) for t in _directives(self))
        return flag


def _directives(jf) -> list[str]:
    """The directive strings of a function's `with openmp(...)` blocks that can be known without compiling it."""
    import ast

    from kernelkit.frontend.source import get_source

    fn = jf.py_function
    try:
        tree = get_source(fn).tree
    except Exception:  # no source: the compiler will say so
        return []
    consts = {
        n.targets[0].id: n.value.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign)
        and len(n.targets) == 1
        and isinstance(n.targets[0], ast.Name)
        and isinstance(n.value, ast.Constant)
        and isinstance(n.value.value, str)
    }
    free = dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__ or ()), strict=False))
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.With) and len(n.items) == 1 and isinstance(n.items[0].context_expr, ast.Call):
            args = n.items[0].context_expr.args
            if len(args) != 1:
                continue
            a = args[0]
            if isinstance(a, ast.Constant):
                v = a.value
            elif isinstance(a, ast.Name):
                v = consts.get(a.id, free.get(a.id, fn.__globals__.get(a.id)))
            else:
                v = None
            if isinstance(v, str):
                out.append(v)
    return out


def _gpu_directive(text: str, ndev: int) -> bool:
    import ast

    from kernelkit.errors import KernelError, Loc
    from kernelkit.loops.directives import parse

    try:
        d = parse(text, Loc("<directive>", 0, 0))
    except KernelError:
        return False
    if ndev <= 0 or not d.target or d.kind in ("target data", "target enter data", "target exit data", "target update"):
        return False
    dev = d.exprs.get("device")
    if dev is None:
        return True
    return isinstance(dev, ast.Constant) and isinstance(dev.value, int) and 0 <= dev.value < ndev


def njit(fn=None, *, parallel=True, fastmath=False, cache=False, nogil=True, space=None, dump_code=False, **options):
    """PyOMP's `@njit`: `@njit`, `@njit(parallel=True, fastmath=True, cache=True)`; `space=` picks a kernelkit
    space (default: the host's threads, pk.Cuda for target constructs on a GPU)."""
    opts = _Options(auto_simd=True, parallel=True, fast_math=bool(fastmath) or None, extra={}, devices=_ndev())

    def deco(f):
        return _NjitFunction(f, space, opts, dump_code=bool(dump_code))

    return deco(fn) if fn is not None else deco


__all__ = [
    "NonStringOpenmpSpecification",
    "NonconstantOpenmpSpecification",
    "ParallelForExtraCode",
    "ParallelForWrongLoopCount",
    "UnspecifiedVarInDefaultNone",
    "njit",
    "omp_get_active_level",
    "omp_get_ancestor_thread_num",
    "omp_get_default_device",
    "omp_get_device_num",
    "omp_get_dynamic",
    "omp_get_initial_device",
    "omp_get_level",
    "omp_get_max_active_levels",
    "omp_get_max_threads",
    "omp_get_nested",
    "omp_get_num_devices",
    "omp_get_num_procs",
    "omp_get_num_teams",
    "omp_get_num_threads",
    "omp_get_supported_active_levels",
    "omp_get_team_num",
    "omp_get_team_size",
    "omp_get_thread_limit",
    "omp_get_thread_num",
    "omp_get_wtick",
    "omp_get_wtime",
    "omp_in_final",
    "omp_in_parallel",
    "omp_is_initial_device",
    "omp_set_default_device",
    "omp_set_dynamic",
    "omp_set_max_active_levels",
    "omp_set_nested",
    "omp_set_num_threads",
    "openmp",
    "openmp_context",
]
