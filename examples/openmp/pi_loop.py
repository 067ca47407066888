"""The pi integral by loop parallelism, the PyOMP program of "How to Write Parallel Programs: the Python
edition" with its import changed to kernelkit.openmp.

pi = integral of 4 / (1 + x^2) over [0, 1] by the midpoint rule: one `parallel for` with a `+` reduction.
Validation: the midpoint sum with step h is pi + h^2/12 + O(h^4) (Euler-Maclaurin), so the result must match
it within 10 h^4 plus 1e-10 for rounding; a dropped or doubled term moves it by 2h or more.

    python examples/openmp/pi_loop.py [--steps 10000000] [--threads 2]
"""

import argparse
import math
import sys

from kernelkit.openmp import njit, omp_get_max_threads, omp_get_wtime, omp_set_num_threads
from kernelkit.openmp import openmp_context as openmp


@njit
def piFunc(NumSteps):
    step = 1.0 / NumSteps
    sum = 0.0

    with openmp("parallel for private(x) reduction(+:sum)"):
        for i in range(NumSteps):
            x = (i + 0.5) * step
            sum += 4.0 / (1.0 + x * x)

    pi = step * sum
    return pi


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
    print(f"pi_loop: {omp_get_max_threads()} threads, {args.steps} steps: pi = {pi!r} in {elapsed * 1e3:.2f} ms")
    if err <= tol:
        print(f"PASS |pi - (math.pi + h^2/12)| = {err:.2e} <= {tol:.1e}")
    else:
        print(f"FAIL: |pi - (math.pi + h^2/12)| = {err:.2e} > {tol:.1e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
