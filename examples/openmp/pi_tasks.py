"""The pi integral by divide and conquer with explicit tasks, the PyOMP program of "How to Write Parallel
Programs: the Python edition" with its import changed to kernelkit.openmp.

piComp splits [Nstart, Nfinish) in halves, each half a `task` (its result `shared` with the parent), until a
block is shorter than MIN_BLK; `taskwait` waits for both halves. One thread of a `parallel` team (`single`)
starts the recursion; the team runs the tasks. (The tutorial halves with `/`; `range` needs integers: `//`.)
Validation as pi_loop.py (pi + h^2/12 within 10 h^4 + 1e-10).

    python examples/openmp/pi_tasks.py [--steps 10000000] [--threads 2]
"""

import argparse
import math
import sys

from kernelkit.openmp import njit, omp_get_max_threads, omp_get_wtime, omp_set_num_threads
from kernelkit.openmp import openmp_context as openmp

MIN_BLK = 1024 * 256


@njit
def piComp(Nstart, Nfinish, step):
    iblk = Nfinish - Nstart
    if iblk < MIN_BLK:
        sum = 0.0
        for i in range(Nstart, Nfinish):
            x = (i + 0.5) * step
            sum += 4.0 / (1.0 + x * x)
    else:
        sum1 = 0.0
        sum2 = 0.0
        with openmp("task shared(sum1)"):
            sum1 = piComp(Nstart, Nfinish - iblk // 2, step)
        with openmp("task shared(sum2)"):
            sum2 = piComp(Nfinish - iblk // 2, Nfinish, step)
        with openmp("taskwait"):
            sum = sum1 + sum2
    return sum


@njit
def piFunc(NumSteps):
    step = 1.0 / NumSteps
    sum = 0.0
    with openmp("parallel"):
        with openmp("single"):
            sum = piComp(0, NumSteps, step)
    return step * sum


def main():
    p = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=10_000_000, help="rectangles (default 10^7; the tutorial: 10^8)")
    p.add_argument("--threads", type=int, default=None, help="OpenMP threads (default: OMP_NUM_THREADS or all)")
    args = p.parse_args()
    if args.threads:
        omp_set_num_threads(args.threads)
    piFunc(1000)  # compile
    t0 = omp_get_wtime()
    pi = piFunc(args.steps)
    elapsed = omp_get_wtime() - t0
    h = 1.0 / args.steps
    expected, tol = math.pi + h * h / 12.0, 10.0 * h**4 + 1e-10
    err = abs(pi - expected)
    leaves = 1
    while args.steps / leaves >= MIN_BLK:
        leaves *= 2
    print(
        f"pi_tasks: {omp_get_max_threads()} threads, {args.steps} steps (~{leaves} leaf tasks): pi = {pi!r} in "
        f"{elapsed * 1e3:.2f} ms"
    )
    if err <= tol:
        print(f"PASS |pi - (math.pi + h^2/12)| = {err:.2e} <= {tol:.1e}")
    else:
        print(f"FAIL: |pi - (math.pi + h^2/12)| = {err:.2e} > {tol:.1e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
