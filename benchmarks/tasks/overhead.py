"""Per-task overhead: spawn to completion of 10^4 empty CPU tasks, kernelkit.tasks against Dask's threaded
scheduler on the same graph, in the same run, with the same number of workers.

Graphs: independent tasks, and a serial chain. Reported per task: the best wall time of the repeats (the
figure of the performance contract: <= 20 us, >= 5x below Dask), the median, and the process CPU time (which
a loaded machine does not inflate).

    python benchmarks/tasks/overhead.py [--tasks 10000] [--repeats 5] [--workers 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import sys

from _common import dask_compute, dump, have_dask, machine, measure

from kernelkit.tasks import Parla, TaskSpace, cpu, spawn


def kk_independent(n: int, workers: int) -> None:
    with Parla(n_workers=workers):
        T = TaskSpace("T")
        for i in range(n):

            @spawn(T[i], placement=cpu)
            def empty():
                pass


def kk_chain(n: int, workers: int) -> None:
    with Parla(n_workers=workers):
        T = TaskSpace("T")
        for i in range(n):

            @spawn(T[i], dependencies=[T[i - 1]], placement=cpu)
            def empty():
                pass


def _empty(*deps):
    return None


def dask_independent(n: int, workers: int) -> None:
    from dask import delayed

    dask_compute([delayed(_empty)() for _ in range(n)], workers)


def dask_chain(n: int, workers: int) -> None:
    from dask import delayed

    prev = delayed(_empty)()
    for _ in range(n - 1):
        prev = delayed(_empty)(prev)
    dask_compute(prev, workers)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * args.tasks))  # Dask walks long chains recursively
    n, w = args.tasks, args.workers
    report = {"benchmark": "task overhead", "tasks": n, "workers": w, "machine": machine(), "results": {}}
    print(f"{n} empty CPU tasks, {w} workers, best of {args.repeats} (us per task: best wall / median / CPU)")
    for graph, kk, dk in (("independent", kk_independent, dask_independent), ("chain", kk_chain, dask_chain)):
        row = {"kernelkit": measure(lambda kk=kk: kk(n, w), args.repeats)}
        if have_dask():
            row["dask"] = measure(lambda dk=dk: dk(n, w), args.repeats)
        report["results"][graph] = row
        for who, m in row.items():
            print(
                f"  {graph:12s} {who:10s} {m['wall_s'] / n * 1e6:8.1f} {m['median_s'] / n * 1e6:8.1f} "
                f"{m['cpu_s'] / n * 1e6:8.1f}"
            )
        if "dask" in row:
            ratio = row["dask"]["wall_s"] / row["kernelkit"]["wall_s"]
            row["dask_over_kernelkit"] = ratio
            print(f"  {graph:12s} Dask / kernelkit: {ratio:.1f}x")
    dump(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
