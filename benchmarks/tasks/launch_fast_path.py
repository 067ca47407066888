"""The cost that api/spaces.space_scope adds to the launch fast path (kernelkit.tasks runs every task body in
the scope of its device): a tiny kernel launched with an int policy and no space, (a) with no scope anywhere
(the fast path reads the cached default exactly as before), (b) inside a scope on the launching thread, and
(c) while another thread is inside a scope. The budget is ~50 ns over (a).

    python benchmarks/tasks/launch_fast_path.py [--launches 200000]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import numpy as np

import kernelkit as pk
from kernelkit.api import spaces


@pk.workunit
def _tiny(i, x):
    x[i] += 1.0


def per_launch(n: int, x: np.ndarray, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            pk.parallel_for(1, _tiny, x=x)
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e9


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--launches", type=int, default=200_000)
    args = p.parse_args(argv)
    pk.set_num_threads(1)
    space = pk.get_default_space()
    x = np.zeros(1)
    pk.parallel_for(1, _tiny, x=x)  # compile
    base = per_launch(args.launches, x)
    with spaces.space_scope(space):
        scoped = per_launch(args.launches, x)
    inside, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with spaces.space_scope(space):
            inside.set()
            leave.wait(600)

    t = threading.Thread(target=hold)
    t.start()
    inside.wait(60)
    other = per_launch(args.launches, x)
    leave.set()
    t.join()
    print(
        f"launch of a tiny kernel on {space.name}: no scope {base:.0f} ns; in a scope {scoped:.0f} ns "
        f"(+{scoped - base:.0f}); while another thread is in one {other:.0f} ns (+{other - base:.0f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
