"""The kernel timer: count, total and mean time per launch label, like kokkos-tools' simple kernel timer.

Off by default (one attribute check per launch). `pk.profile()` (or KERNELKIT_PROFILE=1) turns it on; each
launch is then timed from its call to its completion (a GPU launch is fenced, so the time is the kernel's, not
its enqueue's), under its label (the workunit's name when the launch has none). Other tools (the task trace)
subscribe with `add_listener(fn)`: `fn(label, space_name, start_ns, end_ns)` after each timed launch.

    with pk.profile() as prof:
        run()
    print(prof.report())
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

active: KernelTimer | None = None  # read by the launcher on every launch


class KernelTimer:
    def __init__(self, fence: bool = True):
        self.fence = fence
        self.stats: dict[str, list[float]] = {}  # label -> [count, total seconds, min, max]
        self.listeners: list[Callable[[str, str, int, int], None]] = []

    def timed(self, backend: Any, rec: Any, run: Callable[..., Any], *args: Any) -> Any:
        wu = args[1]
        label = rec.label or getattr(getattr(wu, "py_function", None), "__name__", "kernel")
        t0 = time.perf_counter_ns()
        r = run(*args)
        if self.fence:
            backend.fence()
        t1 = time.perf_counter_ns()
        s = self.stats.get(label)
        dt = (t1 - t0) * 1e-9
        if s is None:
            self.stats[label] = [1, dt, dt, dt]
        else:
            s[0] += 1
            s[1] += dt
            s[2] = min(s[2], dt)
            s[3] = max(s[3], dt)
        for fn in self.listeners:
            fn(label, backend.name, t0, t1)
        return r

    def summary(self) -> dict[str, dict[str, float]]:
        """label -> {count, total, mean, min, max} (seconds)."""
        return {
            k: {"count": int(c), "total": t, "mean": t / c, "min": lo, "max": hi}
            for k, (c, t, lo, hi) in sorted(self.stats.items(), key=lambda kv: -kv[1][1])
        }

    def report(self) -> str:
        rows = [f"{'label':<40} {'count':>8} {'total s':>10} {'mean us':>10}"]
        for k, s in self.summary().items():
            rows.append(f"{k[:40]:<40} {s['count']:>8} {s['total']:>10.4f} {s['mean'] * 1e6:>10.2f}")
        return "\n".join(rows)


def enable(fence: bool = True) -> KernelTimer:
    """Start timing every launch; returns the timer (a running one is kept)."""
    global active
    if active is None:
        active = KernelTimer(fence)
    return active


def disable() -> KernelTimer | None:
    global active
    t, active = active, None
    return t


@contextmanager
def profile(fence: bool = True) -> Iterator[KernelTimer]:
    """Time the launches inside a `with` block: `with pk.profile() as prof: ...; print(prof.report())`."""
    outer = active
    timer = enable(fence) if outer is None else outer
    try:
        yield timer
    finally:
        if outer is None:
            disable()


def add_listener(fn: Callable[[str, str, int, int], None]) -> KernelTimer:
    """Call `fn(label, space, start_ns, end_ns)` after every launch (turns the timer on)."""
    t = enable()
    t.listeners.append(fn)
    return t


def remove_listener(fn: Callable[[str, str, int, int], None]) -> None:
    if active is not None and fn in active.listeners:
        active.listeners.remove(fn)
