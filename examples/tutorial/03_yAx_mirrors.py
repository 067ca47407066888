"""Kokkos tutorial exercise 03: device Views and host mirrors (FunctionSty).

The Views live in the default memory space of the chosen execution space (GPU memory on Cuda). As in the
C++ exercise, they are initialized on the host through mirrors (`pk.create_mirror_view`), copied with
`pk.deep_copy`, and y^T A x runs on the device. On host spaces the mirror is the View itself and the copies
do nothing. Checked exactly against NumPy."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _common import setup  # noqa: E402
from _yax import parser, reference, report  # noqa: E402

import kernelkit as pk  # noqa: E402


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


def main() -> None:
    args, space = setup(parser(__doc__))
    N, M = args.rows, args.cols
    y = pk.View([N], pk.double)
    x = pk.View([M], pk.double)
    A = pk.View([N, M], pk.double)
    h_y = pk.create_mirror_view(y)
    h_x = pk.create_mirror_view(x)
    h_A = pk.create_mirror_view(A)

    # host initialization, vectorized with NumPy through the mirrors' memory
    j = np.arange(N)[:, None]
    i = np.arange(M)[None, :]
    h_y.data[:] = np.arange(N) % 3 + 1
    h_x.data[:] = np.arange(M) % 5 + 1
    h_A.data[:, :] = (j + 2 * i) % 7 - 2

    pk.deep_copy(y, h_y)
    pk.deep_copy(x, h_x)
    pk.deep_copy(A, h_A)

    result = pk.parallel_reduce(pk.RangePolicy(space, 0, N), yAx, M=M, y=y, x=x, A=A)
    timer = pk.Timer()
    for _ in range(args.repeat):
        result = pk.parallel_reduce(pk.RangePolicy(space, 0, N), yAx, M=M, y=y, x=x, A=A)
    pk.fence()
    report("03 mirrors", result, reference(N, M), N, M, timer.seconds(), args.repeat, 8.0 * (N * M + N + M))


if __name__ == "__main__":
    main()
