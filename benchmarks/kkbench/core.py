"""The benchmark model: a Benchmark has Versions (one per framework and space), each validated, then timed.

Adding a benchmark, a framework or a space is adding records, not changing the harness:

- a `Benchmark` says how to make its data for a size (`make_data(ctx, n)`), what NumPy computes
  (`expected`), how a result is checked (`validate`), how much work one run does (`work`, in `unit`: bytes
  for GB/s, steps, flops);
- a `Version` says which framework and space it is, and `build(ctx, data)` returns a `run()` that does one
  complete, synchronized execution and returns the result to validate. `build` raises `Skip` when the
  framework is not installed or the space is not usable here; the report says so and the run goes on;
- the version marked `reference=True` in a space is what every ratio in that space is taken to (the
  hand-written C/OpenMP loop on CPU spaces; the hand-written CUDA kernel on the GPU).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .timing import Timing

if TYPE_CHECKING:
    from .context import Context

# Units a benchmark can report; the work it does per run is counted in the first, rates in the second.
UNITS: dict[str, tuple[str, float]] = {
    "GB/s": ("bytes", 1e9),
    "Gsteps/s": ("steps", 1e9),
    "GFLOP/s": ("flops", 1e9),
    "GUP/s": ("updates", 1e9),
}


class Skip(Exception):
    """This version cannot run here (framework not installed, space unavailable); the message says why."""


@dataclass(frozen=True)
class Version:
    framework: str
    space: str
    build: Callable[[Context, Any], Callable[[], Any]]
    reference: bool = False
    note: str = ""
    isolated: bool = False  # leaves threads spinning after it returns: timed apart (timing.measure_interleaved)


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    unit: str
    size: Callable[[bool], int]
    make_data: Callable[[Context, int], Any]
    expected: Callable[[Any], Any]
    validate: Callable[[Any, Any], tuple[float, str | None]]
    work: Callable[[int], float]
    versions: tuple[Version, ...]
    reset: Callable[[Any], None] | None = None
    tags: tuple[str, ...] = ()
    # bytes one run must move at least, for the fraction of achievable bandwidth; None: `work` when the unit
    # is GB/s, else not a bandwidth-bound benchmark
    traffic: Callable[[int], float] | None = None

    def bytes_moved(self, n: int) -> float | None:
        if self.traffic is not None:
            return self.traffic(n)
        return self.work(n) if self.unit == "GB/s" else None

    def spaces(self) -> list[str]:
        seen: list[str] = []
        for v in self.versions:
            if v.space not in seen:
                seen.append(v.space)
        return seen


@dataclass
class Result:
    benchmark: str
    framework: str
    space: str
    unit: str
    n: int
    status: str  # "ok", "skipped", "invalid" (validation failed), "error" (raised)
    threads: int | None = None
    note: str = ""
    timing: Timing | None = None
    rate: float | None = None
    reference: str | None = None
    ratio: float | None = None
    ratio_best: float | None = None  # the same from the fastest repeats (less sensitive to a busy machine)
    max_error: float | None = None
    bandwidth: float | None = None  # GB/s from the bytes the benchmark must move (None: not bandwidth-bound)
    fraction: float | None = None  # bandwidth / the best copy rate of this space in this run

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "benchmark": self.benchmark,
            "framework": self.framework,
            "space": self.space,
            "threads": self.threads,
            "n": self.n,
            "status": self.status,
            "note": self.note,
            "unit": self.unit,
            "rate": self.rate,
            "reference": self.reference,
            "ratio_to_reference": self.ratio,
            "ratio_best_to_reference": self.ratio_best,
            "max_error": self.max_error,
            "bandwidth_GBs": self.bandwidth,
            "fraction_of_achievable": self.fraction,
        }
        if self.timing is not None and self.timing.samples:
            out["time"] = self.timing.as_dict()
        return out


@dataclass
class Latency:
    metric: str  # "cold_compile", "warm_start", "launch", "import"
    framework: str
    space: str | None
    status: str  # "ok", "skipped", "error"
    timing: Timing = field(default_factory=Timing)
    target_s: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        return self.timing.median if self.timing.samples else None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "metric": self.metric,
            "framework": self.framework,
            "space": self.space,
            "status": self.status,
            "value_s": self.value,
            "target_s": self.target_s,
            "note": self.note,
        }
        if self.timing.samples:
            out["time"] = self.timing.as_dict()
        out.update(self.extra)
        return out


@dataclass
class Check:
    """A property of a space that is not a rate (the GPU checks): what was measured and whether it held."""

    name: str  # "transfers", ...
    space: str
    status: str  # "ok", "failed" (measured, did not hold), "skipped", "error"
    value: Any = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "space": self.space,
            "status": self.status,
            "value": self.value,
            "note": self.note,
            **self.extra,
        }


# ---- validation helpers ------------------------------------------------------------------------------------


def max_relative_error(got: np.ndarray, expected: np.ndarray, chunk: int = 1 << 22) -> float:
    """max |got - expected| / max(|expected|, tiny), in chunks: no temporary as large as the arrays."""
    got = np.asarray(got)
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        return math.inf
    flat_g = got.reshape(-1)
    flat_e = expected.reshape(-1)
    worst = 0.0
    for start in range(0, flat_e.size, chunk):
        g = flat_g[start : start + chunk]
        e = flat_e[start : start + chunk]
        err = np.abs(g - e) / np.maximum(np.abs(e), np.finfo(np.float64).tiny)
        if err.size:
            m = float(np.max(err))
            if not m <= worst:  # NaN propagates
                worst = m if not math.isnan(m) else math.inf
    return worst


def check_array(rtol: float) -> Callable[[Any, Any], tuple[float, str | None]]:
    """A validator for array results: every element within `rtol` (relative) of NumPy's.

    Validators return (the error found, None) when the result passes, (error, what is wrong) when not."""

    def validate(got: Any, expected: Any) -> tuple[float, str | None]:
        try:
            err = max_relative_error(np.asarray(got), np.asarray(expected))
        except (TypeError, ValueError) as e:
            return math.inf, f"not comparable with NumPy's result: {e}"
        return err, None if err <= rtol else f"max relative error {err:.3g} > {rtol:.3g}"

    return validate


def check_scalar(rtol: float) -> Callable[[Any, Any], tuple[float, str | None]]:
    """A validator for scalar results (reductions)."""

    def validate(got: Any, expected: Any) -> tuple[float, str | None]:
        try:
            g = float(got)
        except (TypeError, ValueError):
            return math.inf, f"expected a number, got {type(got).__name__}"
        e = float(expected)
        err = abs(g - e) / max(abs(e), np.finfo(np.float64).tiny)
        if math.isnan(err):
            err = math.inf
        return err, None if err <= rtol else f"got {g!r}, NumPy {e!r} (relative error {err:.3g} > {rtol:.3g})"

    return validate
