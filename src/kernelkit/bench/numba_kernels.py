"""The Numba versions (`@njit(parallel=True)` with `prange`); imported only when numba is installed."""

from __future__ import annotations

from numba import njit, prange


@njit(parallel=True)
def copy(a, c):
    for i in prange(a.shape[0]):
        c[i] = a[i]


@njit(parallel=True)
def mul(b, c, s):
    for i in prange(b.shape[0]):
        b[i] = s * c[i]


@njit(parallel=True)
def add(a, b, c):
    for i in prange(a.shape[0]):
        c[i] = a[i] + b[i]


@njit(parallel=True)
def triad(a, b, c, s):
    for i in prange(a.shape[0]):
        a[i] = b[i] + s * c[i]


@njit(parallel=True)
def dot(x, y):
    s = 0.0
    for i in prange(x.shape[0]):
        s += x[i] * y[i]
    return s


@njit(parallel=True)
def pi_sum(n, step):
    s = 0.0
    for i in prange(n):
        x = (i + 0.5) * step
        s += 4.0 / (1.0 + x * x)
    return s
