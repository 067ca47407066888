"""Kokkos tutorial exercise "mdrange": multidimensional iteration with MDRangePolicy (FunctionSty).

A is initialized with a rank-2 `pk.MDRangePolicy([0, 0], [N, M], tile=...)` (one work item per element,
tiled for caches), y and x with RangePolicy; y^T A x is computed twice: as in the tutorial (one row per
work item, an inner loop over columns) and as a rank-2 MDRange parallel_reduce over every (j, i) pair. Both
are checked exactly against NumPy."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import setup, verdict  # noqa: E402
from _yax import a_value, parser, reference, report, x_value, y_value  # noqa: E402

import kernelkit as pk  # noqa: E402


@pk.workunit
def init_A(j: int, i: int, A: pk.View2D[pk.double]):
    A[j][i] = a_value(j, i)


@pk.workunit
def init_vectors(k: int, N: int, M: int, y: pk.View1D[pk.double], x: pk.View1D[pk.double]):
    if k < N:
        y[k] = y_value(k)
    if k < M:
        x[k] = x_value(k)


@pk.workunit
def yAx(
    j: int,
    acc: pk.Acc[pk.double],
    M: int,
    y: pk.View1D[pk.double],
    x: pk.View1D[pk.double],
    A: pk.View2D[pk.double],
):
    temp2: float = 0
    for i in range(M):
        temp2 += A[j][i] * x[i]
    acc += y[j] * temp2


@pk.workunit
def yAx_2d(
    j: int,
    i: int,
    acc: pk.Acc[pk.double],
    y: pk.View1D[pk.double],
    x: pk.View1D[pk.double],
    A: pk.View2D[pk.double],
):
    acc += y[j] * A[j][i] * x[i]


def main() -> None:
    p = parser(__doc__)
    p.add_argument(
        "--tile",
        type=int,
        nargs=2,
        default=[32, 32],
        metavar=("TJ", "TI"),
        help="MDRange tile (default 32 32)",
    )
    args, space = setup(p)
    N, M = args.rows, args.cols
    y = pk.View([N], pk.double)
    x = pk.View([M], pk.double)
    A = pk.View([N, M], pk.double)
    md = pk.MDRangePolicy([0, 0], [N, M], tile=args.tile)
    pk.parallel_for("init_A", md, init_A, A=A)
    pk.parallel_for("init_xy", max(N, M), init_vectors, N=N, M=M, y=y, x=x)

    ref = reference(N, M)
    result2d = pk.parallel_reduce("yAx_2d", md, yAx_2d, y=y, x=x, A=A)
    if result2d != ref:
        verdict(False, f"MDRange reduction {result2d!r} != {ref!r}")
    print(f"rank-2 MDRange reduction: {result2d!r}")

    result = pk.parallel_reduce("yAx", N, yAx, M=M, y=y, x=x, A=A)
    timer = pk.Timer()
    for _ in range(args.repeat):
        result = pk.parallel_reduce("yAx", N, yAx, M=M, y=y, x=x, A=A)
    pk.fence()
    report("mdrange", result, ref, N, M, timer.seconds(), args.repeat, 8.0 * (N * M + N + M))


if __name__ == "__main__":
    main()
