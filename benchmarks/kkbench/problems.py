"""The problems every space measures: data, NumPy's answer, how a result is checked, how much work a run does.

One `Problem` serves the CPU set (`cpu.py`, NumPy arrays) and the GPU set (`gpu.py`, the same arrays uploaded
to CudaSpace Views). Inputs are small integers and halves, and the weights are powers of two, so every result
except pi is exact in float64 whatever the summation order or FMA contraction: those must equal NumPy's bit
for bit. Pi (a sum of 1e8 inexact terms) may differ by the a-priori bound of recursive summation, n * 2**-53.

Sizes: `n` is elements per array for 1-D problems, the side of the square grid or matrix for 2-D ones, the
number of updates for gups, steps for pi.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .core import Benchmark, Version, check_array, check_scalar

SCALAR = 3.0
STAR_RADIUS = 2
STAR_WEIGHTS = (0.25, 0.125)  # PRK star stencil: w[k] = 1 / (2 k R), exact in binary for R = 2
TILE = 32  # transpose tiles (PRK's default), shared by every hand-written and kernelkit tiled version


class Data:
    """The arrays of one problem instance, as attributes; `n` is the size it was made for.

    `originals` keeps copies of the arrays a kernel updates in place (nstream's a, gups' table): `restore`
    puts them back before a version is validated."""

    def __init__(self, n: int, **arrays: Any):
        self.n = n
        self.originals: dict[str, np.ndarray] = {}
        self.__dict__.update(arrays)

    def keep(self, *names: str) -> Data:
        for name in names:
            self.originals[name] = getattr(self, name).copy()
        return self

    def restore(self) -> None:
        for name, original in self.originals.items():
            np.copyto(getattr(self, name), original)


@dataclass(frozen=True)
class Problem:
    name: str
    description: str
    unit: str  # GB/s, GFLOP/s, Gsteps/s or GUP/s (core.UNITS)
    work: Callable[[int], float]  # per run, in the unit's quantity (bytes, flops, steps, updates)
    make: Callable[[int], Data]
    expected: Callable[[Data], Any]
    validate: Callable[[Any, Any], tuple[float, str | None]]
    clobber: Callable[[Data], None] | None = None  # fill outputs with NaN (or restore in-place arrays)
    traffic: Callable[[int], float] | None = None  # bytes a run must move at least (bandwidth fraction)
    outputs: tuple[str, ...] = ()  # arrays the kernel writes (the GPU set downloads these to validate)
    tags: tuple[str, ...] = ()
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # space kind -> (full, quick)

    def size(self, kind: str, quick: bool) -> int:
        full, small = self.sizes[kind]
        return small if quick else full


# ---- data --------------------------------------------------------------------------------------------------


def pattern(n: int, period: int, scale: float) -> np.ndarray:
    """0, scale, 2 scale, ... repeating with `period`: small exact values, no two neighbours alike."""
    return np.resize(np.arange(period, dtype=np.float64) * scale, n)


def grid(n: int) -> np.ndarray:
    """An n x n input grid of small integers, (7 i + 13 j) mod 31: exact under weights 1/4 and 1/8."""
    i = np.arange(n, dtype=np.int64)[:, None]
    j = np.arange(n, dtype=np.int64)[None, :]
    return ((7 * i + 13 * j) % 31).astype(np.float64)


def _stream(n: int) -> Data:
    return Data(n, a=pattern(n, 1021, 0.5), b=pattern(n, 17, 1.0), c=pattern(n, 8, 0.25), s=SCALAR)


def _clobber(*names: str) -> Callable[[Data], None]:
    def clobber(d: Data) -> None:
        d.restore()
        for name in names:
            getattr(d, name).fill(np.nan)

    return clobber


def _clobber_interior(name: str, halo: int) -> Callable[[Data], None]:
    """NaN inside the halo; the border stays 0 as in NumPy's answer (the stencils never write it)."""

    def clobber(d: Data) -> None:
        out = getattr(d, name)
        out.fill(0.0)
        out[halo:-halo, halo:-halo] = np.nan

    return clobber


def _grid_pair(n: int) -> Data:
    return Data(n, inp=grid(n), out=np.zeros((n, n)))


def _transpose_data(n: int) -> Data:
    a = np.arange(n * n, dtype=np.float64).reshape(n, n)
    return Data(n, a=a, b=np.full((n, n), np.nan))


