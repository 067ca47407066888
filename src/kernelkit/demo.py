"""`kernelkit demo`: three kernels on every available space, checked against NumPy, timed as a user would.

Each kernel runs once per space and its result is compared with NumPy's. The first call compiles the kernel
(or loads it from the cache) and is reported apart; "time per call" is the best of several warm calls (as
`timeit` reports: other work on the machine only ever adds time), the spaces taken in turn. Arrays are large
enough (64 MiB each) for threads to matter and to spill every cache, so axpy and dot measure memory
bandwidth and pi arithmetic.
Speedups are NumPy's time over kernelkit's at the same size, written "2.1x faster" or "1.5x slower".
On the GPU the arrays are CudaSpace Views, uploaded once (the time per call is the kernel, no copies).
The Debug space is the Python interpreter that defines the semantics: it runs on a small array, and its
row gives the time per element instead of a speedup.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

import kernelkit as pk

SPACES = ("serial", "openmp", "cuda", "debug")
N = 1 << 23  # doubles per array for axpy and dot (64 MiB each); pi takes 8 N steps (`--size` sets N)
N_DEBUG = 1 << 12  # elements for the interpreter
A = 2.0
MIN_CALLS, MAX_CALLS, BUDGET_S = 5, 20, 0.5  # timed warm calls per version: at least 5, until 0.5 s or 20
SETTLE_S = 0.25  # after NumPy's np.dot: OpenBLAS's threads spin ~0.2 s and would slow what runs next


@pk.workunit
def axpy(i, a, x, y):
    y[i] += a * x[i]


@pk.workunit
def dot(i, acc, x, y):
    acc += x[i] * y[i]


@pk.workunit
def pi_term(i, acc, step):
    x = (i + 0.5) * step
    acc += 4.0 / (1.0 + x * x)


# ---- the cases: a run and a check against NumPy per kernel and space ----------------------------------------

Run = Callable[[], Any]
Check = Callable[[Any], tuple[bool, str]]


def _inputs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Small integers and halves: every sum and product below is exact in float64, in any order."""
    return np.resize(np.arange(13, dtype=np.float64), n), np.resize(np.arange(7, dtype=np.float64) * 0.5, n)


def _on(space: Any, *arrays: np.ndarray) -> list[Any]:
    """The arrays as the kernels get them: the NumPy arrays on the host, CudaSpace Views (uploaded now) on a
    GPU."""
    if space is not pk.Cuda:
        return list(arrays)
    views = []
    for a in arrays:
        v = pk.View(list(a.shape), pk.double, space=pk.CudaSpace)
        pk.deep_copy(v, a)
        views.append(v)
    return views


def _same(got: Any, expected: Any) -> tuple[bool, str]:
    got = np.asarray(got, dtype=np.float64)
    wrong = int(np.count_nonzero(got != expected))
    return wrong == 0, "equal to NumPy" if wrong == 0 else f"{wrong:,} of {np.size(expected):,} values differ"


_pi_sums: dict[int, float] = {}


def numpy_pi_sum(n: int, step: float, chunk: int = 1 << 16) -> float:
    """sum(4 / (1 + x^2)) over the midpoints, in cache-sized chunks (what a careful NumPy user writes)."""
    total = 0.0
    for start in range(0, n, chunk):
        x = (np.arange(start, min(start + chunk, n), dtype=np.float64) + 0.5) * step
        total += float(np.sum(4.0 / (1.0 + x * x)))
    return total


def axpy_case(space: Any, n: int) -> tuple[Run, Check]:
    x0, y0 = _inputs(n)
    if space is None:  # NumPy
        y = y0.copy()

        def run_numpy() -> None:
            np.add(y, A * x0, out=y)

        return run_numpy, lambda _: _same(y, y0 + A * x0)
    x, y = _on(space, x0, y0.copy())
    policy = pk.RangePolicy(space, 0, n)

    def run() -> None:
        pk.parallel_for("axpy", policy, axpy, a=A, x=x, y=y)
        pk.fence()

    return run, lambda _: _same(y, y0 + A * x0)  # checked after the first call only: y grows with each


