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
def total(x):
    s = 0.0
    for i in prange(x.shape[0]):
        s += x[i]
    return s


@njit(parallel=True)
def pi_sum(n, step):
    s = 0.0
    for i in prange(n):
        x = (i + 0.5) * step
        s += 4.0 / (1.0 + x * x)
    return s


@njit(parallel=True)
def nstream(a, b, c, s):
    for i in prange(a.shape[0]):
        a[i] += b[i] + s * c[i]


@njit(parallel=True)
def stencil(inp, out):
    n = inp.shape[0]
    for i in prange(2, n - 2):
        for j in range(2, n - 2):
            out[i, j] = (
                0.25 * inp[i, j + 1]
                - 0.25 * inp[i, j - 1]
                + 0.25 * inp[i + 1, j]
                - 0.25 * inp[i - 1, j]
                + 0.125 * inp[i, j + 2]
                - 0.125 * inp[i, j - 2]
                + 0.125 * inp[i + 2, j]
                - 0.125 * inp[i - 2, j]
            )


@njit(parallel=True)
def jacobi(inp, out):
    n = inp.shape[0]
    for i in prange(1, n - 1):
        for j in range(1, n - 1):
            out[i, j] = 0.25 * (inp[i - 1, j] + inp[i + 1, j] + inp[i, j - 1] + inp[i, j + 1])


@njit(parallel=True)
def transpose(a, b):
    n = a.shape[0]
    tiles = (n + 31) // 32
    for t in prange(tiles * tiles):
        it = (t // tiles) * 32
        jt = (t % tiles) * 32
        for i in range(it, min(it + 32, n)):
            for j in range(jt, min(jt + 32, n)):
                b[j, i] = a[i, j]


@njit(parallel=True)
def yax(y, a, x):
    result = 0.0
    for j in prange(a.shape[0]):
        t = 0.0
        for i in range(a.shape[1]):
            t += a[j, i] * x[i]
        result += y[j] * t
    return result


@njit(parallel=True)
def gather(out, src, idx):
    for i in prange(out.shape[0]):
        out[i] = src[idx[i]]


@njit(parallel=True)
def dgemm(a, b, c):
    n = a.shape[0]
    for i in prange(n):
        for j in range(n):
            c[i, j] = 0.0
        for k in range(n):
            aik = a[i, k]
            for j in range(n):
                c[i, j] += aik * b[k, j]
