"""Inputs and validation of the programs in programs.py: plain Python and NumPy, the same for every contender
(the C worker imports this and not programs.py, which needs a PyOMP compiler)."""

from __future__ import annotations

import math

import numpy as np


def pi_expected(num_steps: int) -> tuple[float, float]:
    """The midpoint sum's value, math.pi + h^2/12 (Euler-Maclaurin), and its tolerance: 10 h^4 plus 1e-10 for
    the rounding of a sum of up to ~10^9 terms in any order. A dropped or doubled term moves it by 2h or more."""
    h = 1.0 / num_steps
    return math.pi + h * h / 12.0, 10.0 * h**4 + 1e-10


def dgemm_inputs(order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tutorial's matrices: every row of A and B is 0, 1, ..., order-1; C starts at zero."""
    row = np.arange(order, dtype=np.float64)
    A = np.ascontiguousarray(np.broadcast_to(row, (order, order)))
    return A, A.copy(), np.zeros((order, order))


def dgemm_check(C: np.ndarray, order: int) -> tuple[bool, str]:
    """C = A B is exact: C[i, j] = j * order (order - 1) / 2, integers far below 2^53. Also the tutorial's
    checksum, order^3 (order - 1)^2 / 4."""
    want = np.arange(order, dtype=np.float64) * (order * (order - 1) / 2.0)
    bad = int(np.count_nonzero(C != want[None, :]))
    checksum = float(C.sum())
    ref = float(order) ** 3 * 0.25 * (order - 1.0) ** 2
    ok = bad == 0 and abs(checksum - ref) <= 1e-8 * ref
    return ok, f"{bad} wrong elements of {order * order}; checksum {checksum:.6e} (tutorial's {ref:.6e})"
