"""Parallel Research Kernels: transpose (ClassSty, MDRange).

B += A^T, then A += 1, on order x order matrices, `--iterations` + 1 times (the first is the warm-up), as one
tiled rank-2 MDRange kernel. With A(i, j) = i * order + j initially, the PRK's closed form applies:
B(i, j) = (iterations + 1) * (j * order + i) + (iterations + 1) * iterations / 2, and the summed absolute
error must be below 1e-8 (every value is an exact integer in float64)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import parser, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402


@pk.functor
class Transpose:
    def __init__(self, order: int, iterations: int):
        self.order: int = order
        self.iterations: int = iterations
        self.A: pk.View2D[pk.double] = pk.View([order, order], pk.double)
        self.B: pk.View2D[pk.double] = pk.View([order, order], pk.double)
        self.addit: float = (iterations + 1.0) * (iterations / 2.0)

    @pk.workunit
    def init(self, i: int, j: int):
        self.A[i][j] = i * self.order + j
        self.B[i][j] = 0.0

    @pk.workunit
    def transpose(self, i: int, j: int):
        self.B[i][j] += self.A[j][i]
        self.A[j][i] += 1.0

    @pk.workunit
    def abserr(self, i: int, j: int, acc: pk.Acc[pk.double]):
        ref: float = (j * self.order + i) * (self.iterations + 1.0) + self.addit
        acc += abs(self.B[i][j] - ref)


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--iterations", type=int, default=10, help="timed iterations (default 10)")
    p.add_argument("-n", "--order", type=int, default=2048, help="matrix order (default 2048)")
    p.add_argument(
        "--tile",
        type=int,
        nargs=2,
        default=[32, 32],
        metavar=("TI", "TJ"),
        help="MDRange tile (default 32 32)",
    )
    args, space = setup(p)
    n = args.order
    t = Transpose(n, args.iterations)
    policy = pk.MDRangePolicy([0, 0], [n, n], tile=args.tile)
    pk.parallel_for("init", policy, t.init)

    timer = pk.Timer()
    for it in range(args.iterations + 1):
        if it == 1:
            pk.fence()
            timer.reset()
        pk.parallel_for("transpose", policy, t.transpose)
    pk.fence()
    seconds = timer.seconds()

    err = pk.parallel_reduce("abserr", policy, t.abserr)
    if args.iterations:
        avg = seconds / args.iterations
        print(
            f"transpose: order {n}, {args.iterations} iterations, "
            f"rate {1e-9 * 4 * 8 * n * n / avg:.2f} GB/s, avg time {avg * 1e3:.3f} ms"
        )
    verdict(err < 1e-8, f"summed absolute error {err!r}")


if __name__ == "__main__":
    main()
