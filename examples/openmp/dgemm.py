"""DGEMM with a parallel loop over rows, the PyOMP program of "How to Write Parallel Programs: the Python
edition" (after the PRK dgemm) with its import changed to kernelkit.openmp.

A and B have column i equal to i; C = A B is then known in closed form, C[i][j] = j order (order-1) / 2, exact
in float64. The product is accumulated `iterations + 1` times (the first untimed, PRK's rule), so the checksum
is (iterations + 1) order^3 (order-1)^2 / 4; every element is checked too.

    python examples/openmp/dgemm.py [--order 256] [--iterations 3] [--threads 2]
"""

import argparse
import sys

import numpy as np

from kernelkit.openmp import njit, omp_get_max_threads, omp_get_wtime, omp_set_num_threads
from kernelkit.openmp import openmp_context as openmp


@njit(fastmath=True)
def dgemm(iterations, order):
    # allocate and initialize arrays
    A = np.zeros((order, order))
    B = np.zeros((order, order))
    C = np.zeros((order, order))

    # Assign values to A and B such that the product matrix has a known value.
    for i in range(order):
        for r in range(order):
            A[r, i] = float(i)
            B[r, i] = float(i)

    tInit = omp_get_wtime()
    for it in range(iterations + 1):
        if it == 1:
            tInit = omp_get_wtime()
        with openmp("parallel for private(j, k)"):
            for i in range(order):
                for k in range(order):
                    for j in range(order):
                        C[i, j] += A[i, k] * B[k, j]
    dgemmTime = omp_get_wtime() - tInit
    return C, dgemmTime


def main():
    p = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--order", type=int, default=256, help="matrix order (default 256; the tutorial: 1000)")
    p.add_argument("--iterations", type=int, default=3, help="timed products (default 3)")
    p.add_argument("--threads", type=int, default=None, help="OpenMP threads (default: OMP_NUM_THREADS or all)")
    args = p.parse_args()
    if args.threads:
        omp_set_num_threads(args.threads)
    order, iterations = args.order, args.iterations
    C, dgemmTime = dgemm(iterations, order)

    # Check result
    checksum = 0.0
    for i in range(order):
        for j in range(order):
            checksum += C[i][j]
    ref_checksum = order * order * order
    ref_checksum *= 0.25 * (order - 1.0) * (order - 1.0)
    ref_checksum *= iterations + 1
    want = (iterations + 1) * np.arange(order) * (order * (order - 1) / 2.0)
    wrong = int(np.count_nonzero(C != want[None, :]))
    eps = 1.0e-8
    nflops = 2.0 * order * order * order
    rate = 1.0e-6 * nflops * iterations / dgemmTime if iterations and dgemmTime > 0 else float("nan")
    print(f"dgemm: {omp_get_max_threads()} threads, order {order}, {iterations} iterations: Rate (MF/s): {rate:.1f}")
    if abs((checksum - ref_checksum) / ref_checksum) < eps and wrong == 0:
        print(f"PASS Solution validates: checksum {checksum:.10e}, every element exact")
    else:
        print(f"FAIL: checksum {checksum:.10e} (reference {ref_checksum:.10e}), {wrong} wrong elements")
        sys.exit(1)


if __name__ == "__main__":
    main()
