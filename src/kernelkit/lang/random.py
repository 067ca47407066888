"""Random streams in the kernel language: `pk.rand(gen)` and the generator every space runs.

`pool.get_state()` claims stream number `claim` with one increment of the pool's counter; the stream's state is
`splitmix64(seed ^ claim * golden)` (never 0), and each draw is one xorshift64* step. The C++ side is
include/kernelkit/random.h; the Python side, written once here, serves the Debug space
(backends/debug/runtime.py) and the host generators of api/random.py, so all three draw the same numbers.
"""

from __future__ import annotations

from kernelkit.lang import registry

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
XORSHIFT_MUL = 0x2545F4914F6CDD1D


def splitmix64(x: int) -> int:
    """One splitmix64 output for the 64-bit input `x`.

    >>> hex(splitmix64(0))
    '0xe220a8397b1dcdaf'
    """
    x = (x + GOLDEN) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def stream_state(seed: int, claim: int) -> int:
    """The initial xorshift64* state of stream `claim` of a pool seeded with `seed`."""
    return splitmix64((seed ^ ((claim * GOLDEN) & M64)) & M64) or 1


def xorshift64_star(state: int) -> tuple[int, int]:
    """One step: (the next state, the 64-bit output)."""
    s = state
    s ^= s >> 12
    s ^= (s << 25) & M64
    s ^= s >> 27
    return s, (s * XORSHIFT_MUL) & M64


def rand(gen, *args):
    """`pk.rand(gen)`: the next float64 in [0, 1) of a generator from `pool.get_state()` (also `rand(gen, end)`
    and `rand(gen, begin, end)`); the same as `gen.drand(...)`, inside kernels and out."""
    return gen.drand(*args)


registry.register(rand, "rand", "drand")
