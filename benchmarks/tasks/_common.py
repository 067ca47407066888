"""What the task benchmarks share: repeated timing (the minimum of wall times, with the CPU time of the
process beside it), Dask's threaded scheduler with the same workers, the machine's load, and a JSON dump."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from typing import Any


def measure(fn: Callable[[], Any], repeats: int) -> dict[str, float]:
    """Run `fn` `repeats` times; the best and median wall seconds and the CPU seconds of the best run."""
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    best = min(range(repeats), key=walls.__getitem__)
    return {"wall_s": walls[best], "median_s": sorted(walls)[repeats // 2], "cpu_s": cpus[best]}


def interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, dict[str, float]]:
    """`measure` for several contenders, alternating them in each round so that a change of the machine's
    load during the run hits them alike."""
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            samples[name].append((time.perf_counter() - w0, time.process_time() - c0))
    out = {}
    for name, s in samples.items():
        walls = sorted(w for w, _ in s)
        best = min(s)
        out[name] = {"wall_s": best[0], "median_s": walls[len(walls) // 2], "cpu_s": best[1]}
    return out


def dask_compute(graph: Any, workers: int) -> Any:
    import dask

    return dask.compute(graph, scheduler="threads", num_workers=workers)[0]


def have_dask() -> bool:
    try:
        import dask  # noqa: F401
    except ImportError:
        return False
    return True


def machine() -> dict[str, Any]:
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average": load}


def dump(path: str | None, report: dict[str, Any]) -> None:
    if path:
        with open(path, "w") as f:
            json.dump(report, f, indent=2)
        print(f"wrote {path}")
