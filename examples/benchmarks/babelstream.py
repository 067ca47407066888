"""BabelStream: memory bandwidth of copy, mul, add, triad and dot (ClassSty).

Three arrays of `--arraysize` doubles, initialized to a = 0.1, b = 0.2, c = 0.0; each of `--numtimes`
rounds runs copy (c = a), mul (b = scalar * c), add (c = a + b), triad (a = b + scalar * c) and dot
(sum a * b), with scalar = 0.4, fencing after each kernel. Validation as in BabelStream: the mean absolute
error of each array against the scalar recurrence is below 100 x machine epsilon, and the dot product is
within a relative 1e-8 of gold_a * gold_b * n. Reports BabelStream's table (best MB/s and times, the first
round excluded)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _common import parser, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402

START_A, START_B, START_C, SCALAR = 0.1, 0.2, 0.0, 0.4


@pk.functor
class KokkosStream:
    def __init__(self, array_size: int):
        self.array_size: int = array_size
        self.scalar: float = SCALAR
        self.a: pk.View1D[pk.double] = pk.View([array_size], pk.double)
        self.b: pk.View1D[pk.double] = pk.View([array_size], pk.double)
        self.c: pk.View1D[pk.double] = pk.View([array_size], pk.double)
        self.initA: float = START_A
        self.initB: float = START_B
        self.initC: float = START_C

    @pk.workunit
    def init_arrays(self, i: int):
        self.a[i] = self.initA
        self.b[i] = self.initB
        self.c[i] = self.initC

    @pk.workunit
    def copy(self, i: int):
        self.c[i] = self.a[i]

    @pk.workunit
    def mul(self, i: int):
        self.b[i] = self.scalar * self.c[i]

    @pk.workunit
    def add(self, i: int):
        self.c[i] = self.a[i] + self.b[i]

    @pk.workunit
    def triad(self, i: int):
        self.a[i] = self.b[i] + self.scalar * self.c[i]

    @pk.workunit
    def dot(self, i: int, acc: pk.Acc[pk.double]):
        acc += self.a[i] * self.b[i]


def main() -> None:
    p = parser(__doc__)
    p.add_argument("-s", "--arraysize", type=int, default=1 << 22, help="elements per array (default 2^22)")
    p.add_argument("-n", "--numtimes", type=int, default=20, help="rounds of the five kernels (default 20)")
    args, space = setup(p)
    n, ntimes = args.arraysize, max(args.numtimes, 2)
    s = KokkosStream(n)
    pk.parallel_for(n, s.init_arrays)
    pk.fence()

    names = ["Copy", "Mul", "Add", "Triad", "Dot"]
    kernels = [s.copy, s.mul, s.add, s.triad]
    times = np.zeros((5, ntimes))
    total = 0.0
    timer = pk.Timer()
    for k in range(ntimes):
        for idx, wu in enumerate(kernels):
            timer.reset()
            pk.parallel_for(n, wu)
            pk.fence()
            times[idx, k] = timer.seconds()
        timer.reset()
        total = pk.parallel_reduce(n, s.dot)
        times[4, k] = timer.seconds()

    gold_a, gold_b, gold_c = START_A, START_B, START_C
    for _ in range(ntimes):
        gold_c = gold_a
        gold_b = SCALAR * gold_c
        gold_c = gold_a + gold_b
        gold_a = gold_b + SCALAR * gold_c
    gold_sum = gold_a * gold_b * n
    eps = np.finfo(np.float64).eps * 100.0
    errs = {
        name: float(np.mean(np.abs(np.asarray(v) - g)))
        for name, v, g in (("a", s.a, gold_a), ("b", s.b, gold_b), ("c", s.c, gold_c))
    }
    err_sum = abs((total - gold_sum) / gold_sum)

    sizes = [2, 2, 3, 3, 2]
    print(f"{'Function':<10}{'MBytes/sec':>14}{'Min (sec)':>12}{'Max':>12}{'Average':>12}")
    for idx, name in enumerate(names):
        t = times[idx, 1:]
        mbs = 1e-6 * sizes[idx] * 8 * n / t.min()
        print(f"{name:<10}{mbs:>14.3f}{t.min():>12.5f}{t.max():>12.5f}{t.mean():>12.5f}")
    bad = [f"{k}: mean error {e:.3e}" for k, e in errs.items() if e > eps]
    if err_sum > 1e-8:
        bad.append(f"dot: {total!r} vs {gold_sum!r} (relative {err_sum:.3e})")
    verdict(not bad, "; ".join(bad) if bad else f"arrays and dot ({total!r}) validate")


if __name__ == "__main__":
    main()
