"""Host-side pieces of the PyKokkos API that need no compiler support.

- `Timer` (Kokkos::Timer): `seconds()` since construction or the last `reset()`.
- `initialize()` / `finalize()`: accepted and harmless (kernelkit needs no global set-up; `finalize` fences).
- `set_default_precision(dtype)` / `get_default_precision()`: the type `pk.real` names. `pk.real` is float64
  unless set; setting it rebinds `pk.real`, so call it at the start of the program, before kernels that use
  `pk.real` are defined or launched and before Views are created with it (a value read earlier, e.g. by
  `from kernelkit import real`, keeps the old type).
- `ViewTypeInfo(space=, layout=, trait=)`: the record PyKokkos passes in decorator keywords
  (`@pk.workload(x=pk.ViewTypeInfo(layout=pk.LayoutRight))`); the decorators store it.
- `BinOp1D`, `BinOp3D`, `BinSort` (Kokkos::BinSort): bin keys, build the permutation, count and offsets per
  bin, and apply the permutation to Views. Computed with NumPy on the host copy of the Views; results are
  written back through the View API, so they reach the device copy of a GPU View.
- The host side of the random pools (`pk.Random_XorShift64_Pool(seed)`, which kernels use directly):
  `host_get_state(pool)` / `host_free_state(pool, gen)` give Python code a generator with exactly the draws a
  kernel would get from the same stream; `fill_random(view, pool, range)` / `fill_random(view, pool, begin,
  end)` fills a View (Kokkos::fill_random, vectorized).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from kernelkit.errors import KernelTypeError, KernelValueError
from kernelkit.ir import types as _types

__all__ = [
    "Timer",
    "initialize",
    "finalize",
    "is_initialized",
    "set_default_precision",
    "get_default_precision",
    "ViewTypeInfo",
    "BinOp1D",
    "BinOp3D",
    "BinSort",
    "HostGenerator",
    "host_get_state",
    "host_free_state",
    "fill_random",
]


# --------------------------------------------------------------------------------------------------- Timer


class Timer:
    """Wall-clock timer (Kokkos::Timer). It does not fence: call `pk.fence()` before reading it after
    asynchronous (GPU) launches.

    >>> t = Timer(); t.seconds() >= 0.0
    True
    """

    __slots__ = ("_start",)

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def seconds(self) -> float:
        """Seconds elapsed since the timer was created or last reset."""
        return time.perf_counter() - self._start

    def reset(self) -> None:
        """Restart the timer at zero."""
        self._start = time.perf_counter()

    def __repr__(self) -> str:
        return f"pk.Timer({self.seconds():.6f} s)"


# --------------------------------------------------------------------------------- initialize / finalize

_state = {"initialized": False}


def initialize(*args: Any, **kwargs: Any) -> None:
    """Accepted for PyKokkos/Kokkos compatibility; kernelkit needs no set-up (importing it starts nothing).
    Arguments (Kokkos' `--kokkos-num-threads=...` style or keywords) are ignored."""
    _state["initialized"] = True


def finalize() -> None:
    """Accepted for compatibility: waits for outstanding work (`pk.fence()`); kernelkit keeps working
    after it."""
    try:
        from kernelkit.api.patterns import fence

        fence()
    finally:
        _state["initialized"] = False


def is_initialized() -> bool:
    """True between `initialize()` and `finalize()` (informational only: kernelkit works either way)."""
    return _state["initialized"]


# --------------------------------------------------------------------------------------------- precision

_precision = [_types.float64]


def set_default_precision(dtype: object) -> None:
    """Make `pk.real` name `dtype` (pk.float32 / pk.float or pk.float64 / pk.double).

    PyKokkos programs call this once at start-up; do the same here: `pk.real` is rebound, so kernels and
    Views that read `pk.real` afterwards see the new type."""
    st = _types.as_scalar_type(dtype)
    if st not in (_types.float32, _types.float64):
        raise KernelValueError(f"the default precision must be pk.float32 or pk.float64, got {st!r}")
    _precision[0] = st
    pkg = sys.modules.get("kernelkit")
    if pkg is not None:
        pkg.real = st  # type: ignore[attr-defined]


def get_default_precision() -> _types.ScalarType:
    """The type `pk.real` names: float64 unless `set_default_precision` changed it."""
    return _precision[0]


# ---------------------------------------------------------------------------------------------- ViewTypeInfo


@dataclass(frozen=True)
class ViewTypeInfo:
    """Layout, memory space and trait of a member View, given in decorator keywords as PyKokkos does:
    `@pk.workunit(x=pk.ViewTypeInfo(layout=pk.LayoutLeft))`. kernelkit takes the layout from the View itself
    (each layout gets its own specialization), so the record is stored, not needed."""

    space: Any = None
    layout: Any = None
    trait: Any = None

    def __repr__(self) -> str:
        fields = (("space", self.space), ("layout", self.layout), ("trait", self.trait))
        parts = [f"{k}={v!r}" for k, v in fields if v is not None]
        return f"pk.ViewTypeInfo({', '.join(parts)})"


# ------------------------------------------------------------------------------------------------ host views


def _read(x: Any) -> np.ndarray:
    """The current host values of a View or array (read only: no device copy is marked stale)."""
    from kernelkit.api.views import View

    if isinstance(x, View):
        return x._host(write=False)
    return np.asarray(x)


def _new_view(values: np.ndarray, like: Any) -> Any:
    """A new View holding `values`, in the memory space of `like` (a View) or the default space."""
    from kernelkit.api.views import View, deep_copy

    space = like.space if isinstance(like, View) else None
    v = View(list(values.shape), _types.as_scalar_type(values.dtype), space=space)
    deep_copy(v, np.ascontiguousarray(values))
    return v


def _write(dst: Any, values: np.ndarray) -> None:
    """Store `values` into a View (through deep_copy, so a GPU View's device copy is updated) or an array."""
    from kernelkit.api.views import View, deep_copy

    if isinstance(dst, View):
        deep_copy(dst, np.ascontiguousarray(values.astype(dst.dtype.np_dtype, copy=False)))
    else:
        np.asarray(dst)[...] = values


# ------------------------------------------------------------------------------------------ BinOp / BinSort


def _numbers(x: Any, n: int, what: str) -> list[float]:
    seq = list(np.asarray(_read(x) if not isinstance(x, (list, tuple)) else x, dtype=float).ravel())
    if len(seq) != n:
        raise KernelValueError(f"{what} needs {n} value(s), got {len(seq)}")
    return [float(v) for v in seq]


class BinOp1D:
    """Kokkos::BinOp1D: `nbins` equal bins over [min, max) of a rank-1 key View. A key equal to `max` falls in
    one extra bin (Kokkos gives `max_bins() == nbins + 1`).

    >>> op = BinOp1D(None, 4, 0.0, 1.0); op.max_bins(), op.bin_of(np.array([0.0, 0.3, 0.99, 1.0])).tolist()
    (5, [0, 1, 3, 4])
    """

    rank = 1

    def __init__(self, keys: Any, nbins: int, min: float, max: float) -> None:  # noqa: A002 - Kokkos names
        nbins = int(nbins)
        if nbins < 1:
            raise KernelValueError(f"BinOp1D needs at least one bin, got {nbins}")
        if not float(max) > float(min):
            raise KernelValueError(f"BinOp1D needs max > min, got min={min!r}, max={max!r}")
        self.keys = keys
        self.nbins = nbins
        self.min = float(min)
        self.max = float(max)
        self.mul = nbins / (self.max - self.min)

    def max_bins(self) -> int:
        return self.nbins + 1

    def bin_of(self, keys: np.ndarray) -> np.ndarray:
        """The bin of each key (host NumPy)."""
        k = np.asarray(keys, dtype=np.float64)
        if k.ndim != 1:
            raise KernelValueError(f"BinOp1D bins rank-1 keys, got shape {k.shape}")
        return (self.mul * (k - self.min)).astype(np.int64)

    def __repr__(self) -> str:
        return f"pk.BinOp1D({self.nbins}, {self.min}, {self.max})"


class BinOp3D:
    """Kokkos::BinOp3D: a grid of nbins[0] x nbins[1] x nbins[2] bins over a rank-2 (n, 3) key View
    (positions).
    The bin of key i is `(ix * nbins[1] + iy) * nbins[2] + iz`.

    >>> op = BinOp3D(None, [2, 2, 2], [0, 0, 0], [1, 1, 1]); op.bin_of(np.array([[0.7, 0.2, 0.6]])).tolist()
    [5]
    """

    rank = 3

    def __init__(self, keys: Any, nbins: Any, min: Any, max: Any) -> None:  # noqa: A002 - Kokkos names
        nb = [int(b) for b in _numbers(nbins, 3, "BinOp3D nbins")]
        lo = _numbers(min, 3, "BinOp3D min")
        hi = _numbers(max, 3, "BinOp3D max")
        if any(b < 1 for b in nb):
            raise KernelValueError(f"BinOp3D needs at least one bin per dimension, got {nb}")
        if any(not h > low for low, h in zip(lo, hi, strict=True)):
            raise KernelValueError(f"BinOp3D needs max > min in every dimension, got min={lo}, max={hi}")
        self.keys = keys
        self.nbins = nb
        self.min = lo
        self.max = hi
        self.mul = [b / (h - low) for b, low, h in zip(nb, lo, hi, strict=True)]

    def max_bins(self) -> int:
        return self.nbins[0] * self.nbins[1] * self.nbins[2]

    def bin_of(self, keys: np.ndarray) -> np.ndarray:
        k = np.asarray(keys, dtype=np.float64)
        if k.ndim != 2 or k.shape[1] < 3:
            raise KernelValueError(f"BinOp3D bins (n, 3) keys, got shape {k.shape}")
        ix, iy, iz = ((self.mul[d] * (k[:, d] - self.min[d])).astype(np.int64) for d in range(3))
        return (ix * self.nbins[1] + iy) * self.nbins[2] + iz

    def __repr__(self) -> str:
        return f"pk.BinOp3D({self.nbins}, {self.min}, {self.max})"


class BinSort:
    """Kokkos::BinSort: `BinSort(keys, bin_op[, sort_within_bins])` or `BinSort(keys, begin, end, bin_op[,
    sort_within_bins])` (only keys begin..end-1 are binned and sorted).

    `create_permute_vector()` bins the keys; then `get_permute_vector()[j]` is the original index of the j-th
    element in bin order, `get_bin_count()[b]` the number of keys in bin b and `get_bin_offsets()[b]` where
    bin b starts (an exclusive scan of the counts); `sort(view)` reorders the first dimension of a View (or
    its begin..end part) into bin order. Within a bin, elements keep their original order (Kokkos leaves it
    unspecified unless `sort_within_bins`, which then orders by key). The Views returned are int32, in the
    keys' memory space. A key whose bin falls outside 0..max_bins-1 raises (Kokkos has undefined behavior).
    """

    def __init__(self, keys: Any, *args: Any, sort_within_bins: bool = False) -> None:
        if len(args) in (1, 2) and isinstance(args[0], (BinOp1D, BinOp3D)):
            begin, end, bin_op = 0, None, args[0]
            rest = args[1:]
        elif len(args) in (3, 4) and isinstance(args[2], (BinOp1D, BinOp3D)):
            begin, end, bin_op = int(args[0]), int(args[1]), args[2]
            rest = args[3:]
        else:
            raise KernelTypeError(
                "BinSort(keys, bin_op[, sort_within_bins]) or BinSort(keys, begin, end, "
                "bin_op[, sort_within_bins]) with a pk.BinOp1D or pk.BinOp3D"
            )
        if rest:
            sort_within_bins = bool(rest[0])
        n = len(keys) if hasattr(keys, "__len__") else np.asarray(keys).shape[0]
        end = n if end is None else end
        if not 0 <= begin <= end <= n:
            raise KernelValueError(f"BinSort range [{begin}, {end}) is outside the {n} keys")
        self.keys = keys
        self.bin_op = bin_op
        self.begin = begin
        self.end = end
        self.sort_within_bins = sort_within_bins
        self._perm: Any = None
        self._count: Any = None
        self._offsets: Any = None
        self._perm_np: np.ndarray | None = None

    def create_permute_vector(self, exec_space: Any = None) -> None:
        """Bin the keys and build the permutation, bin counts and bin offsets."""
        keys = _read(self.keys)[self.begin : self.end]
        bins = self.bin_op.bin_of(keys)
        nb = self.bin_op.max_bins()
        if bins.size and (bins.min() < 0 or bins.max() >= nb):
            bad = int(np.flatnonzero((bins < 0) | (bins >= nb))[0])
            raise KernelValueError(
                f"BinSort: key {self.begin + bad} ({keys[bad]!r}) falls in bin "
                f"{int(bins[bad])}, outside the {nb} bins of {self.bin_op!r}"
            )
        if self.sort_within_bins:
            k = keys if keys.ndim == 1 else keys[:, 0]
            perm = np.lexsort((k, bins))
        else:
            perm = np.argsort(bins, kind="stable")
        count = np.bincount(bins, minlength=nb)
        offsets = np.zeros(nb, dtype=np.int64)
        np.cumsum(count[:-1], out=offsets[1:])
        self._perm_np = perm
        self._perm = _new_view(perm.astype(np.int32), self.keys)
        self._count = _new_view(count.astype(np.int32), self.keys)
        self._offsets = _new_view(offsets.astype(np.int32), self.keys)

    def _need(self) -> None:
        if self._perm_np is None:
            raise KernelValueError("call create_permute_vector() first")

    def get_permute_vector(self) -> Any:
        self._need()
        return self._perm

    def get_bin_count(self) -> Any:
        self._need()
        return self._count

    def get_bin_offsets(self) -> Any:
        self._need()
        return self._offsets

    def sort(self, values: Any, begin: int | None = None, end: int | None = None) -> None:
        """Reorder `values` along its first dimension: element begin+j becomes old element begin+perm[j].
        Without begin/end the BinSort's own range is used."""
        self._need()
        perm = self._perm_np
        b = self.begin if begin is None else int(begin)
        e = b + perm.size if end is None else int(end)
        if e - b != perm.size:
            raise KernelValueError(
                f"sort(view, {b}, {e}): the range must hold the {perm.size} sorted elements"
            )
        arr = _read(values)
        if arr.shape[0] < e:
            raise KernelValueError(f"sort(): the View has {arr.shape[0]} rows, the range ends at {e}")
        new = np.array(arr, copy=True)
        new[b:e] = arr[b:e][perm]
        _write(values, new)

    def __repr__(self) -> str:
        return f"pk.BinSort({self.bin_op!r}, range=[{self.begin}, {self.end}))"


# --------------------------------------------------------------------------------------------- random pools
#
# The pools are kernelkit's `pk.Random_XorShift64_Pool` / `Random_XorShift1024_Pool` (kernelkit.api.random),
# which kernels use directly. What follows is their host side, for plain Python code: a generator on a stream
# claimed exactly as a kernel's `pool.get_state()` claims one (an increment of the pool's counter, the stream
# seeded with splitmix64), drawing exactly the numbers a kernel would draw from that claim
# (include/kernelkit/random.h), and Kokkos::fill_random.

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MUL = 0x2545F4914F6CDD1D


def _splitmix64(x: int) -> int:
    x = (x + _GOLDEN) & _M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _check_pool(pool: Any, what: str) -> Any:
    from kernelkit.api.random import RandomPool

    if not isinstance(pool, RandomPool):
        raise KernelTypeError(
            f"{what} takes a pk.Random_XorShift64_Pool or pk.Random_XorShift1024_Pool, got "
            f"{type(pool).__name__}"
        )
    return pool


def _claim(pool: Any, count: int) -> int:
    """Claim `count` consecutive streams (the pool counter stays coherent with the device); the first one."""
    counter = int(pool[1])
    pool[1] = (counter + count) & _M64
    return counter


class HostGenerator:
    """A random stream used from Python: the same draws as a kernel's generator on the same claim.

    `drand([end] | [begin, end])` float64 in [0, 1) (scaled), `frand(...)` float32, `urand()` uint32,
    `urand64()`, `rand([end] | [begin, end])` int, `normal(mean=0, stddev=1)`."""

    __slots__ = ("state", "claim")

    def __init__(self, seed: int, claim: int) -> None:
        self.claim = claim
        self.state = _splitmix64((seed ^ ((claim * _GOLDEN) & _M64)) & _M64) or 1

    def _next(self) -> int:
        s = self.state
        s ^= s >> 12
        s ^= (s << 25) & _M64
        s ^= s >> 27
        self.state = s
        return (s * _MUL) & _M64

    def drand(self, *r: float) -> float:
        u = (self._next() >> 11) * (1.0 / 9007199254740992.0)
        if not r:
            return u
        return u * float(r[0]) if len(r) == 1 else float(r[0]) + u * (float(r[1]) - float(r[0]))

    def frand(self, *r: float) -> float:
        f32 = np.float32
        u = f32((self._next() >> 40) * (1.0 / 16777216.0))
        if not r:
            return float(u)
        if len(r) == 1:
            return float(f32(u * f32(r[0])))
        return float(f32(f32(r[0]) + u * f32(float(r[1]) - float(r[0]))))

    def urand(self) -> int:
        return self._next() >> 32

    def urand64(self) -> int:
        return self._next()

    def rand(self, *r: int) -> int:
        x = self._next() >> 1
        if not r:
            return x >> 32
        lo, hi = (0, int(r[0])) if len(r) == 1 else (int(r[0]), int(r[1]))
        return lo + (x % (hi - lo) if hi > lo else 0)

    def normal(self, mean: float = 0.0, stddev: float = 1.0) -> float:
        u1 = 1.0 - self.drand()
        u2 = self.drand()
        return mean + stddev * math.sqrt(-2.0 * math.log(u1)) * math.cos(6.283185307179586 * u2)

    def __repr__(self) -> str:
        return f"<random stream {self.claim}>"


def host_get_state(pool: Any) -> HostGenerator:
    """`pool.get_state()` for Python code: claim the pool's next stream and return its generator."""
    _check_pool(pool, "get_state")
    return HostGenerator(int(pool[0]), _claim(pool, 1))


def host_free_state(pool: Any, gen: HostGenerator) -> None:
    """`pool.free_state(gen)` for Python code: nothing to do (streams are never reused, as in kernels)."""
    _check_pool(pool, "free_state")


def _draws(pool: Any, n: int) -> np.ndarray:
    """n uint64 draws, vectorized: up to 1024 freshly claimed streams in lockstep, element k from stream
    k % streams (the streams are those kernels would get for the same claims)."""
    streams = max(1, min(n, 1024))
    first = _claim(pool, streams)
    seed = int(pool[0])
    st = np.array([HostGenerator(seed, first + c).state for c in range(streams)], dtype=np.uint64)
    steps = -(-n // streams) if n else 0
    out = np.empty((steps, streams), dtype=np.uint64)
    mul = np.uint64(_MUL)
    for k in range(steps):
        st ^= st >> np.uint64(12)
        st ^= st << np.uint64(25)
        st ^= st >> np.uint64(27)
        out[k] = st * mul
    return out.reshape(-1)[:n]


def fill_random(view: Any, pool: Any, *r: Any) -> None:
    """Kokkos::fill_random(view, pool, range) or (view, pool, begin, end): uniform values in [0, range) or
    [begin, end), integers for an integer View (as `gen.rand`), reals otherwise (as `gen.drand`)."""
    _check_pool(pool, "fill_random")
    if len(r) not in (1, 2):
        raise KernelTypeError("fill_random(view, pool, range) or fill_random(view, pool, begin, end)")
    arr = _read(view)
    lo, hi = (0, r[0]) if len(r) == 1 else (r[0], r[1])
    bits = _draws(pool, arr.size)
    if np.issubdtype(arr.dtype, np.integer):
        lo, hi = int(lo), int(hi)
        span = np.uint64(max(hi - lo, 1))
        vals = ((bits >> np.uint64(1)) % span).astype(np.int64) + lo
    else:
        u = (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
        vals = float(lo) + u * (float(hi) - float(lo))
    _write(view, vals.reshape(arr.shape).astype(arr.dtype))
