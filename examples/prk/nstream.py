"""Parallel Research Kernels: nstream (ClassStyWithMain).

A[i] += B[i] + scalar * C[i] over vectors of `--length` doubles, `--iterations` + 1 times (PRK counts the
first, untimed iteration too), with A = 0, B = 2, C = 2 and scalar = 3 initially. Validation as in the PRK:
the sum of |A[i]| equals length * (iterations + 1) * (B + scalar * C) within a relative 1e-8. Reports the
bandwidth of the timed iterations (4 x 8 bytes per element: PRK's count)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import parser, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402


@pk.workload
class Nstream:
    def __init__(self, iterations: int, length: int, scalar: float):
        self.iterations: int = iterations
        self.length: int = length
        self.scalar: float = scalar
        self.A: pk.View1D[pk.double] = pk.View([length], pk.double)
        self.B: pk.View1D[pk.double] = pk.View([length], pk.double)
        self.C: pk.View1D[pk.double] = pk.View([length], pk.double)
        self.asum: float = 0.0
        self.nstream_time: float = 0.0

    @pk.main
    def run(self):
        pk.parallel_for(self.length, self.init)
        timer = pk.Timer()
        for it in range(self.iterations + 1):
            if it == 1:  # iteration 0 is the warm-up
                pk.fence()
                timer.reset()
            pk.parallel_for(self.length, self.nstream)
        pk.fence()
        self.nstream_time = timer.seconds()
        self.asum = pk.parallel_reduce(self.length, self.res_reduce)

    @pk.workunit
    def init(self, i: int):
        self.A[i] = 0.0
        self.B[i] = 2.0
        self.C[i] = 2.0

    @pk.workunit
    def nstream(self, i: int):
        self.A[i] += self.B[i] + self.scalar * self.C[i]

    @pk.workunit
    def res_reduce(self, i: int, acc: pk.Acc[pk.double]):
        acc += abs(self.A[i])


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--iterations", type=int, default=10, help="timed iterations (default 10)")
    p.add_argument("--length", type=int, default=1 << 23, help="vector length (default 2^23)")
    args, space = setup(p)
    w = Nstream(args.iterations, args.length, 3.0)
    pk.execute(space, w)

    ar = 0.0
    for _ in range(args.iterations + 1):
        ar += 2.0 + 3.0 * 2.0
    ref = ar * args.length
    err = abs(w.asum - ref) / ref
    if args.iterations:
        avg = w.nstream_time / args.iterations
        print(
            f"nstream: length {args.length}, {args.iterations} iterations, "
            f"rate {1e-9 * 4 * 8 * args.length / avg:.2f} GB/s, avg time {avg * 1e3:.3f} ms"
        )
    verdict(err < 1e-8, f"sum|A| = {w.asum!r}, reference {ref!r} (relative error {err:.2e})")


if __name__ == "__main__":
    main()
