"""Wall-clock timing: warm-up excluded, median of repeats, `time.perf_counter` only (never process_time).

A "run" callable does one complete, synchronized execution (a GPU version synchronizes inside it), so the time
between the two `perf_counter` calls is what a user waits for.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

K = TypeVar("K")


@dataclass
class Timing:
    """Samples in seconds; `median` is the figure reported, the rest is kept for the JSON."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)

    @property
    def stdev(self) -> float:
        return statistics.stdev(self.samples) if len(self.samples) > 1 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "median_s": self.median,
            "min_s": self.min,
            "max_s": self.max,
            "mean_s": self.mean,
            "stdev_s": self.stdev,
            "repeats": len(self.samples),
            "samples_s": list(self.samples),
        }


def time_once(run: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call of `run` took, and what it returned."""
    t0 = time.perf_counter()
    out = run()
    return time.perf_counter() - t0, out


def measure(
    run: Callable[[], Any],
    *,
    repeats: int,
    warmup: int = 1,
    budget_s: float | None = None,
    min_repeats: int = 3,
) -> Timing:
    """Time `repeats` calls after `warmup` untimed ones; stop early (after `min_repeats`) past `budget_s`."""
    for _ in range(warmup):
        run()
    timing = Timing()
    start = time.perf_counter()
    for k in range(repeats):
        timing.samples.append(time_once(run)[0])
        if budget_s is not None and k + 1 >= min_repeats and time.perf_counter() - start > budget_s:
            break
    return timing


def measure_interleaved(
    runs: Mapping[K, Callable[[], Any]],
    *,
    repeats: int,
    warmup: int = 1,
    budget_s: float | None = None,
    min_repeats: int = 3,
    isolated: Collection[K] = (),
    settle_s: float = 0.0,
) -> dict[K, Timing]:
    """Time several versions round-robin, one call of each per round, the round's first version rotating.

    Interleaving spreads slow drifts of the machine (frequency, a neighbour's memory traffic) over every
    version alike, which is what makes a ratio taken in the same run trustworthy; rotating the order spreads
    what the previous call left behind (caches, a GPU's memory state) alike too. (With a fixed order the
    hand-written and kernelkit GPU dot products, same code, traded a steady ~5 % from one lease to the next:
    docs/performance.md, issue 16.) A version whose own total
    passes `budget_s` drops out after `min_repeats` samples, so one slow baseline cannot stall the rest.

    Versions named in `isolated` leave helper threads busy after they return (OpenBLAS's threads spin ~0.2 s
    after each call, and take a core from whatever runs next): they are timed apart, after the others, each
    series preceded and followed by `settle_s` of sleep. The interleaved series starts after `settle_s` too.
    """
    shared = [name for name in runs if name not in isolated]
    timings = {name: Timing() for name in runs}
    if shared:
        time.sleep(settle_s)
        for name in shared:
            for _ in range(warmup):
                runs[name]()
        active = list(shared)
        for r in range(repeats):
            if not active:
                break
            k = r % len(active)
            for name in active[k:] + active[:k]:
                timings[name].samples.append(time_once(runs[name])[0])
                spent = sum(timings[name].samples)
                if budget_s is not None and len(timings[name].samples) >= min_repeats and spent > budget_s:
                    active.remove(name)
    for name in runs:
        if name in isolated:
            time.sleep(settle_s)
            timings[name] = measure(
                runs[name], repeats=repeats, warmup=warmup, budget_s=budget_s, min_repeats=min_repeats
            )
            time.sleep(settle_s)
    return timings


def per_call(call: Callable[[], Any], *, calls: int, batches: int, warmup_calls: int = 1000) -> Timing:
    """Per-call time of a cheap call: each sample is one batch's total divided by `calls`."""
    for _ in range(warmup_calls):
        call()
    timing = Timing()
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(calls):
            call()
        timing.samples.append((time.perf_counter() - t0) / calls)
    return timing
