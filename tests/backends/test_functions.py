"""@pk.function device functions: returns, nested calls, annotations, View arguments, void functions, pass-by-
value scalars, functions and workunits defined inside functions."""

from __future__ import annotations

import math

import numpy as np

import kernelkit as pk


@pk.function
def square(x):
    return x * x


@pk.function
def poly(x):
    return square(x) + 2 * x + 1  # calls another function


@pk.function
def deep(x):
    return poly(square(x)) - square(poly(x))  # two levels of nesting, called twice


@pk.function
def typed(x: float, k: int) -> float:
    r: float = 1.0
    for _ in range(k):
        r *= x
    return r


@pk.function
def sign(x):
    if x > 0:
        return 1
    elif x < 0:
        return -1
    return 0


@pk.function
def is_even(n):
    return n % 2 == 0


@pk.function
def row_sum(a, i):
    s = 0.0
    for j in range(a.extent(1)):
        s += a[i, j]
    return s


@pk.function
def store(out, i, value):
    out[i] = value


@pk.function
def bump(a):
    a += 1  # a local copy: the caller's variable is unchanged
    return a


@pk.function
def first_index_above(x, threshold):
    for k in range(x.extent(0)):
        if x[k] > threshold:
            return k
    return -1


@pk.function
def dist(x0, y0, x1, y1):
    return math.sqrt((x1 - x0) ** 2 + (y1 - y0) ** 2)


@pk.workunit
def use_functions(i, x, out):
    out[i, 0] = square(x[i])
    out[i, 1] = poly(x[i])
    out[i, 2] = deep(x[i])
    out[i, 3] = typed(x[i], 3)
    out[i, 4] = sign(x[i])
    out[i, 5] = 1.0 if is_even(i) else 0.0
    out[i, 6] = square(i) + square(x[i])  # the same function at int and float arguments
    out[i, 7] = dist(0.0, 0.0, x[i], 1.0)


def test_function_calls(space):
    x = np.array([-2.0, -0.5, 0.0, 0.5, 1.5, 3.0])
    out = np.zeros((6, 8))
    pk.parallel_for(pk.RangePolicy(space, 0, 6), use_functions, x=x, out=out)

    def sq(t):
        return t * t

    def pl(t):
        return sq(t) + 2 * t + 1

    for i, v in enumerate(x):
        v = float(v)
        expected = [
            sq(v),
            pl(v),
            pl(sq(v)) - sq(pl(v)),
            v**3,
            (v > 0) - (v < 0),
            float(i % 2 == 0),
            i * i + v * v,
            math.hypot(v, 1.0),
        ]
        np.testing.assert_allclose(out[i], expected, rtol=1e-14, atol=1e-14)


@pk.workunit
def use_row_sum(i, a, out):
    store(out, i, row_sum(a, i))


def test_functions_with_view_arguments(space, rng):
    a = rng.standard_normal((7, 5))
    out = np.zeros(7)
    pk.parallel_for(pk.RangePolicy(space, 0, 7), use_row_sum, a=a, out=out)
    np.testing.assert_allclose(out, a.sum(axis=1), rtol=1e-14, atol=1e-14)


@pk.workunit
def use_early_return(i, x, thresholds, out):
    out[i] = first_index_above(x, thresholds[i])


def test_function_early_return_from_loop(space):
    x = np.array([0.5, 1.5, 2.5, 3.5])
    thresholds = np.array([0.0, 1.0, 3.0, 10.0])
    out = np.zeros(4, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, 4), use_early_return, x=x, thresholds=thresholds, out=out)
    np.testing.assert_array_equal(out, [0, 1, 3, -1])


@pk.workunit
def use_bump(i, out):
    a = i
    b = bump(a)
    out[i, 0] = a
    out[i, 1] = b


def test_scalar_arguments_are_passed_by_value(space):
    out = np.zeros((5, 2), dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, 5), use_bump, out=out)
    np.testing.assert_array_equal(out[:, 0], np.arange(5))
    np.testing.assert_array_equal(out[:, 1], np.arange(5) + 1)


@pk.workunit
def reduce_with_function(i, acc, x):
    acc += square(x[i]) - sign(x[i])


def test_function_in_reduction(space, rng):
    x = rng.standard_normal(100)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 100), reduce_with_function, x=x)
    assert abs(result - float((x * x - np.sign(x)).sum())) < 1e-10


def test_function_and_workunit_defined_inside_a_function(space):
    @pk.function
    def cube(x):
        return x * x * x

    @pk.workunit
    def local_kernel(i, out):
        out[i] = cube(i) + square(i)

    out = np.zeros(6, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, 6), local_kernel, out=out)
    i = np.arange(6)
    np.testing.assert_array_equal(out, i**3 + i**2)
