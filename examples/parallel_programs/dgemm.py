"""DGEMM of "How to Write Parallel Programs: the Python edition" (FunctionSty).

C += A B for order x order matrices, `--iterations` times. As in the tutorial, A[:, i] = B[:, i] = i, so the
checksum (the sum of C) has the closed form iterations * order^3 (order - 1)^2 / 4, checked within a relative
1e-8. `--variant ikj` is the tutorial's loop nest with rows in parallel (i, then k, then j: unit-stride
inner loop); `--variant mdrange` computes each C[i][j] as a dot product over a tiled rank-2 MDRangePolicy.
Reports MFlop/s like the tutorial."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Stopwatch, parser, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402


@pk.workunit
def init(i: int, j: int, A: pk.View2D[pk.double], B: pk.View2D[pk.double], C: pk.View2D[pk.double]):
    A[i][j] = j
    B[i][j] = j
    C[i][j] = 0.0


@pk.workunit
def dgemm_ikj(i: int, order: int, A: pk.View2D[pk.double], B: pk.View2D[pk.double], C: pk.View2D[pk.double]):
    for k in range(order):
        a = A[i][k]
        for j in range(order):
            C[i][j] += a * B[k][j]


@pk.workunit
def dgemm_dot(i: int, j: int, order: int, A: pk.View2D[pk.double], B: pk.View2D[pk.double], C: pk.View2D[pk.double]):
    s = 0.0
    for k in range(order):
        s += A[i][k] * B[k][j]
    C[i][j] += s


@pk.workunit
def checksum(i: int, j: int, acc: pk.Acc[pk.double], C: pk.View2D[pk.double]):
    acc += C[i][j]


def main() -> None:
    p = parser(__doc__)
    p.add_argument("-n", "--order", type=int, default=512, help="matrix order (default 512)")
    p.add_argument("--iterations", type=int, default=3, help="multiplications (default 3)")
    p.add_argument("--variant", choices=["ikj", "mdrange"], default="ikj", help="loop structure (default ikj)")
    args, space = setup(p)
    n = args.order
    A = pk.View([n, n], pk.double)
    B = pk.View([n, n], pk.double)
    C = pk.View([n, n], pk.double)
    square = pk.MDRangePolicy([0, 0], [n, n], tile=[32, 32])
    pk.parallel_for("init", square, init, A=A, B=B, C=C)

    def multiply() -> None:
        if args.variant == "ikj":
            pk.parallel_for("dgemm", n, dgemm_ikj, order=n, A=A, B=B, C=C)
        else:
            pk.parallel_for("dgemm", square, dgemm_dot, order=n, A=A, B=B, C=C)

    sw = Stopwatch()
    for it in range(args.iterations):
        if it == 0:
            multiply()  # the first multiplication compiles: untimed
        else:
            with sw:
                multiply()
    total = pk.parallel_reduce("checksum", square, checksum, C=C)
    ref = args.iterations * n**3 * 0.25 * (n - 1.0) ** 2
    err = abs(total - ref) / ref if ref else abs(total)
    if sw.count:
        print(
            f"dgemm ({args.variant}): order {n}, rate {1e-6 * 2.0 * n**3 / sw.mean:.1f} MFlop/s, "
            f"avg time {sw.mean * 1e3:.2f} ms"
        )
    verdict(err < 1e-8, f"checksum {total!r}, reference {ref!r}")


if __name__ == "__main__":
    main()
