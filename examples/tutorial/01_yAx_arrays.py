"""Kokkos tutorial exercise 01: y^T A x with plain arrays (FunctionSty).

The C++ exercise allocates y, x and A with malloc and runs lambdas over them; here they are NumPy arrays,
passed to the kernels directly (zero copy on the host; copied to and from the GPU around each launch on
Cuda). The kernels initialize the arrays, then a parallel_reduce computes y^T A x, checked against NumPy."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _common import setup  # noqa: E402
from _yax import a_value, parser, reference, report, x_value, y_value  # noqa: E402

import kernelkit as pk  # noqa: E402


@pk.workunit
def init_y(j, y):
    y[j] = y_value(j)


@pk.workunit
def init_x(i, x):
    x[i] = x_value(i)


@pk.workunit
def init_a(j, M, A):
    for i in range(M):
        A[j * M + i] = a_value(j, i)  # a flat array, row-major by hand, as in the C++ exercise


@pk.workunit
def yAx(j, acc, M, y, x, A):
    temp2 = 0.0
    for i in range(M):
        temp2 += A[j * M + i] * x[i]
    acc += y[j] * temp2


def main() -> None:
    args, space = setup(parser(__doc__))
    N, M = args.rows, args.cols
    y = np.empty(N)
    x = np.empty(M)
    A = np.empty(N * M)
    pk.parallel_for("init_y", N, init_y, y=y)
    pk.parallel_for("init_x", M, init_x, x=x)
    pk.parallel_for("init_A", N, init_a, M=M, A=A)

    result = pk.parallel_reduce("yAx", N, yAx, M=M, y=y, x=x, A=A)  # compile and warm up
    timer = pk.Timer()
    for _ in range(args.repeat):
        result = pk.parallel_reduce("yAx", N, yAx, M=M, y=y, x=x, A=A)
    pk.fence()
    report("01 arrays", result, reference(N, M), N, M, timer.seconds(), args.repeat, 8.0 * (N * M + N + M))


if __name__ == "__main__":
    main()
