"""Random number pools: `pk.Random_XorShift64_Pool(seed)` and `pk.Random_XorShift1024_Pool(seed)`.

Pass a pool to a kernel like a View (a keyword argument or a functor member). Inside the kernel:

    gen = pool.get_state()
    x = gen.drand()          # float64 in [0, 1); also drand(end), drand(begin, end), frand(...), urand(),
    k = gen.rand(10)         # urand64(), rand(...), normal()
    pool.free_state(gen)

`get_state` claims a fresh stream with one atomic increment of the pool's counter and seeds a xorshift64*
generator from it with splitmix64, so concurrent threads never share a state (no locks) and each stream is
statistically independent. The sequence of a given claim is the same on every backend; which claim a thread
gets depends on scheduling, as in Kokkos. Both pool names use the same generator (xorshift64*).
"""

from __future__ import annotations

import numpy as np

from kernelkit.errors import KernelValueError, caller_loc


from kernelkit.api.views import View


class RandomPool(View):
    """A pool of random streams: a View of two uint64, the seed and the claim counter (so it travels to the GPU
    and back like any View)."""

    kind = "xorshift64"

    def __init__(self, seed: int, num_states: int | None = None):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise KernelValueError(f"the seed of a random pool is a non-negative int, got {seed!r}", caller_loc())
        super().__init__([2], np.uint64)
        self.seed = int(seed) & 0xFFFFFFFFFFFFFFFF
        self.num_states = num_states  # accepted for PyKokkos compatibility; streams are unlimited here
        self.data[0] = self.seed
        self.data[1] = 0

    def get_state(self):
        """From plain Python: a host generator drawing exactly what a kernel's `pool.get_state()` would."""
        from kernelkit.api.extras import host_get_state

        return host_get_state(self)

    def free_state(self, gen) -> None:
        from kernelkit.api.extras import host_free_state

        host_free_state(self, gen)

    def __repr__(self) -> str:
        return f"pk.{type(self).__name__}(seed={self.seed})"


class Random_XorShift64_Pool(RandomPool):  # noqa: N801 - Kokkos names
    pass


class Random_XorShift1024_Pool(RandomPool):  # noqa: N801
    kind = "xorshift1024"


def rand(gen, *args):
    """`pk.rand(gen)`: the next float64 in [0, 1) of a generator from `pool.get_state()` (also `rand(gen, end)`
    and `rand(gen, begin, end)`); the same as `gen.drand(...)`, inside kernels and out."""
    return gen.drand(*args)
