"""Kokkos tutorial exercise 04: memory spaces, layouts and RangePolicy (ClassStyWithMain).

A `@pk.workload` class whose `@pk.main` method initializes y, x and A with kernels and runs the y^T A x
reduction over `pk.RangePolicy(space, 0, N)`; `pk.execute(space, w)` runs it on the chosen space and a
`@pk.callback` method reports. `--layout` picks A's layout: `default` is Kokkos' choice for the space
(LayoutRight on the host, LayoutLeft in GPU memory, where consecutive threads j then read consecutive
addresses); `right` and `left` force one (try both on each space to see the effect). Checked exactly against
NumPy."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import setup  # noqa: E402
from _yax import a_value, parser, reference, report, x_value, y_value  # noqa: E402

import kernelkit as pk  # noqa: E402

LAYOUTS = {"default": pk.LayoutDefault, "right": pk.LayoutRight, "left": pk.LayoutLeft}


@pk.workload
class Workload:
    def __init__(self, N: int, M: int, nrepeat: int, layout, space):
        self.N: int = N
        self.M: int = M
        self.nrepeat: int = nrepeat
        self.space = space
        self.y: pk.View1D[pk.double] = pk.View([N], pk.double)
        self.x: pk.View1D[pk.double] = pk.View([M], pk.double)
        self.A: pk.View2D[pk.double] = pk.View([N, M], pk.double, layout=layout)
        self.result: float = 0.0
        self.seconds: float = 0.0

    @pk.main
    def run(self):
        policy = pk.RangePolicy(self.space, 0, self.N)
        pk.parallel_for("init_y", policy, self.init_y)
        pk.parallel_for("init_x", pk.RangePolicy(self.space, 0, self.M), self.init_x)
        pk.parallel_for("init_A", policy, self.init_A)
        self.result = pk.parallel_reduce("yAx", policy, self.yAx)  # compile and warm up
        timer = pk.Timer()
        for _ in range(self.nrepeat):
            self.result = pk.parallel_reduce("yAx", policy, self.yAx)
        pk.fence()
        self.seconds = timer.seconds()

    @pk.callback
    def results(self):
        print(f"A: {self.A!r}")

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
    def yAx(self, j: int, acc: pk.Acc[pk.double]):
        temp2: float = 0
        for i in range(self.M):
            temp2 += self.A[j][i] * self.x[i]
        acc += self.y[j] * temp2


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--layout", choices=sorted(LAYOUTS), default="default", help="layout of A (default: default)")
    args, space = setup(p)
    N, M = args.rows, args.cols
    w = Workload(N, M, args.repeat, LAYOUTS[args.layout], space)
    pk.execute(space, w)
    report(
        f"04 layouts ({w.A.layout.name})",
        w.result,
        reference(N, M),
        N,
        M,
        w.seconds,
        args.repeat,
        8.0 * (N * M + N + M),
    )


if __name__ == "__main__":
    main()