def dot_case(space: Any, n: int) -> tuple[Run, Check]:
    x0, y0 = _inputs(n)
    expected = float(np.dot(x0, y0))
    if space is None:
        return (lambda: float(np.dot(x0, y0))), lambda got: _same(got, expected)
    x, y = _on(space, x0, y0)
    policy = pk.RangePolicy(space, 0, n)
    return (lambda: pk.parallel_reduce("dot", policy, dot, x=x, y=y)), lambda got: _same(got, expected)


def pi_case(space: Any, n: int) -> tuple[Run, Check]:
    step = 1.0 / n
    tolerance = max(1e-12, n * 2.0**-53)  # recursive summation of n positive terms: (n - 1) u

    def check(got: Any) -> tuple[bool, str]:
        if n not in _pi_sums:
            _pi_sums[n] = numpy_pi_sum(n, step)
        expected = _pi_sums[n]
        err = abs(float(got) - expected) / expected
        return err <= tolerance, f"within {err:.0e} of NumPy" if err else "equal to NumPy"

    if space is None:
        return (lambda: numpy_pi_sum(n, step)), check
    policy = pk.RangePolicy(space, 0, n)
    return (lambda: pk.parallel_reduce("pi", policy, pi_term, step=step)), check


@dataclass(frozen=True)
class Kernel:
    name: str
    formula: str
    numpy: str  # how the NumPy row computes it
    factor: int  # n = factor x the demo's size
    unit: str  # of the rate column
    per_element: float  # bytes moved (unit B/s) or steps (unit steps/s) per element
    case: Callable[[Any, int], tuple[Run, Check]]
    workunit: Any

    def size(self, n: int) -> str:
        if self.unit == "B/s":
            arrays = "two arrays" if self.name == "dot" else "x and y"
            return f"{n:,} doubles in {arrays}, {self.per_element * n / 1e6:,.0f} MB moved per call"
        return f"{n:,} steps"


KERNELS = (
    Kernel("axpy", "y[i] += a*x[i]", "y += a*x", 1, "B/s", 24.0, axpy_case, axpy),
    Kernel("dot", "sum of x[i]*y[i]", "np.dot(x, y)", 1, "B/s", 16.0, dot_case, dot),
    Kernel("pi", "sum of 4/(1+x*x), x = (i+0.5)/n", "in chunks of 65,536", 8, "steps/s", 1.0, pi_case, pi_term),
)


# ---- measuring ----------------------------------------------------------------------------------------------


@dataclass
class Row:
    space: str  # numpy, serial, openmp, cuda, debug
    n: int
    run: Run | None = None
    first_s: float | None = None
    built: str = ""  # "compiled", "from cache" or "" (NumPy, Debug, or already loaded in this process)
    ok: bool = False
    check: str = ""
    value: Any = None
    times: list[float] = field(default_factory=list)

    @property
    def time_s(self) -> float | None:
        return min(self.times) if self.times else None


def _first(row: Row, kernel: Kernel, space: Any) -> None:
    """Prepare, run once (compiling or loading the kernel), check against NumPy."""
    try:
        run, check = kernel.case(space, row.n)
        before = kernel.workunit.stats()
        t0 = time.perf_counter()
        row.value = run()
        row.first_s = time.perf_counter() - t0
        after = kernel.workunit.stats()
        if space is not None and space is not pk.Debug:
            row.built = (
                "compiled"
                if after["compiles"] > before["compiles"]
                else "from cache"
                if after["cache_hits"] > before["cache_hits"]
                else ""
            )
        row.ok, row.check = check(row.value)
    except pk.KernelError as e:  # a space that cannot run here is a failed row, with the reason
        row.ok, row.check = False, f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"
        return
    if row.ok:
        row.run = run


