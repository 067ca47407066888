"""APPy's names on kernelkit: an APPy program runs after `import appy` becomes `import kernelkit.appy as appy`.

    import kernelkit.appy as appy

    @appy.jit(auto_simd=True)
    def softmax(a, b, M, N):
        #pragma parallel for
        for i in range(M):
            m = max(a[i, :N])
            s = sum(exp(a[i, :N] - m))
            b[i, :N] = exp(a[i, :N] - m) / s

Both of APPy's interfaces compile, on every kernelkit space: the loop pragmas (`#pragma parallel for [simd]`,
`sequential for`, `simd`, `atomic`, `shared(...)`), tensor expressions on slices with the tensor pragma
(`#pragma :M=>parallel :N=>reduce(sum)`), `appy.prange` and `appy.range(..., parallel=True)`, and the builtins
below. `@appy.jit`'s options are accepted: `dump_code` prints the generated source; `backend`, `dry_run`,
`auto_simd`, `dump_final_appy`, `verbose`, `lib` and APPy's tuning options change nothing else. This module holds
names only: the compiler is kernelkit's (kernelkit.loops), the runtime `@pk.jit`'s.
"""

from __future__ import annotations

import builtins as _builtins
import time as _time

import numpy as _np

from kernelkit.api.jit import jit as _jit
from kernelkit.lang.kmath import atomic_add, atomic_max, atomic_min, atomic_sub
from kernelkit.loops.builtins import mv, prange

__version__ = "0.2.0"  # the APPy version whose interface this mirrors

tensorlib = _np  # APPy's choice of array library; kernelkit takes NumPy, CuPy and PyTorch arrays alike
MVL = 128  # APPy's maximum vector length (its strip-mining width)

# math and array builtins: the NumPy functions themselves, so an undecorated function computes the same
exp, log, sqrt, sin, cos, tanh, abs, fabs = _np.exp, _np.log, _np.sqrt, _np.sin, _np.cos, _np.tanh, _np.abs, _np.fabs
maximum, minimum, where, dot = _np.maximum, _np.minimum, _np.where, _np.dot
empty, zeros, ones, full = _np.empty, _np.zeros, _np.ones, _np.full
empty_like, zeros_like, ones_like, full_like = _np.empty_like, _np.zeros_like, _np.ones_like, _np.full_like
float32, float64, int32, int64 = _np.float32, _np.float64, _np.int32, _np.int64


def sum(x, *args, **kwargs):  # noqa: A001 - APPy's name
    """The sum of an array (APPy's `sum`)."""
    return _np.sum(x, *args, **kwargs)


def max(x, *args):  # noqa: A001 - APPy's name
    """The largest element of an array, or the larger of two values (APPy's `max`)."""
    return _np.max(x) if not args else _builtins.max(x, *args)


def min(x, *args):  # noqa: A001 - APPy's name
    """The smallest element of an array, or the smaller of two values (APPy's `min`)."""
    return _np.min(x) if not args else _builtins.min(x, *args)


class _Range:
    """`appy.range(start, stop, step, parallel=True, simd=True)`: a loop, parallel or simd on request."""

    _kk_range = True

    def __call__(self, *args, parallel: bool = False, simd: bool = False):
        return _builtins.range(*args)


range = _Range()  # noqa: A001 - APPy's name


def jit(
    fn=None,
    *,
    dump_code=False,
    backend=None,
    dry_run=None,
    auto_simd=True,
    dump_final_appy=False,
    verbose=False,
    lib=None,
    use_file=None,
    space=None,
    **options,
):
    """APPy's decorator: `@appy.jit` or `@appy.jit(auto_simd=True, dump_code=True, backend="triton", ...)`."""
    deco = _jit(space=space, auto_simd=bool(auto_simd), dump_code=bool(dump_code), **options)
    return deco(fn) if fn is not None else deco


def step(start, stepsize, bound=None):
    """APPy's vector index: the slice [start, min(start + stepsize, bound))."""
    return slice(start, start + stepsize if bound is None else _builtins.min(bound, start + stepsize))


vidx = step


def debug_barrier():
    """A no-op outside compiled code (APPy's)."""


def to_gpu(*args):
    """APPy's host-to-device helper: kernelkit moves data itself, so arrays are returned as they are."""
    return args[0] if len(args) == 1 else list(args)


to_cpu = to_gpu


def randn(*shape, dtype=_np.float64):
    return _np.random.randn(*shape).astype(dtype)


def rand(*shape, dtype=_np.float64):
    return _np.random.rand(*shape).astype(dtype)


def randint(low, high=None, size=None, dtype=_np.int64):
    return _np.random.randint(low, high, size=size, dtype=dtype)


class utils:  # noqa: N801 - APPy's module name
    """APPy's test helpers."""

    @staticmethod
    def allclose(a, b, rtol=1e-05, atol=1e-08) -> bool:
        return bool(_np.allclose(_host(a), _host(b), rtol=rtol, atol=atol))

    @staticmethod
    def bench(fn, warmup: int = 2, repeat: int = 10) -> float:
        """Median milliseconds of `fn()`."""
        for _ in _builtins.range(warmup):
            fn()
        times = []
        for _ in _builtins.range(repeat):
            t0 = _time.perf_counter()
            fn()
            times.append((_time.perf_counter() - t0) * 1e3)
        return float(_np.median(times))


def _host(a):
    if hasattr(a, "get") and not isinstance(a, _np.ndarray):
        return a.get()  # CuPy
    if hasattr(a, "detach"):
        return a.detach().cpu().numpy()  # PyTorch
    return _np.asarray(a)


__all__ = [
    "MVL",
    "abs",
    "atomic_add",
    "atomic_max",
    "atomic_min",
    "atomic_sub",
    "cos",
    "debug_barrier",
    "dot",
    "empty",
    "empty_like",
    "exp",
    "fabs",
    "float32",
    "float64",
    "full",
    "full_like",
    "int32",
    "int64",
    "jit",
    "log",
    "max",
    "maximum",
    "min",
    "minimum",
    "mv",
    "ones",
    "ones_like",
    "prange",
    "rand",
    "randint",
    "randn",
    "range",
    "sin",
    "sqrt",
    "step",
    "sum",
    "tanh",
    "tensorlib",
    "to_cpu",
    "to_gpu",
    "utils",
    "vidx",
    "where",
    "zeros",
    "zeros_like",
]
