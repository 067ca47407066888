"""Kokkos tutorial exercise "subview": y^T A x computed through subviews (ClassSty).

Subviews are Views of part of another View that share its memory. Here the rows of A are split into
`--blocks` blocks, `pk.subview(A, (lo, hi), pk.ALL)` with the matching `y[lo:hi]`; a functor's members are
pointed at each block in turn (a member changed between launches is seen by the next launch) and the
per-block reductions are summed. A second pass uses strided column subviews `A[:, k]` (LayoutStride) to
compute A^T y one column at a time. Both are checked exactly against NumPy.

(The C++ exercise takes the row subview inside the kernel, `auto A_row = subview(A, j, ALL)`; kernelkit
kernels index Views element by element, so the subviews are made on the host.)"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _common import setup, verdict  # noqa: E402
from _yax import a_value, parser, reference, report, x_value, y_value  # noqa: E402

import kernelkit as pk  # noqa: E402


@pk.functor
class Block:
    def __init__(self, M: int, x: pk.View1D[pk.double]):
        self.M: int = M
        self.x: pk.View1D[pk.double] = x
        self.y: pk.View1D[pk.double] = x  # set per block
        self.A: pk.View2D[pk.double] = pk.View([1, M], pk.double)  # set per block
        self.col: pk.View1D[pk.double] = x  # set per column

    @pk.workunit
    def yAx(self, j: int, acc: pk.Acc[pk.double]):
        temp2: float = 0
        for i in range(self.M):
            temp2 += self.A[j][i] * self.x[i]
        acc += self.y[j] * temp2

    @pk.workunit
    def dot_col(self, j: int, acc: pk.Acc[pk.double]):
        acc += self.col[j] * self.y[j]


@pk.workunit
def init(j: int, M: int, y: pk.View1D[pk.double], A: pk.View2D[pk.double]):
    y[j] = y_value(j)
    for i in range(M):
        A[j][i] = a_value(j, i)


@pk.workunit
def init_x(i: int, x: pk.View1D[pk.double]):
    x[i] = x_value(i)


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--blocks", type=int, default=8, help="row blocks (default 8)")
    args, space = setup(p)
    N, M = args.rows, args.cols
    y = pk.View([N], pk.double)
    x = pk.View([M], pk.double)
    A = pk.View([N, M], pk.double)
    pk.parallel_for(N, init, M=M, y=y, A=A)
    pk.parallel_for(M, init_x, x=x)

    nb = max(1, min(args.blocks, N))
    bounds = [(b * N // nb, (b + 1) * N // nb) for b in range(nb)]
    blocks = [(pk.subview(y, (lo, hi)), pk.subview(A, (lo, hi), pk.ALL)) for lo, hi in bounds]
    w = Block(M, x)

    def run() -> float:
        total = 0.0
        for y_b, A_b in blocks:
            w.y, w.A = y_b, A_b
            total += pk.parallel_reduce(y_b.extent(0), w.yAx)
        return total

    result = run()
    timer = pk.Timer()
    for _ in range(args.repeat):
        result = run()
    pk.fence()
    seconds = timer.seconds()

    # A^T y by strided column subviews, against NumPy
    w.y = y
    aty = np.empty(M)
    for k in range(M):
        w.col = A[:, k]  # a LayoutStride subview: every M-th element of A
        aty[k] = pk.parallel_reduce(N, w.dot_col)
    jj = np.arange(N)[:, None]
    ii = np.arange(M)[None, :]
    ref_aty = ((jj + 2 * ii) % 7 - 2).T.astype(float) @ (np.arange(N) % 3 + 1.0)
    if not np.array_equal(aty, ref_aty):
        bad = int(np.flatnonzero(aty != ref_aty)[0])
        verdict(False, f"column subview {bad}: {aty[bad]!r} != {ref_aty[bad]!r}")
    print(f"A^T y through {M} column subviews: matches NumPy")
    report(
        f"subview ({nb} row blocks)",
        result,
        reference(N, M),
        N,
        M,
        seconds,
        args.repeat,
        8.0 * (N * M + N + M),
    )


if __name__ == "__main__":
    main()