def _time_round_robin(rows: Sequence[Row]) -> None:
    """Warm calls, one per version in turn, until each has MIN_CALLS and BUDGET_S or MAX_CALLS."""
    active = [r for r in rows if r.run is not None]
    for r in active:
        r.run()  # warm-up: first-touch of pages, thread start-up
    while active:
        for r in list(active):
            t0 = time.perf_counter()
            r.run()
            r.times.append(time.perf_counter() - t0)
            done = len(r.times) >= MAX_CALLS or (len(r.times) >= MIN_CALLS and sum(r.times) >= BUDGET_S)
            if done:
                active.remove(r)


def measure(kernel: Kernel, n: int, spaces: Sequence[str]) -> list[Row]:
    """Rows for NumPy and each space at size `n`; with Debug, also NumPy at Debug's small n (its comparison)."""
    small = min(n, N_DEBUG)
    rows = [Row("numpy", n)]
    for name in spaces:
        rows.append(Row(name, small if name == "debug" else n))
    if "debug" in spaces:
        rows.append(Row("numpy", small))
    for row in rows:
        _first(row, kernel, None if row.space == "numpy" else getattr(pk, _ATTR[row.space]))
    _time_round_robin([r for r in rows if r.space != "numpy"])
    # NumPy apart: its BLAS threads keep spinning after np.dot returns and would slow the others
    _time_round_robin([r for r in rows if r.space == "numpy"])
    time.sleep(SETTLE_S)
    for r in rows:
        r.run = None  # the arrays go
    return rows


# ---- the report ---------------------------------------------------------------------------------------------

_ATTR = {"serial": "Serial", "openmp": "OpenMP", "cuda": "Cuda", "debug": "Debug"}


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1.0:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_rate(per_s: float, unit: str) -> str:
    """A rate with an SI prefix: '27.3 GB/s', '65.1 MB/s', '5.44 Gsteps/s', '5.31 Msteps/s'."""
    prefix, scale = next(((p, s) for p, s in (("G", 1e9), ("M", 1e6), ("k", 1e3)) if per_s >= s), ("", 1.0))
    value = per_s / scale
    digits = 2 if value < 10 else 1 if value < 100 else 0
    return f"{value:.{digits}f} {prefix}{unit}"


def versus(reference_s: float, s: float) -> str:
    """'2.1x faster', '1.5x slower' or 'same speed' (within 5 %)."""
    r = reference_s / s
    if r >= 1.05:
        return f"{r:.1f}x faster" if r < 10 else f"{r:.0f}x faster"
    if r <= 1 / 1.05:
        return f"{1 / r:.1f}x slower" if r > 0.1 else f"{1 / r:.0f}x slower"
    return "same speed"


def _table(rows: list[list[str]], right: Sequence[int]) -> str:
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    lines = []
    for j, r in enumerate(rows):
        cells = [c.rjust(widths[k]) if k in right and j else c.ljust(widths[k]) for k, c in enumerate(r)]
        lines.append("  " + "  ".join(cells).rstrip())
        if j == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _label(row: Row, threads: int, kernel: Kernel) -> str:
    if row.space == "numpy":
        return f"numpy: {kernel.numpy}"
    if row.space == "openmp":
        return f"openmp, {threads} thread{'s' if threads != 1 else ''}"
    if row.space == "serial":
        return "serial, 1 thread"
    if row.space == "cuda":
        return "cuda (data on the GPU)"
    return f"debug, n = {row.n:,}"


def report(kernel: Kernel, rows: list[Row], threads: int, marks: tuple[str, str], out: TextIO) -> None:
    ok_mark, bad_mark = marks
    n = rows[0].n
    numpy_s = {r.n: r.time_s for r in rows if r.space == "numpy"}
    table = [["space", "first call", "time per call", "rate", "vs NumPy", "check"]]
    for r in rows:
        if r.space == "numpy" and r.n != n:
            continue  # NumPy at Debug's size: only the Debug row's comparison
        t = r.time_s
        rate = fmt_rate(kernel.per_element * r.n / t, kernel.unit) if t else "-"
        if r.space == "numpy":
            first, speed = "-", "-"
        else:
            first = fmt_seconds(r.first_s) + (f", {r.built}" if r.built else "")
            reference = numpy_s.get(r.n)
            speed = versus(reference, t) if t and reference else "-"
            if r.space == "debug" and speed != "-":
                speed += f" (NumPy at n = {r.n:,})"
        check = f"{ok_mark if r.ok else bad_mark} {r.check}"
        table.append([_label(r, threads, kernel), first, fmt_seconds(t), rate, speed, check])
    print(f"\n{kernel.name}: {kernel.formula}, {kernel.size(n)}", file=out)
    print(_table(table, right=(1, 2, 3)), file=out)


