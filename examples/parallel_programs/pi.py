"""The pi integral of "How to Write Parallel Programs: the Python edition" (FunctionSty).

pi = integral of 4 / (1 + x^2) over [0, 1], approximated with the midpoint rule over `--steps` rectangles:
the tutorial's loop-parallelism example (`with openmp("parallel for reduction(+:sum)")` in PyOMP) is a
parallel_reduce. Validation is analytic: by Euler-Maclaurin, the midpoint sum with step h is
pi + h^2 / 12 + O(h^4) (the h^2 term is -h^2/24 (f'(1) - f'(0)), and f'(1) = -2), so the result must match it
within 10 h^4 plus 1e-10 for the rounding of the sum (about 1e-13 is seen for 10^8 steps). A dropped or
doubled term would move the result by at least 2h, far outside."""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Stopwatch, parser, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402


@pk.workunit
def pi_term(i, acc, step):
    x = (i + 0.5) * step
    acc += 4.0 / (1.0 + x * x)


def pi_func(num_steps: int) -> float:
    step = 1.0 / num_steps
    return step * pk.parallel_reduce("pi", num_steps, pi_term, step=step)


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--steps", type=int, default=100_000_000, help="rectangles (default 10^8, as the tutorial)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs (default 3)")
    args, space = setup(p)
    n = args.steps
    pi = pi_func(n)  # compile and warm up
    sw = Stopwatch()
    for _ in range(args.repeat):
        with sw:
            pi = pi_func(n)
    h = 1.0 / n
    expected = math.pi + h * h / 12.0
    tol = 10.0 * h**4 + 1e-10
    err = abs(pi - expected)
    print(f"pi with {n} steps = {pi!r} in {sw.mean * 1e3:.3f} ms (math.pi + h^2/12 = {expected!r})")
    verdict(err <= tol, f"|pi - (math.pi + h^2/12)| = {err:.2e} <= {tol:.2e}")


if __name__ == "__main__":
    main()
