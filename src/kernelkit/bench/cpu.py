"""The CPU benchmarks: BabelStream's copy/mul/add/triad/dot and the seeds' pi integral.

Each has a kernelkit version per CPU space, the hand-written C/OpenMP reference per space (1 thread for
Serial), NumPy and Numba. Inputs are small integers and halves, so every sum and product is exact in float64
whatever the order or FMA contraction: stream results must match NumPy bit for bit, dot exactly, and only pi
(a sum of 1e8 inexact terms) has a tolerance, the a-priori bound of recursive summation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .core import Benchmark, Version, check_array, check_scalar
from .creference import ptr

if TYPE_CHECKING:
    from .harness import Context

STREAM_N = 1 << 25  # 256 MiB per array: out of every cache level of a 2-core machine's share
PI_N = 1 << 27
SCALAR = 3.0
CPU_SPACES = ("openmp", "serial")


@dataclass
class Stream:
    n: int
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    s: float = SCALAR


@dataclass
class Pi:
    n: int
    step: float


def _pattern(n: int, period: int, scale: float) -> np.ndarray:
    return np.resize(np.arange(period, dtype=np.float64) * scale, n)


def _stream_data(n: int) -> Stream:
    a = _pattern(n, 1021, 0.5)
    b = _pattern(n, 17, 1.0)
    c = _pattern(n, 8, 0.25)
    return Stream(n, a, b, c)


def _clobber(*names: str) -> Callable[[Stream], None]:
    def reset(d: Stream) -> None:
        for name in names:
            getattr(d, name).fill(np.nan)

    return reset


def numpy_pi_sum(n: int, step: float, chunk: int = 1 << 16) -> float:
    """sum(4 / (1 + x^2)) over the midpoints, in cache-sized chunks (what a careful NumPy user writes)."""
    total = 0.0
    buf = np.empty(chunk)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        x = buf[:m]
        x[:] = np.arange(start, start + m, dtype=np.float64)
        x += 0.5
        x *= step
        np.multiply(x, x, out=x)
        x += 1.0
        np.divide(4.0, x, out=x)
        total += float(x.sum())
    return total


# ---- version builders --------------------------------------------------------------------------------------
# Each returns build(ctx, data) -> run; run() does one complete execution and returns what is validated.


def _kk_for(label: str, kernel: str, outs: str, args: Callable[[Any], dict[str, Any]], space: str):
    def build(ctx: Context, d: Any) -> Callable[[], Any]:
        pk, policy = ctx.kernelkit_policy(space, d.n)
        from . import kernels

        wu = getattr(kernels, kernel)
        kwargs = args(d)
        out = getattr(d, outs)

        def run() -> Any:
            pk.parallel_for(label, policy, wu, **kwargs)
            pk.fence()
            return out

        return run

    return build


def _kk_reduce(label: str, kernel: str, args: Callable[[Any], dict[str, Any]], space: str):
    def build(ctx: Context, d: Any) -> Callable[[], Any]:
        pk, policy = ctx.kernelkit_policy(space, d.n)
        from . import kernels

        wu = getattr(kernels, kernel)
        kwargs = args(d)

        def run() -> Any:
            result = pk.parallel_reduce(label, policy, wu, **kwargs)
            pk.fence()
            return result

        return run

    return build


def _c(fn: str, args: Callable[[Any], tuple[Any, ...]], outs: str | None, space: str):
    def build(ctx: Context, d: Any) -> Callable[[], Any]:
        lib = ctx.c_reference()
        f = getattr(lib, fn)
        threads = ctx.threads_for(space)
        set_threads = lib.kkref_set_threads
        cargs = args(d)
        out = getattr(d, outs) if outs else None

        def run() -> Any:
            set_threads(threads)  # libgomp's thread count is shared in-process: set it every call (~1 us)
            r = f(*cargs)
            return out if outs else r

        return run

    return build


def _numba(fn: str, args: Callable[[Any], tuple[Any, ...]], outs: str | None):
    def build(ctx: Context, d: Any) -> Callable[[], Any]:
        numba = ctx.numba()
        from . import numba_kernels

        f = getattr(numba_kernels, fn)
        threads = ctx.threads_for("openmp")
        set_threads = numba.set_num_threads
        nargs = args(d)
        out = getattr(d, outs) if outs else None

        def run() -> Any:
            set_threads(threads)
            r = f(*nargs)
            return out if outs else r

        return run

    return build


def _numpy(make: Callable[[Any], Callable[[], Any]]):
    def build(ctx: Context, d: Any) -> Callable[[], Any]:
        return make(d)

    return build


def _stream_versions(
    kernel: str,
    outs: str,
    kk_args: Callable[[Stream], dict[str, Any]],
    c_args: Callable[[Stream], tuple[Any, ...]],
    nb_args: Callable[[Stream], tuple[Any, ...]],
    np_run: Callable[[Stream], Callable[[], Any]],
) -> tuple[Version, ...]:
    versions: list[Version] = []
    for space in CPU_SPACES:
        versions.append(
            Version("c-openmp", space, _c(f"kkref_{kernel}", c_args, outs, space), reference=True)
        )
        versions.append(Version("kernelkit", space, _kk_for(kernel, kernel, outs, kk_args, space)))
    versions.append(Version("numba", "openmp", _numba(kernel, nb_args, outs), note="parallel=True, prange"))
    versions.append(Version("numpy", "openmp", _numpy(np_run), isolated=True))
    return tuple(versions)


def _np_copy(d: Stream) -> Callable[[], Any]:
    def run() -> Any:
        np.copyto(d.c, d.a)
        return d.c

    return run


def _np_mul(d: Stream) -> Callable[[], Any]:
    def run() -> Any:
        np.multiply(d.c, d.s, out=d.b)
        return d.b

    return run


def _np_add(d: Stream) -> Callable[[], Any]:
    def run() -> Any:
        np.add(d.a, d.b, out=d.c)
        return d.c

    return run


def _np_triad(d: Stream) -> Callable[[], Any]:
    def run() -> Any:
        np.multiply(d.c, d.s, out=d.a)
        np.add(d.a, d.b, out=d.a)
        return d.a

    return run


def _np_dot(d: Stream) -> Callable[[], Any]:
    return lambda: float(np.dot(d.b, d.c))


def _stream_size(quick: bool) -> int:
    return STREAM_N


def _pi_size(quick: bool) -> int:
    return PI_N


def _pi_versions() -> tuple[Version, ...]:
    def kk_args(d: Pi) -> dict[str, Any]:
        return {"step": d.step}

    versions: list[Version] = []
    for space in CPU_SPACES:
        versions.append(
            Version("c-openmp", space, _c("kkref_pi", lambda d: (d.n, d.step), None, space), True)
        )
        versions.append(Version("kernelkit", space, _kk_reduce("pi", "pi_term", kk_args, space)))
    versions.append(Version("numba", "openmp", _numba("pi_sum", lambda d: (d.n, d.step), None)))
    versions.append(
        Version(
            "numpy",
            "openmp",
            _numpy(lambda d: lambda: numpy_pi_sum(d.n, d.step)),
            note="chunked",
            isolated=True,
        )
    )
    return tuple(versions)


def _pi_tolerance(n: int) -> float:
    # Recursive summation of n positive terms: relative error <= (n - 1) * u, u = 2**-53.
    return max(1e-12, n * 2.0**-53)


def _pi_validate(got: Any, expected: Any) -> tuple[float, str | None]:
    n, value = expected
    return check_scalar(_pi_tolerance(n))(got, value)


EXACT = check_array(0.0)


def cpu_benchmarks() -> list[Benchmark]:
    """The CPU set, in the order they run."""
    return [
        Benchmark(
            name="triad",
            description="a[i] = b[i] + s*c[i] (STREAM/BabelStream triad), 3 x 8 bytes per element",
            unit="GB/s",
            size=_stream_size,
            make_data=_stream_data,
            expected=lambda d: d.b + d.s * d.c,
            validate=EXACT,
            work=lambda n: 24.0 * n,
            reset=_clobber("a"),
            versions=_stream_versions(
                "triad",
                "a",
                lambda d: {"a": d.a, "b": d.b, "c": d.c, "s": d.s},
                lambda d: (ptr(d.a), ptr(d.b), ptr(d.c), d.s, d.n),
                lambda d: (d.a, d.b, d.c, d.s),
                _np_triad,
            ),
            tags=("stream", "quick"),
        ),
        Benchmark(
            name="copy",
            description="c[i] = a[i] (BabelStream copy), 2 x 8 bytes per element",
            unit="GB/s",
            size=_stream_size,
            make_data=_stream_data,
            expected=lambda d: d.a.copy(),
            validate=EXACT,
            work=lambda n: 16.0 * n,
            reset=_clobber("c"),
            versions=_stream_versions(
                "copy",
                "c",
                lambda d: {"a": d.a, "c": d.c},
                lambda d: (ptr(d.a), ptr(d.c), d.n),
                lambda d: (d.a, d.c),
                _np_copy,
            ),
            tags=("stream", "quick"),
        ),
        Benchmark(
            name="mul",
            description="b[i] = s*c[i] (BabelStream mul), 2 x 8 bytes per element",
            unit="GB/s",
            size=_stream_size,
            make_data=_stream_data,
            expected=lambda d: d.s * d.c,
            validate=EXACT,
            work=lambda n: 16.0 * n,
            reset=_clobber("b"),
            versions=_stream_versions(
                "mul",
                "b",
                lambda d: {"b": d.b, "c": d.c, "s": d.s},
                lambda d: (ptr(d.b), ptr(d.c), d.s, d.n),
                lambda d: (d.b, d.c, d.s),
                _np_mul,
            ),
            tags=("stream",),
        ),
        Benchmark(
            name="add",
            description="c[i] = a[i] + b[i] (BabelStream add), 3 x 8 bytes per element",
            unit="GB/s",
            size=_stream_size,
            make_data=_stream_data,
            expected=lambda d: d.a + d.b,
            validate=EXACT,
            work=lambda n: 24.0 * n,
            reset=_clobber("c"),
            versions=_stream_versions(
                "add",
                "c",
                lambda d: {"a": d.a, "b": d.b, "c": d.c},
                lambda d: (ptr(d.a), ptr(d.b), ptr(d.c), d.n),
                lambda d: (d.a, d.b, d.c),
                _np_add,
            ),
            tags=("stream",),
        ),
        Benchmark(
            name="dot",
            description="sum of b[i]*c[i] (BabelStream dot), 2 x 8 bytes per element; C uses omp simd",
            unit="GB/s",
            size=_stream_size,
            make_data=_stream_data,
            expected=lambda d: float(np.dot(d.b, d.c)),
            validate=check_scalar(0.0),
            work=lambda n: 16.0 * n,
            versions=_dot_versions(),
            tags=("reduction", "quick"),
        ),
        Benchmark(
            name="pi",
            description="pi = integral of 4/(1+x^2) on [0,1] by the midpoint rule (the seeds' tutorial); "
            "C uses omp simd",
            unit="Gsteps/s",
            size=_pi_size,
            make_data=lambda n: Pi(n, 1.0 / n),
            expected=lambda d: (d.n, numpy_pi_sum(d.n, d.step)),
            validate=_pi_validate,
            work=lambda n: float(n),
            versions=_pi_versions(),
            tags=("reduction", "compute", "quick"),
        ),
    ]


def _dot_versions() -> tuple[Version, ...]:
    def kk_args(d: Stream) -> dict[str, Any]:
        return {"x": d.b, "y": d.c}

    versions: list[Version] = []
    for space in CPU_SPACES:
        versions.append(
            Version(
                "c-openmp", space, _c("kkref_dot", lambda d: (ptr(d.b), ptr(d.c), d.n), None, space), True
            )
        )
        versions.append(Version("kernelkit", space, _kk_reduce("dot", "dot", kk_args, space)))
    versions.append(Version("numba", "openmp", _numba("dot", lambda d: (d.b, d.c), None)))
    versions.append(Version("numpy", "openmp", _numpy(_np_dot), note="np.dot (BLAS threads)", isolated=True))
    return tuple(versions)