def _marks(out: TextIO) -> tuple[str, str]:
    encoding = (getattr(out, "encoding", None) or "ascii").lower()
    try:
        "✓✗µ≈".encode(encoding)
        return "✓", "✗"
    except (LookupError, UnicodeEncodeError):
        return "ok", "FAIL"


def demo(spaces: Sequence[str] | None = None, out: TextIO | None = None, size: int = N) -> int:
    """Run the demo and print its tables; 0 when every result equals NumPy's, 1 when not, 2 on a bad space
    or size. `size`: doubles per array (pi takes 8 x `size` steps)."""
    out = out or sys.stdout
    if size < 1:
        print(f"kernelkit demo: the size must be at least 1, not {size}", file=out)
        return 2
    from kernelkit.backends.base import space_report

    status = {str(s["name"]).lower(): (bool(s["available"]), str(s.get("detail", ""))) for s in space_report()}
    if spaces:
        unknown = [s for s in spaces if s not in SPACES]
        if unknown:
            print(f"kernelkit demo: unknown space(s) {', '.join(unknown)}; known: {', '.join(SPACES)}", file=out)
            return 2
    wanted = [s for s in SPACES if (not spaces or s in spaces)]
    run_spaces = [s for s in wanted if status.get(s, (False, ""))[0]]
    threads = pk.get_num_threads()
    marks = _marks(out)
    print(
        f"kernelkit demo: {', '.join(run_spaces)} against NumPy on {os.cpu_count()} CPU cores "
        f"(openmp: {threads} threads); every result is checked against NumPy's",
        file=out,
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > 0.5 * (os.cpu_count() or 1):
        print(
            f"note: other programs are running (load average {load:.1f} on {os.cpu_count()} cores): times vary "
            "between runs, and threads gain less than on an idle machine",
            file=out,
        )
    failures = 0
    results: dict[str, list[Row]] = {}
    for kernel in KERNELS:
        rows = measure(kernel, kernel.factor * size, run_spaces)
        results[kernel.name] = rows
        report(kernel, rows, threads, marks, out)
        failures += sum(not r.ok for r in rows)
    print(
        "\nfirst call: compiles the kernel for that space, or loads it from the cache, and runs it once; "
        "time per call: the best of 5 to 20 warm calls; vs NumPy: NumPy's time per call / this one, same n",
        file=out,
    )
    speedups = []
    for name, rows in results.items():
        by_space = {r.space: r.time_s for r in rows}
        if by_space.get("serial") and by_space.get("openmp"):
            speedups.append(f"{name} {by_space['serial'] / by_space['openmp']:.1f}x")
    if speedups:
        print(
            f"openmp ({threads} threads) over serial: {', '.join(speedups)} "
            "(axpy and dot are bound by memory bandwidth, pi by arithmetic)",
            file=out,
        )
    if "debug" in run_spaces:
        print(
            "debug runs each kernel as generated Python, one index at a time (the reference semantics, "
            "bounds-checked): for debugging, on a small n",
            file=out,
        )
    pis = [r for r in results.get("pi", []) if r.ok and r.space not in ("numpy", "debug")]
    if pis:
        approx = "≈" if marks[0] == "✓" else "~"
        best = pis[-1]
        print(f"pi {approx} {float(best.value) / best.n:.15f} ({best.space}, {best.n:,} steps)", file=out)
    for name in wanted:
        if name not in run_spaces:
            print(f"{name}: not available here ({status.get(name, (False, 'unknown'))[1]})", file=out)
    return 1 if failures else 0
