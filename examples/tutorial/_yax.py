"""Shared by the tutorial exercises: the options, the fill pattern and the NumPy reference of y^T A x."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _common  # noqa: E402

import kernelkit as pk  # noqa: E402


def parser(doc: str | None, n: int = 4096, m: int = 1024, repeat: int = 10):
    p = _common.parser(doc)
    p.add_argument("-N", "--rows", type=int, default=n, help=f"rows of A, length of y (default {n})")
    p.add_argument("-M", "--cols", type=int, default=m, help=f"columns of A, length of x (default {m})")
    p.add_argument("--repeat", type=int, default=repeat, help=f"timed repetitions (default {repeat})")
    return p


# Small-integer patterns: every product and partial sum is an exact float64, so the result must equal the
# NumPy reference exactly, whatever the summation order, and any indexing mistake changes it. They are device
# functions: the exercises' kernels call them (and so can Python).
@pk.function
def y_value(j: int) -> float:
    return j % 3 + 1.0


@pk.function
def x_value(i: int) -> float:
    return i % 5 + 1.0


@pk.function
def a_value(j: int, i: int) -> float:
    return (j + 2 * i) % 7 - 2.0


def reference(n: int, m: int, e: int | None = None) -> float:
    j = np.arange(n)[:, None]
    i = np.arange(m)[None, :]
    y = (np.arange(n) % 3 + 1).astype(np.float64)
    x = (np.arange(m) % 5 + 1).astype(np.float64)
    a = ((j + 2 * i) % 7 - 2).astype(np.float64)
    r = float(y @ a @ x)
    return r if e is None else r * e


def report(
    name: str, result: float, ref: float, n: int, m: int, seconds: float, repeat: int, bytes_per_repeat: float
) -> None:
    gbs = bytes_per_repeat * repeat / seconds / 1e9 if seconds > 0 else float("nan")
    print(
        f"{name}: N={n} M={m} result={result!r} reference={ref!r} time={seconds:.4f}s "
        f"({repeat} repeats, {gbs:.2f} GB/s)"
    )
    _common.verdict(result == ref, f"y^T A x = {result!r}" if result == ref else f"{result!r} != {ref!r}")
