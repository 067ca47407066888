"""Parallel Research Kernels: stencil, star shape of radius 2 (FunctionSty, MDRange).

out += W * in over the interior of an n x n grid with the PRK's star weights (1/(2 k R) at distance k along
each axis, negated on the negative side), then in += 1 everywhere; `--iterations` + 1 times (the first is
the warm-up). With in(i, j) = i + j initially, the PRK's closed form applies: the mean of |out| over the
(n - 2R)^2 active points is (iterations + 1) * 2, checked within 1e-8. Both kernels use a tiled rank-2
MDRangePolicy."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _common import parser, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402


@pk.workunit
def init(i: int, j: int, inp: pk.View2D[pk.double], out: pk.View2D[pk.double]):
    inp[i][j] = i + j  # COEFX * i + COEFY * j with COEFX = COEFY = 1
    out[i][j] = 0.0


@pk.workunit
def star(i: int, j: int, R: int, W: pk.View2D[pk.double], inp: pk.View2D[pk.double], out: pk.View2D[pk.double]):
    s: float = 0.0
    for jj in range(-R, R + 1):
        s += W[R][R + jj] * inp[i][j + jj]
    for ii in range(-R, 0):
        s += W[R + ii][R] * inp[i + ii][j]
    for ii in range(1, R + 1):
        s += W[R + ii][R] * inp[i + ii][j]
    out[i][j] += s


@pk.workunit
def increment(i: int, j: int, inp: pk.View2D[pk.double]):
    inp[i][j] += 1.0


@pk.workunit
def norm(i: int, j: int, acc: pk.Acc[pk.double], out: pk.View2D[pk.double]):
    acc += abs(out[i][j])


def star_weights(R: int) -> np.ndarray:
    w = np.zeros((2 * R + 1, 2 * R + 1))
    for k in range(1, R + 1):
        w[R, R + k] = w[R + k, R] = 1.0 / (2.0 * k * R)
        w[R, R - k] = w[R - k, R] = -1.0 / (2.0 * k * R)
    return w


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--iterations", type=int, default=10, help="timed iterations (default 10)")
    p.add_argument("-n", "--order", type=int, default=2000, help="grid size n (default 2000)")
    p.add_argument("--radius", type=int, default=2, help="stencil radius (default 2)")
    p.add_argument(
        "--tile",
        type=int,
        nargs=2,
        default=[32, 32],
        metavar=("TI", "TJ"),
        help="MDRange tile (default 32 32)",
    )
    args, space = setup(p)
    n, R = args.order, args.radius
    if n < 2 * R + 1:
        p.error(f"the grid must be larger than the stencil: n >= {2 * R + 1}")
    W = pk.View([2 * R + 1, 2 * R + 1], pk.double)
    pk.deep_copy(W, star_weights(R))
    inp = pk.View([n, n], pk.double)
    out = pk.View([n, n], pk.double)
    full = pk.MDRangePolicy([0, 0], [n, n], tile=args.tile)
    interior = pk.MDRangePolicy([R, R], [n - R, n - R], tile=args.tile)
    pk.parallel_for("init", full, init, inp=inp, out=out)

    timer = pk.Timer()
    for it in range(args.iterations + 1):
        if it == 1:
            pk.fence()
            timer.reset()
        pk.parallel_for("star", interior, star, R=R, W=W, inp=inp, out=out)
        pk.parallel_for("increment", full, increment, inp=inp)
    pk.fence()
    seconds = timer.seconds()

    active = (n - 2 * R) ** 2
    mean = pk.parallel_reduce("norm", interior, norm, out=out) / active
    ref = (args.iterations + 1) * 2.0
    if args.iterations:
        flops = (4 * R + 1) * 2 * active
        avg = seconds / args.iterations
        print(
            f"stencil: n={n} R={R}, {args.iterations} iterations, rate {1e-6 * flops / avg:.1f} MFlops/s, "
            f"avg time {avg * 1e3:.3f} ms"
        )
    verdict(abs(mean - ref) < 1e-8, f"L1 norm {mean!r}, reference {ref!r}")


if __name__ == "__main__":
    main()