def _yax_data(n: int) -> Data:
    return Data(
        n,
        a=np.resize(np.arange(7, dtype=np.float64), (n, n)),  # row length n: a different phase per row
        x=pattern(n, 5, 1.0),
        y=pattern(n, 3, 0.5),
    )


def gups_table_size(n: int) -> int:
    """The table for n updates: the power of two at least 4 n (a table larger than the updates, as in
    HPCC RandomAccess, so most updates miss the cache)."""
    return 1 << max(4, math.ceil(math.log2(max(4 * n, 1))))


def _gups_data(n: int) -> Data:
    rng = np.random.default_rng(20260417)
    size = gups_table_size(n)
    d = Data(
        n,
        table=np.arange(size, dtype=np.int64),
        idx=rng.integers(0, size, n, dtype=np.int64),
        val=rng.integers(-(2**62), 2**62, n, dtype=np.int64),
    )
    return d.keep("table")


def _gather_data(n: int) -> Data:
    rng = np.random.default_rng(20260418)
    return Data(n, src=pattern(n, 1009, 0.5), idx=rng.integers(0, n, n, dtype=np.int64), out=np.zeros(n))


def _dgemm_data(n: int) -> Data:
    return Data(
        n,
        a=np.resize(np.arange(9, dtype=np.float64) - 4.0, (n, n)),
        b=np.resize(np.arange(5, dtype=np.float64) * 0.5, (n, n)),
        c=np.zeros((n, n)),
    )


# ---- NumPy's answers ---------------------------------------------------------------------------------------


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


