"""The pi integral in the SPMD pattern, the PyOMP program of "How to Write Parallel Programs: the Python
edition" with its import changed to kernelkit.openmp.

One `parallel` region: each thread takes its number (omp_get_thread_num), one thread (`single`) reads the team
size, the iterations are dealt out cyclically ("as a deck of cards"), and each thread stores its partial sum
in a shared array. `--critical` adds the partial sums into one shared total inside a `critical` section
instead. Validation as pi_loop.py (pi + h^2/12 within 10 h^4 + 1e-10), and every thread of the team must have
contributed (the tutorial's program is correct only if the region really runs on all of them).

    python examples/openmp/pi_spmd.py [--steps 10000000] [--threads 2] [--critical]
"""

import argparse
import math
import sys

import numpy as np

from kernelkit.openmp import njit, omp_get_num_threads, omp_get_thread_num, omp_get_wtime, omp_set_num_threads
from kernelkit.openmp import openmp_context as openmp

MaxTHREADS = 64


@njit
def piFunc(NumSteps):
    step = 1.0 / NumSteps
    partialSums = np.zeros(MaxTHREADS)
    numThrds = 1
    with openmp("parallel shared(partialSums, numThrds) private(threadID, i, x, localSum)"):
        threadID = omp_get_thread_num()
        with openmp("single"):
            numThrds = omp_get_num_threads()
        localSum = 0.0
        for i in range(threadID, NumSteps, numThrds):
            x = (i + 0.5) * step
            localSum = localSum + 4.0 / (1.0 + x * x)
        partialSums[threadID] = localSum
    return step * np.sum(partialSums), numThrds, partialSums


@njit
def piCritical(NumSteps):
    step = 1.0 / NumSteps
    total = 0.0
    numThrds = 1
    with openmp("parallel shared(total, numThrds) private(threadID, i, x, localSum)"):
        threadID = omp_get_thread_num()
        with openmp("single"):
            numThrds = omp_get_num_threads()
        localSum = 0.0
        for i in range(threadID, NumSteps, numThrds):
            x = (i + 0.5) * step
            localSum = localSum + 4.0 / (1.0 + x * x)
        with openmp("critical"):
            total += localSum
    return step * total, numThrds


def main():
    p = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=10_000_000, help="rectangles (default 10^7; the tutorial: 10^8)")
    p.add_argument("--threads", type=int, default=None, help="OpenMP threads (default: OMP_NUM_THREADS or all)")
    p.add_argument("--critical", action="store_true", help="combine the partial sums in a critical section")
    args = p.parse_args()
    if args.threads:
        omp_set_num_threads(args.threads)
    n = args.steps
    if args.critical:
        piCritical(1000)  # compile
        t0 = omp_get_wtime()
        pi, nthreads = piCritical(n)
        elapsed = omp_get_wtime() - t0
        contributed = True  # every thread's share is in the total, or pi is off by a whole share
    else:
        piFunc(1000)  # compile
        t0 = omp_get_wtime()
        pi, nthreads, partial = piFunc(n)
        elapsed = omp_get_wtime() - t0
        contributed = bool(np.all(partial[: min(nthreads, n)] > 0.0)) and not np.any(partial[nthreads:])
    h = 1.0 / n
    expected, tol = math.pi + h * h / 12.0, 10.0 * h**4 + 1e-10
    err = abs(pi - expected)
    how = "critical" if args.critical else "partial sums"
    print(f"pi_spmd ({how}): {nthreads} threads, {n} steps: pi = {pi!r} in {elapsed * 1e3:.2f} ms")
    if err <= tol and contributed and 1 <= nthreads <= MaxTHREADS:
        print(f"PASS |pi - (math.pi + h^2/12)| = {err:.2e} <= {tol:.1e}, {nthreads} threads contributed")
    else:
        print(
            f"FAIL: |pi - (math.pi + h^2/12)| = {err:.2e} (tol {tol:.1e}), {nthreads} threads, all contributed: "
            f"{contributed}"
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
