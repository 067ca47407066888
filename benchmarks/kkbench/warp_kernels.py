"""The NVIDIA Warp versions (`@wp.kernel`, float64 arrays); imported only when warp-lang is installed.

The same kernels run on Warp's "cpu" device (one thread: Warp's CPU backend does not multithread) and on
"cuda". Reductions accumulate with `wp.atomic_add` into a one-element array, as Warp's examples do.
"""

from __future__ import annotations

import warp as wp

wp.config.quiet = True  # older Warp
wp.config.log_level = 30  # logging.WARNING: no banner (newer Warp)

f64 = wp.float64
A1 = wp.array(dtype=wp.float64)
A2 = wp.array2d(dtype=wp.float64)
I1 = wp.array(dtype=wp.int64)


@wp.kernel
def copy(a: A1, c: A1):
    i = wp.tid()
    c[i] = a[i]


@wp.kernel
def mul(b: A1, c: A1, s: f64):
    i = wp.tid()
    b[i] = s * c[i]


@wp.kernel
def add(a: A1, b: A1, c: A1):
    i = wp.tid()
    c[i] = a[i] + b[i]


@wp.kernel
def triad(a: A1, b: A1, c: A1, s: f64):
    i = wp.tid()
    a[i] = b[i] + s * c[i]


@wp.kernel
def nstream(a: A1, b: A1, c: A1, s: f64):
    i = wp.tid()
    a[i] = a[i] + b[i] + s * c[i]


@wp.kernel
def dot(x: A1, y: A1, out: A1):
    i = wp.tid()
    wp.atomic_add(out, 0, x[i] * y[i])


@wp.kernel
def total(x: A1, out: A1):
    i = wp.tid()
    wp.atomic_add(out, 0, x[i])


@wp.kernel
def pi_sum(step: f64, out: A1):
    i = wp.tid()
    x = (f64(i) + f64(0.5)) * step
    wp.atomic_add(out, 0, f64(4.0) / (f64(1.0) + x * x))


@wp.kernel
def stencil(inp: A2, out: A2):
    i, j = wp.tid()
    i = i + 2
    j = j + 2
    out[i, j] = (
        f64(0.25) * inp[i, j + 1]
        - f64(0.25) * inp[i, j - 1]
        + f64(0.25) * inp[i + 1, j]
        - f64(0.25) * inp[i - 1, j]
        + f64(0.125) * inp[i, j + 2]
        - f64(0.125) * inp[i, j - 2]
        + f64(0.125) * inp[i + 2, j]
        - f64(0.125) * inp[i - 2, j]
    )


@wp.kernel
def jacobi(inp: A2, out: A2):
    i, j = wp.tid()
    i = i + 1
    j = j + 1
    out[i, j] = f64(0.25) * (inp[i - 1, j] + inp[i + 1, j] + inp[i, j - 1] + inp[i, j + 1])


@wp.kernel
def transpose(a: A2, b: A2):
    i, j = wp.tid()
    b[j, i] = a[i, j]


@wp.kernel
def yax(y: A1, a: A2, x: A1, m: int, out: A1):
    j = wp.tid()
    t = f64(0.0)
    for i in range(m):
        t = t + a[j, i] * x[i]
    wp.atomic_add(out, 0, y[j] * t)


@wp.kernel
def gups(table: I1, idx: I1, val: I1):
    i = wp.tid()
    wp.atomic_xor(table, int(idx[i]), val[i])


@wp.kernel
def gather(out: A1, src: A1, idx: I1):
    i = wp.tid()
    out[i] = src[int(idx[i])]


@wp.kernel
def dgemm(a: A2, b: A2, c: A2, n: int):
    i, j = wp.tid()
    s = f64(0.0)
    for k in range(n):
        s = s + a[i, k] * b[k, j]
    c[i, j] = s
