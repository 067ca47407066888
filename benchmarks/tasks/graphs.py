"""Synthetic task graphs as in Parla's benchmarks: independent tasks, a serial chain and a binary reduction
tree, every task running a "kernel" of a given length that releases the GIL (`sleep_nogil`, Parla's own
helper; it sleeps, so the figures measure the runtimes and not the load of the machine). kernelkit.tasks and
Dask's threaded scheduler run the same graph in the same run with the same workers.

Reported per graph and task length: the makespan, the parallel efficiency (the ideal makespan for that many
workers over the measured one) and the overhead per task ((makespan - ideal) / tasks). The ideal uses the
kernel's real length, measured alone first (a sleep overshoots by tens of microseconds).

    python benchmarks/tasks/graphs.py [--tasks 256] [--us 1000,100] [--workers 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import math
import sys

from _common import dask_compute, dump, have_dask, machine, measure

from kernelkit.tasks import Parla, TaskSpace, cpu, sleep_nogil, spawn


def kernel_seconds(us: float, calls: int = 100) -> float:
    """What sleep_nogil(us) really takes here."""
    import time

    t0 = time.perf_counter()
    for _ in range(calls):
        sleep_nogil(us)
    return (time.perf_counter() - t0) / calls


def ideal(graph: str, n: int, t: float, workers: int) -> float:
    if graph == "independent":
        return math.ceil(n / workers) * t
    if graph == "chain":
        return n * t
    levels, width, total = 0, n, 0.0
    while width >= 1:
        total += math.ceil(width / workers) * t
        levels += 1
        if width == 1:
            break
        width = (width + 1) // 2
    return total


def kk(graph: str, n: int, us: float, workers: int) -> None:
    with Parla(n_workers=workers):
        T = TaskSpace("T")
        if graph == "independent":
            for i in range(n):

                @spawn(T[i], placement=cpu)
                def leaf():
                    sleep_nogil(us)

        elif graph == "chain":
            for i in range(n):

                @spawn(T[i], dependencies=[T[i - 1]], placement=cpu)
                def link():
                    sleep_nogil(us)

        else:  # reduction tree: level 0 has n leaves, each node depends on two of the level below
            width, level = n, 0
            while True:
                for i in range(width):
                    deps = [T[level - 1, 2 * i], T[level - 1, 2 * i + 1]] if level else []

                    @spawn(T[level, i], dependencies=deps, placement=cpu)
                    def node():
                        sleep_nogil(us)

                if width == 1:
                    break
                width, level = (width + 1) // 2, level + 1


def _sleep(us, *deps):
    sleep_nogil(us)


def dk(graph: str, n: int, us: float, workers: int) -> None:
    from dask import delayed

    f = delayed(_sleep, pure=False)
    if graph == "independent":
        dask_compute([f(us) for _ in range(n)], workers)
    elif graph == "chain":
        prev = f(us)
        for _ in range(n - 1):
            prev = f(us, prev)
        dask_compute(prev, workers)
    else:
        level = [f(us) for _ in range(n)]
        while len(level) > 1:
            level = [f(us, *level[2 * i : 2 * i + 2]) for i in range((len(level) + 1) // 2)]
        dask_compute(level[0], workers)


def tasks_in(graph: str, n: int) -> int:
    if graph != "tree":
        return n
    total, width = 0, n
    while True:
        total += width
        if width == 1:
            return total
        width = (width + 1) // 2


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=256)
    p.add_argument("--us", default="1000,100", help="kernel lengths in microseconds, comma-separated")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 8 * args.tasks))
    w = args.workers
    report = {"benchmark": "synthetic graphs", "workers": w, "machine": machine(), "results": []}
    print(f"{args.tasks} tasks per graph, {w} workers; makespan ms (efficiency, overhead us/task)")
    for us in (float(x) for x in args.us.split(",")):
        real = kernel_seconds(us)
        for graph in ("independent", "chain", "tree"):
            n_tasks = tasks_in(graph, args.tasks)
            best = ideal(graph, args.tasks, real, w)
            row = {"graph": graph, "kernel_us": us, "kernel_real_us": real * 1e6, "tasks": n_tasks, "ideal_s": best}
            runners = [("kernelkit", kk)] + ([("dask", dk)] if have_dask() else [])
            line = f"  {graph:11s} {us:6.0f} us ({real * 1e6:5.0f}):"
            for who, fn in runners:
                m = measure(lambda fn=fn, graph=graph, us=us: fn(graph, args.tasks, us, w), args.repeats)
                eff = best / m["wall_s"]
                row[who] = {**m, "efficiency": eff, "overhead_us": (m["wall_s"] - best) / n_tasks * 1e6}
                line += f"  {who} {m['wall_s'] * 1e3:8.1f} ({eff:4.2f}, {row[who]['overhead_us']:6.1f})"
            report["results"].append(row)
            print(line)
    dump(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
