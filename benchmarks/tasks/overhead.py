"""Per-task overhead: spawn to completion of 10^4 empty CPU tasks, kernelkit.tasks against Dask's threaded
scheduler on the same graph, in the same run, with the same number of workers.

Graphs: independent tasks, and a serial chain (the figures of the performance contract: <= 20 us, >= 5x below
Dask); then the data bookkeeping: a chain whose tasks each declare `inout=[A]` of a small PArray on the CPU
(nothing moves: the cost of the coherence check), and a chain that alternates between two logical GPUs backed
by the host (each task copies A, 1 KiB, from the other one). Dask runs the same chain for both (its tasks hand
the array along). Reported per task: the best wall time of the repeats, the median, and the process CPU time
(which a loaded machine does not inflate).

    python benchmarks/tasks/overhead.py [--tasks 10000] [--repeats 5] [--workers 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from _common import dask_compute, dump, have_dask, machine, measure

from kernelkit.tasks import Parla, TaskSpace, cpu, gpu, parray, spawn, stats


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


def kk_chain_parray(n: int, workers: int) -> None:
    A = parray.asarray(np.zeros(128))
    with Parla(n_workers=workers):
        T = TaskSpace("T")
        for i in range(n):

            @spawn(T[i], dependencies=[T[i - 1]], placement=cpu, inout=[A])
            def empty():
                pass


def kk_pingpong(n: int, workers: int) -> None:
    A = parray.asarray(np.zeros(128))
    with Parla(n_workers=workers, virtual_gpus=2):
        T = TaskSpace("T")
        for i in range(n):

            @spawn(T[i], dependencies=[T[i - 1]], placement=gpu(i % 2), inout=[A])
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
    graphs = (
        ("independent", kk_independent, dask_independent),
        ("chain", kk_chain, dask_chain),
        ("chain+parray", kk_chain_parray, dask_chain),
        ("gpu pingpong", kk_pingpong, dask_chain),
    )
    for graph, kk, dk in graphs:
        before = stats()["copies"]
        row: dict = {"kernelkit": measure(lambda kk=kk: kk(n, w), args.repeats)}
        copies = (stats()["copies"] - before) / args.repeats
        if have_dask():
            row["dask"] = measure(lambda dk=dk: dk(n, w), args.repeats)
        for who, m in row.items():
            print(
                f"  {graph:12s} {who:10s} {m['wall_s'] / n * 1e6:8.1f} {m['median_s'] / n * 1e6:8.1f} "
                f"{m['cpu_s'] / n * 1e6:8.1f}"
            )
        if copies:
            print(f"  {graph:12s} copies per run: {copies:.0f}")
        ratio = row["dask"]["wall_s"] / row["kernelkit"]["wall_s"] if "dask" in row else 0.0
        if "dask" in row:
            print(f"  {graph:12s} Dask / kernelkit: {ratio:.1f}x")
        report["results"][graph] = {
            **row,
            "dask_over_kernelkit": ratio if "dask" in row else None,
            "copies_per_run": copies,
        }
    dump(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
