"""Kokkos tutorial exercise 02: y^T A x with Views (ClassSty).

A `@pk.functor` class holds the Views as annotated members (as in the PyKokkos slides); its `@pk.workunit`
methods initialize them and compute y^T A x, launched as `pk.parallel_for(n, w.method)`. The Views are
allocated in the memory of the chosen space (GPU memory on Cuda) and never leave it: only the scalar result
comes back. Checked exactly against NumPy."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import setup  # noqa: E402
from _yax import a_value, parser, reference, report, x_value, y_value  # noqa: E402

import kernelkit as pk  # noqa: E402


@pk.functor
class Workload:
    def __init__(self, N: int, M: int):
        self.N: int = N
        self.M: int = M
        self.y: pk.View1D[pk.double] = pk.View([N], pk.double)
        self.x: pk.View1D[pk.double] = pk.View([M], pk.double)
        self.A: pk.View2D[pk.double] = pk.View([N, M], pk.double)

    @pk.workunit
    def init_y(self, j: int):
        self.y[j] = y_value(j)

    @pk.workunit
    def init_x(self, i: int):
        self.x[i] = x_value(i)

    @pk.workunit
    def init_A(self, j: int):
        for i in range(self.M):
            self.A[j][i] = a_value(j, i)

    @pk.workunit
    def yAx(self, j: int, acc: pk.Acc[float]):
        temp2: float = 0
        for i in range(self.M):
            temp2 += self.A[j][i] * self.x[i]
        acc += self.y[j] * temp2


def main() -> None:
    args, space = setup(parser(__doc__))
    N, M = args.rows, args.cols
    w = Workload(N, M)
    pk.parallel_for(N, w.init_y)
    pk.parallel_for(M, w.init_x)
    pk.parallel_for(N, w.init_A)

    result = pk.parallel_reduce(N, w.yAx)
    timer = pk.Timer()
    for _ in range(args.repeat):
        result = pk.parallel_reduce(N, w.yAx)
    pk.fence()
    report("02 views", result, reference(N, M), N, M, timer.seconds(), args.repeat, 8.0 * (N * M + N + M))


if __name__ == "__main__":
    main()
