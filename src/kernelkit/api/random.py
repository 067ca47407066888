"""Random number pools: `pk.Random_XorShift64_Pool(seed)` and `pk.Random_XorShift1024_Pool(seed)`.

Pass a pool to a kernel like a View (a keyword argument or a functor member). Inside the kernel:

    gen = pool.get_state()
    x = gen.drand()          # float64 in [0, 1); also drand(end), drand(begin, end), frand(...), urand(),
    k = gen.rand(10)         # urand64(), rand(...), normal()
    pool.free_state(gen)

`get_state` claims a fresh stream with one atomic increment of the pool's counter and seeds a xorshift64*
generator from it with splitmix64, so concurrent threads never share a state (no locks) and each stream is
statistically independent. The sequence of a given claim is the same on every backend; which claim a thread
gets depends on scheduling, as in Kokkos. Both pool names use the same generator (xorshift64*); the algorithm is
kernelkit.lang.random.

From plain Python, `pool.get_state()` (or `host_get_state(pool)`) gives a generator with exactly the draws a
kernel would get from the same claim, and `fill_random(view, pool, range)` / `fill_random(view, pool, begin,
end)` fills a View (Kokkos::fill_random, vectorized).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kernelkit.api import hostarrays
from kernelkit.api.views import View
from kernelkit.errors import KernelTypeError, KernelValueError, caller_loc
from kernelkit.lang.random import M64, XORSHIFT_MUL, rand, stream_state, xorshift64_star

__all__ = [
    "HostGenerator",
    "RandomPool",
    "Random_XorShift64_Pool",
    "Random_XorShift1024_Pool",
    "fill_random",
    "host_free_state",
    "host_get_state",
    "rand",
]


class RandomPool(View):
    """A pool of random streams: a View of two uint64, the seed and the claim counter (so it travels to the GPU
    and back like any View)."""

    kind = "xorshift64"

    def __init__(self, seed: int, num_states: int | None = None):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise KernelValueError(f"the seed of a random pool is a non-negative int, got {seed!r}", caller_loc())
        super().__init__([2], np.uint64)
        self.seed = int(seed) & M64
        self.num_states = num_states  # accepted for PyKokkos compatibility; streams are unlimited here
        self.data[0] = self.seed
        self.data[1] = 0

    def get_state(self) -> HostGenerator:
        """From plain Python: a host generator drawing exactly what a kernel's `pool.get_state()` would."""
        return host_get_state(self)

    def free_state(self, gen: HostGenerator) -> None:
        host_free_state(self, gen)

    def __repr__(self) -> str:
        return f"pk.{type(self).__name__}(seed={self.seed})"


class Random_XorShift64_Pool(RandomPool):  # noqa: N801 - Kokkos names
    pass


class Random_XorShift1024_Pool(RandomPool):  # noqa: N801
    kind = "xorshift1024"


def _check_pool(pool: Any, what: str) -> RandomPool:
    if not isinstance(pool, RandomPool):
        raise KernelTypeError(
            f"{what} takes a pk.Random_XorShift64_Pool or pk.Random_XorShift1024_Pool, got {type(pool).__name__}"
        )
    return pool


def _claim(pool: RandomPool, count: int) -> int:
    """Claim `count` consecutive streams (the pool counter stays coherent with the device); the first one."""
    counter = int(pool[1])
    pool[1] = (counter + count) & M64
    return counter


class HostGenerator:
    """A random stream used from Python: the same draws as a kernel's generator on the same claim.

    `drand([end] | [begin, end])` float64 in [0, 1) (scaled), `frand(...)` float32, `urand()` uint32,
    `urand64()`, `rand([end] | [begin, end])` int, `normal(mean=0, stddev=1)`."""

    __slots__ = ("state", "claim")

    def __init__(self, seed: int, claim: int) -> None:
        self.claim = claim
        self.state = stream_state(seed, claim)

    def _next(self) -> int:
        self.state, out = xorshift64_star(self.state)
        return out

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


def _draws(pool: RandomPool, n: int) -> np.ndarray:
    """n uint64 draws, vectorized: up to 1024 freshly claimed streams in lockstep, element k from stream
    k % streams (the streams are those kernels would get for the same claims)."""
    streams = max(1, min(n, 1024))
    first = _claim(pool, streams)
    seed = int(pool[0])
    st = np.array([stream_state(seed, first + c) for c in range(streams)], dtype=np.uint64)
    steps = -(-n // streams) if n else 0
    out = np.empty((steps, streams), dtype=np.uint64)
    mul = np.uint64(XORSHIFT_MUL)
    for k in range(steps):  # xorshift64_star, on every stream at once
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
    arr = hostarrays.read(view)
    lo, hi = (0, r[0]) if len(r) == 1 else (r[0], r[1])
    bits = _draws(pool, arr.size)
    if np.issubdtype(arr.dtype, np.integer):
        lo, hi = int(lo), int(hi)
        span = np.uint64(max(hi - lo, 1))
        vals = ((bits >> np.uint64(1)) % span).astype(np.int64) + lo
    else:
        u = (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
        vals = float(lo) + u * (float(hi) - float(lo))
    hostarrays.write(view, vals.reshape(arr.shape).astype(arr.dtype))
