"""The kernelkit versions of the benchmark and demo kernels: plain workunits, types from the call."""

from __future__ import annotations

import kernelkit as pk


@pk.workunit
def copy(i, a, c):
    c[i] = a[i]


@pk.workunit
def mul(i, b, c, s):
    b[i] = s * c[i]


@pk.workunit
def add(i, a, b, c):
    c[i] = a[i] + b[i]


@pk.workunit
def triad(i, a, b, c, s):
    a[i] = b[i] + s * c[i]


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
