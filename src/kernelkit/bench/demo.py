"""`kernelkit demo`: axpy, dot and the pi integral on every available space, checked against NumPy, timed.

Uses the public API only, as a user would: workunits, RangePolicy on a space, NumPy arrays as arguments.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from .cpu import numpy_pi_sum
from .report import fmt_number, fmt_seconds, marks, table

SPACE_ORDER = ("debug", "serial", "openmp", "cuda")
SPACE_ATTR = {"debug": "Debug", "serial": "Serial", "openmp": "OpenMP", "cuda": "Cuda"}
N_COMPILED = 1 << 22  # 32 MiB per array: a few ms per run
N_PI = 1 << 24
N_DEBUG = 1 << 14  # the interpreter runs Python per element: small, noted in the table
A = 2.0
SETTLE_S = 0.25


@dataclass
class Case:
    kernel: str
    space: str
    n: int
    first_s: float | None = None
    median_s: float | None = None
    numpy_s: float | None = None
    ok: bool = False
    problem: str = ""
    value: float | None = None


def _median_time(run: Callable[[], Any], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return samples[len(samples) // 2]


def _available_spaces() -> list[tuple[str, bool, str]]:
    from kernelkit.backends.base import space_report

    report = {
        str(s["name"]).lower(): (bool(s["available"]), str(s.get("detail", ""))) for s in space_report()
    }
    return [(name, *report[name]) for name in SPACE_ORDER if name in report]


def _axpy_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.resize(np.arange(13, dtype=np.float64), n)
    y = np.resize(np.arange(7, dtype=np.float64) * 0.5, n)
    return x, y


def _run_case(pk: Any, kernels: Any, case: Case, space: Any) -> Callable[[], Any] | None:
    """Validate once against NumPy, then time warm runs (the first call, compile included, is shown apart).

    Returns the NumPy version of the same computation, timed later (see `demo`), or None when it failed."""
    n = case.n
    repeats = 3 if case.space == "debug" else 10
    policy = pk.RangePolicy(space, 0, n)
    if case.kernel == "axpy":
        x, y0 = _axpy_data(n)
        y = y0.copy()
        expected = y0 + A * x

        def run() -> Any:
            pk.parallel_for("axpy", policy, kernels.axpy, a=A, x=x, y=y)
            pk.fence()

        t0 = time.perf_counter()
        run()
        case.first_s = time.perf_counter() - t0
        err = float(np.max(np.abs(y - expected))) if n else 0.0
        case.ok = err == 0.0
        case.problem = "" if case.ok else f"max error {err:.3g}"
        yy = y0.copy()

        def numpy_run() -> None:
            yy.__iadd__(A * x)

    elif case.kernel == "dot":
        x, y = _axpy_data(n)
        expected_dot = float(np.dot(x, y))

        def run() -> Any:
            return pk.parallel_reduce("dot", policy, kernels.dot, x=x, y=y)

        t0 = time.perf_counter()
        got = run()
        case.first_s = time.perf_counter() - t0
        case.ok = float(got) == expected_dot
        case.problem = "" if case.ok else f"got {float(got)!r}, NumPy {expected_dot!r}"

        def numpy_run() -> None:
            np.dot(x, y)

    else:  # pi
        step = 1.0 / n
        expected_sum = numpy_pi_sum(n, step)

        def run() -> Any:
            return pk.parallel_reduce("pi", policy, kernels.pi_term, step=step)

        t0 = time.perf_counter()
        got = run()
        case.first_s = time.perf_counter() - t0
        rel = abs(float(got) - expected_sum) / expected_sum
        case.ok = rel <= max(1e-12, n * 2.0**-53)
        case.value = float(got) * step
        case.problem = "" if case.ok else f"pi = {case.value!r}, NumPy {expected_sum * step!r}"

        def numpy_run() -> None:
            numpy_pi_sum(n, step)

    if not case.ok:
        return None
    run()  # warm
    case.median_s = _median_time(run, repeats)
    return numpy_run


def demo(spaces: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the demo; prints the table and returns 0, or 1 when any result disagrees with NumPy."""
    out = out or sys.stdout
    ok_mark, bad_mark = marks(out)
    import kernelkit as pk

    from . import kernels

    available = _available_spaces()
    if spaces:
        unknown = [s for s in spaces if s not in SPACE_ATTR]
        if unknown:
            print(
                f"kernelkit demo: unknown space(s) {', '.join(unknown)}; known: {', '.join(SPACE_ORDER)}",
                file=out,
            )
            return 2
        available = [a for a in available if a[0] in spaces]
    skipped = [(name, detail) for name, ok, detail in available if not ok]
    run_spaces = [name for name, ok, _ in available if ok]
    threads = pk.get_num_threads()
    print(
        f"kernelkit demo: {', '.join(run_spaces)} ({threads} threads for openmp), checked against NumPy",
        file=out,
    )

    cases: list[Case] = []
    failures: list[str] = []
    for kernel in ("axpy", "dot", "pi"):
        numpy_runs: dict[int, Callable[[], Any]] = {}
        for space in run_spaces:
            n = N_DEBUG if space == "debug" else (N_PI if kernel == "pi" else N_COMPILED)
            case = Case(kernel, space, n)
            cases.append(case)
            try:
                numpy_run = _run_case(pk, kernels, case, getattr(pk, SPACE_ATTR[space]))
                if numpy_run is not None:
                    numpy_runs.setdefault(n, numpy_run)
            except Exception as e:
                lines = str(e).strip().splitlines()
                case.ok = False
                case.problem = f"{type(e).__name__}: {lines[0] if lines else ''}"
            if not case.ok:
                failures.append(f"{kernel} on {space}: {case.problem}")
        # NumPy after the kernelkit runs, once per size: np.dot's BLAS threads keep spinning for ~0.2 s after
        # each call and would slow down whatever ran next.
        numpy_s = {}
        for n, numpy_run in numpy_runs.items():
            numpy_run()
            numpy_s[n] = _median_time(numpy_run, 5)
        for case in cases:
            if case.kernel == kernel and case.ok:
                case.numpy_s = numpy_s.get(case.n)
        time.sleep(SETTLE_S)

    rows = []
    for c in cases:
        speedup = "-"
        if c.median_s and c.numpy_s:
            speedup = f"{fmt_number(c.numpy_s / c.median_s)}x"
        rows.append(
            [
                c.kernel,
                c.space,
                f"{c.n:,}{' *' if c.space == 'debug' else ''}",
                fmt_seconds(c.first_s),
                fmt_seconds(c.median_s),
                fmt_seconds(c.numpy_s),
                speedup,
                ok_mark if c.ok else bad_mark,
            ]
        )
    headers = ["kernel", "space", "n", "first call", "time", "NumPy", "vs NumPy", "check"]
    print("\n" + table(headers, rows, right=(2, 3, 4, 5, 6)), file=out)
    print(
        "\ntime: median of warm runs; first call: includes compiling or loading from the cache; "
        "vs NumPy: NumPy's time / this time at the same n",
        file=out,
    )
    if "debug" in run_spaces:
        print("* Debug is the pure-Python interpreter (the reference semantics), run at a small n", file=out)
    pis = [c for c in cases if c.kernel == "pi" and c.ok and c.value is not None and c.space != "debug"]
    if pis:
        best = pis[-1]
        print(
            f"pi ≈ {best.value:.15f} ({best.space}, {best.n:,} steps)".replace(
                "≈", "≈" if ok_mark == "✓" else "~"
            ),
            file=out,
        )
    for name, detail in skipped:
        print(f"{name}: not available ({detail})", file=out)
    for f in failures:
        print(f"{bad_mark} {f}", file=out)
    return 1 if failures else 0