def numpy_stencil(inp: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The PRK star stencil of radius 2 on the interior, written into `out` (its border is left alone); the
    arrays may be NumPy's or CuPy's."""
    r = STAR_RADIUS
    n = inp.shape[0]
    core = out[r : n - r, r : n - r]
    core.fill(0.0)
    for k, w in enumerate(STAR_WEIGHTS, start=1):
        core += w * inp[r : n - r, r + k : n - r + k]
        core -= w * inp[r : n - r, r - k : n - r - k]
        core += w * inp[r + k : n - r + k, r : n - r]
        core -= w * inp[r - k : n - r - k, r : n - r]
    return out


def numpy_jacobi(inp: np.ndarray, out: np.ndarray, xp: Any = np) -> np.ndarray:
    """One Jacobi sweep of the 5-point Laplacian on the interior, into `out` (`xp`: NumPy or CuPy)."""
    core = out[1:-1, 1:-1]
    xp.add(inp[:-2, 1:-1], inp[2:, 1:-1], out=core)
    core += inp[1:-1, :-2]
    core += inp[1:-1, 2:]
    core *= 0.25
    return out


def _expected_stencil(d: Data) -> np.ndarray:
    return numpy_stencil(d.inp, np.zeros_like(d.inp))


def _expected_jacobi(d: Data) -> np.ndarray:
    return numpy_jacobi(d.inp, np.zeros_like(d.inp))


def _expected_gups(d: Data) -> np.ndarray:
    table = d.originals["table"].copy()
    np.bitwise_xor.at(table, d.idx, d.val)
    return table


def _expected_yax(d: Data) -> float:
    return float(d.y @ (d.a @ d.x))


# ---- validation --------------------------------------------------------------------------------------------

EXACT = check_array(0.0)


def exact_ints(got: Any, expected: Any) -> tuple[float, str | None]:
    """Integer arrays must be equal (a float comparison would round 64-bit values)."""
    got = np.asarray(got)
    if got.shape != expected.shape:
        return math.inf, f"shape {got.shape}, NumPy {expected.shape}"
    wrong = int(np.count_nonzero(got != expected))
    return (0.0, None) if wrong == 0 else (float(wrong), f"{wrong} of {expected.size} elements differ")


def pi_tolerance(n: int) -> float:
    # Recursive summation of n positive terms: relative error <= (n - 1) * u, u = 2**-53.
    return max(1e-12, n * 2.0**-53)


def _pi_validate(got: Any, expected: Any) -> tuple[float, str | None]:
    n, value = expected
    return check_scalar(pi_tolerance(n))(got, value)


# ---- the problems -----------------------------------------------------------------------------------------

CPU, GPU = "cpu", "gpu"
STREAM_SIZES = {CPU: (1 << 25, 1 << 24), GPU: (1 << 27, 1 << 25)}  # 256 MiB / 1 GiB per array
GRID_SIZES = {
    CPU: (8000, 4000),
    GPU: (8192, 4096),
}  # ~512 MiB per grid; CPU: no power-of-two rows (set conflicts)
YAX_SIZES = {CPU: (8192, 4096), GPU: (16384, 4096)}
GUPS_SIZES = {CPU: (1 << 24, 1 << 22), GPU: (1 << 26, 1 << 22)}
GATHER_SIZES = {CPU: (1 << 25, 1 << 23), GPU: (1 << 27, 1 << 23)}
DGEMM_SIZES = {CPU: (1024, 512), GPU: (4096, 1024)}
PI_SIZES = {CPU: (1 << 27, 1 << 26), GPU: (1 << 28, 1 << 24)}


def _stream_problem(name: str, description: str, words: int, out: str, expected, tags=()) -> Problem:
    return Problem(
        name=name,
        description=description,
        unit="GB/s",
        work=lambda n: 8.0 * words * n,
        make=_stream,
        expected=expected,
        validate=EXACT,
        clobber=_clobber(out),
        outputs=(out,),
        tags=("stream", *tags),
        sizes=STREAM_SIZES,
    )


def _nstream_make(n: int) -> Data:
    return _stream(n).keep("a")


PROBLEMS: list[Problem] = [
    _stream_problem(
        "copy",
        "c[i] = a[i] (BabelStream copy), 2 x 8 bytes per element",
        2,
        "c",
        lambda d: d.a.copy(),
        ("quick", "ceiling"),
    ),
    _stream_problem("mul", "b[i] = s*c[i] (BabelStream mul), 2 x 8 bytes", 2, "b", lambda d: d.s * d.c),
    _stream_problem("add", "c[i] = a[i] + b[i] (BabelStream add), 3 x 8 bytes", 3, "c", lambda d: d.a + d.b),
    _stream_problem(
        "triad",
        "a[i] = b[i] + s*c[i] (STREAM/BabelStream triad), 3 x 8 bytes",
        3,
        "a",
        lambda d: d.b + d.s * d.c,
        ("quick", "scaling"),
    ),
    Problem(
        name="nstream",
        description="a[i] += b[i] + s*c[i] (PRK nstream), 4 x 8 bytes per element",
        unit="GB/s",
        work=lambda n: 32.0 * n,
        make=_nstream_make,
        expected=lambda d: d.originals["a"] + (d.b + d.s * d.c),
        validate=EXACT,
        clobber=lambda d: d.restore(),
        outputs=("a",),
        tags=("stream",),
        sizes=STREAM_SIZES,
    ),
    Problem(
        name="dot",
        description="sum of b[i]*c[i] (BabelStream dot), 2 x 8 bytes per element",
        unit="GB/s",
        work=lambda n: 16.0 * n,
        make=_stream,
        expected=lambda d: float(np.dot(d.b, d.c)),
        validate=check_scalar(0.0),
        tags=("reduction", "quick", "scaling"),
        sizes=STREAM_SIZES,
    ),
    Problem(
        name="sum",
        description="sum of b[i] (a full-array reduction), 8 bytes per element",
        unit="GB/s",
        work=lambda n: 8.0 * n,
        make=_stream,
        expected=lambda d: float(np.sum(d.b)),
        validate=check_scalar(0.0),
        tags=("reduction",),
        sizes=STREAM_SIZES,
    ),
    Problem(
        name="stencil",
        description="PRK star stencil, radius 2, n x n grid: 8 weighted neighbours (15 flops) per point",
        unit="GFLOP/s",
        work=lambda n: 15.0 * (n - 2 * STAR_RADIUS) ** 2,
        traffic=lambda n: 16.0 * (n - 2 * STAR_RADIUS) ** 2,
        make=_grid_pair,
        expected=_expected_stencil,
        validate=EXACT,
        clobber=_clobber_interior("out", STAR_RADIUS),
        outputs=("out",),
        tags=("grid", "scaling"),
        sizes=GRID_SIZES,
    ),
    Problem(
        name="jacobi",
        description="one Jacobi sweep of the 2-D 5-point Laplacian on an n x n grid, 2 x 8 bytes per point",
        unit="GB/s",
        work=lambda n: 16.0 * (n - 2) ** 2,
        make=_grid_pair,
        expected=_expected_jacobi,
        validate=EXACT,
        clobber=_clobber_interior("out", 1),
        outputs=("out",),
        tags=("grid",),
        sizes=GRID_SIZES,
    ),
    Problem(
        name="transpose",
        description=f"b = a^T, n x n (PRK transpose), 2 x 8 bytes per element; C and CUDA in {TILE}x{TILE} "
        "tiles, kernelkit-team through scratch memory",
        unit="GB/s",
        work=lambda n: 16.0 * n * n,
        make=_transpose_data,
        expected=lambda d: np.ascontiguousarray(d.a.T),
        validate=EXACT,
        clobber=_clobber("b"),
        outputs=("b",),
        tags=("grid", "team", "quick"),
        sizes=GRID_SIZES,
    ),
    Problem(
        name="yax",
        description="y^T A x, A n x n (Kokkos tutorial): kernelkit a row per index (Range), a row per team "
        "(TeamPolicy + TeamThreadRange reduce)",
        unit="GB/s",
        work=lambda n: 8.0 * (n * n + 2 * n),
        make=_yax_data,
        expected=_expected_yax,
        validate=check_scalar(0.0),
        tags=("reduction", "team", "quick", "scaling"),
        sizes=YAX_SIZES,
    ),
    Problem(
        name="gups",
        description="table[idx[i]] ^= val[i] with atomics (HPCC RandomAccess, Kokkos gups), table of "
        "int64 4x the updates",
        unit="GUP/s",
        work=lambda n: float(n),
        make=_gups_data,
        expected=_expected_gups,
        validate=exact_ints,
        clobber=lambda d: d.restore(),
        outputs=("table",),
        tags=("random",),
        sizes=GUPS_SIZES,
    ),
    Problem(
        name="gather",
        description="out[i] = src[idx[i]], random idx, 3 x 8 bytes per element",
        unit="GB/s",
        work=lambda n: 24.0 * n,
        make=_gather_data,
        expected=lambda d: d.src[d.idx],
        validate=EXACT,
        clobber=_clobber("out"),
        outputs=("out",),
        tags=("random",),
        sizes=GATHER_SIZES,
    ),
    Problem(
        name="pi",
        description="pi = integral of 4/(1+x^2) on [0,1] by the midpoint rule (the seeds' tutorial)",
        unit="Gsteps/s",
        work=lambda n: float(n),
        make=lambda n: Data(n, step=1.0 / n),
        expected=lambda d: (d.n, numpy_pi_sum(d.n, d.step)),
        validate=_pi_validate,
        tags=("reduction", "compute", "quick", "scaling"),
        sizes=PI_SIZES,
    ),
    Problem(
        name="dgemm",
        description="C = A B, n x n (the seeds' tutorial, 'parallel loops': C ikj, CUDA one thread per "
        "element); NumPy/CuPy call BLAS",
        unit="GFLOP/s",
        work=lambda n: 2.0 * n**3,
        make=_dgemm_data,
        expected=lambda d: d.a @ d.b,
        validate=EXACT,
        clobber=_clobber("c"),
        outputs=("c",),
        tags=("compute", "scaling"),
        sizes=DGEMM_SIZES,
    ),
]


def problem(name: str) -> Problem:
    for p in PROBLEMS:
        if p.name == name:
            return p
    raise KeyError(name)


def benchmark_of(
    problem: Problem, kind: str, versions: tuple[Version, ...], make: Callable[[Any, int], Any] | None = None
) -> Benchmark:
    """A harness Benchmark from a problem, its versions and the size table of `kind` (CPU or GPU); `make`
    replaces the problem's host data (`make(ctx, n)`: the GPU set uploads it)."""
    return Benchmark(
        name=problem.name,
        description=problem.description,
        unit=problem.unit,
        size=lambda quick: problem.size(kind, quick),
        make_data=make or (lambda ctx, n: problem.make(n)),
        expected=problem.expected,
        validate=problem.validate,
        work=problem.work,
        versions=versions,
        reset=problem.clobber,
        tags=problem.tags,
        traffic=problem.traffic,
    )
