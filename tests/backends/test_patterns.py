"""parallel_for / parallel_reduce / parallel_scan: the call forms of issue 2, checked against NumPy on every
space.

Workunits live at module level so that each is compiled once per space and specialization for the whole
file."""

from __future__ import annotations

import math

import numpy as np
import pytest

import kernelkit as pk


@pk.workunit
def axpy(i, a, x, y):
    y[i] += a * x[i]


@pk.workunit
def pi_term(i, acc, step):
    x = (i + 0.5) * step
    acc += 4.0 / (1.0 + x * x)


@pk.workunit
def fill_index(i, out):
    out[i] = i


@pk.workunit
def fill_const(i, out, value):
    out[i] = value


@pk.workunit
def dot(i, acc, x, y):
    acc += x[i] * y[i]


@pk.workunit
def count_up(i, acc):
    acc += i


@pk.workunit
def inclusive_sum(i, acc, final, x, out):
    acc += x[i]
    if final:
        out[i] = acc


@pk.workunit
def copy(i, src, dst):
    dst[i] = src[i]


# ------------------------------------------------------------------------------------------- the issue's tour


def test_issue_example_axpy_updates_numpy_in_place(space, default_space, kk):
    n = kk.size(space, 10_001, 1001)
    default_space(space)
    x = np.ones(n)
    y = np.zeros(n)
    y_before = y
    pk.parallel_for("axpy", n, axpy, a=2.0, x=x, y=y)
    assert y is y_before
    np.testing.assert_array_equal(y, np.full(n, 2.0))
    pk.parallel_for("axpy", n, axpy, a=0.5, x=x, y=y)
    np.testing.assert_array_equal(y, np.full(n, 2.5))


def test_issue_example_pi(space, kk):
    m = kk.size(space, 1_000_000, 10_000)
    pi = pk.parallel_reduce(pk.RangePolicy(space, 0, m), pi_term, step=1.0 / m) / m
    # the midpoint rule's error is ~1/(12 m^2) * |f''|: far below 1e-8 for these m
    assert abs(pi - math.pi) < 1e-8


# ----------------------------------------------------------------------------------------------- parallel_for


@pytest.mark.parametrize("n", [0, 1, 7, 1000])
def test_for_sizes(space, n):
    out = np.full(n, -1, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n), fill_index, out=out)
    np.testing.assert_array_equal(out, np.arange(n))


def test_for_large_odd_size(compiled_space):
    n = 1_000_003
    out = np.full(n, -1, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(compiled_space, 0, n), fill_index, out=out)
    np.testing.assert_array_equal(out, np.arange(n))


def test_for_begin_greater_than_zero_touches_only_the_range(space):
    out = np.full(12, -1, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 3, 10), fill_index, out=out)
    expected = np.full(12, -1)
    expected[3:10] = np.arange(3, 10)
    np.testing.assert_array_equal(out, expected)


def test_for_empty_range_with_begin_equal_end(space):
    out = np.full(5, 7.0)
    pk.parallel_for(pk.RangePolicy(space, 4, 4), fill_const, out=out, value=1.0)
    np.testing.assert_array_equal(out, np.full(5, 7.0))


def test_for_label_and_no_label_forms(space, default_space):
    default_space(space)
    out = np.zeros(9)
    pk.parallel_for(9, fill_const, out=out, value=1.5)
    np.testing.assert_array_equal(out, np.full(9, 1.5))
    pk.parallel_for("fill", 9, fill_const, out=out, value=2.5)
    np.testing.assert_array_equal(out, np.full(9, 2.5))
    pk.parallel_for("fill", pk.RangePolicy(space, 0, 9), fill_const, out=out, value=3.5)
    np.testing.assert_array_equal(out, np.full(9, 3.5))
    pk.parallel_for(pk.RangePolicy(0, 9), fill_const, out=out, value=4.5)
    np.testing.assert_array_equal(out, np.full(9, 4.5))


def test_for_int_policy_zero(space, default_space):
    default_space(space)
    out = np.full(3, 9.0)
    pk.parallel_for(0, fill_const, out=out, value=1.0)
    np.testing.assert_array_equal(out, np.full(3, 9.0))


def test_for_with_views(space, rng):
    n = 37
    src = pk.View([n], pk.double)
    dst = pk.View([n], pk.double)
    data = rng.standard_normal(n)
    np.asarray(src)[:] = data
    pk.parallel_for(pk.RangePolicy(space, 0, n), copy, src=src, dst=dst)
    np.testing.assert_array_equal(np.asarray(dst), data)


def test_for_mixed_views_and_numpy(space, rng):
    n = 23
    src = rng.standard_normal(n)
    dst = pk.View([n], pk.double)
    pk.parallel_for(pk.RangePolicy(space, 0, n), copy, src=src, dst=dst)
    np.testing.assert_array_equal(np.asarray(dst), src)
    back = np.zeros(n)
    pk.parallel_for(pk.RangePolicy(space, 0, n), copy, src=dst, dst=back)
    np.testing.assert_array_equal(back, src)


def test_for_respecializes_on_new_argument_types(space, rng):
    """The same workunit called with float64, float32 and int32 arrays gives the right answer each time."""
    n = 11
    for dtype in (np.float64, np.float32, np.int32, np.float64):
        src = (rng.standard_normal(n) * 100).astype(dtype)
        dst = np.zeros(n, dtype=dtype)
        pk.parallel_for(pk.RangePolicy(space, 0, n), copy, src=src, dst=dst)
        np.testing.assert_array_equal(dst, src)


def test_for_scalar_argument_kinds(space):
    """Python int/float/bool and NumPy scalars are all accepted as scalar arguments."""
    out = np.zeros(4)
    for value, expected in [
        (3, 3.0),
        (2.5, 2.5),
        (True, 1.0),
        (np.float32(0.25), 0.25),
        (np.int16(-4), -4.0),
    ]:
        pk.parallel_for(pk.RangePolicy(space, 0, 4), fill_const, out=out, value=value)
        np.testing.assert_array_equal(out, np.full(4, expected))


def test_fence_is_callable(space):
    out = np.zeros(5)
    pk.parallel_for(pk.RangePolicy(space, 0, 5), fill_const, out=out, value=1.0)
    assert pk.fence() is None
    np.testing.assert_array_equal(out, np.ones(5))


# -------------------------------------------------------------------------------------------- parallel_reduce


@pytest.mark.parametrize("n", [0, 1, 7, 1000])
def test_reduce_dot_sizes(space, rng, n):
    x = rng.standard_normal(n)
    y = rng.standard_normal(n)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, n), dot, x=x, y=y)
    assert result == pytest.approx(float(np.dot(x, y)), rel=1e-12, abs=1e-12)


def test_reduce_large_odd_size(compiled_space, rng):
    n = 1_000_003
    x = rng.random(n)
    y = rng.random(n)
    result = pk.parallel_reduce(pk.RangePolicy(compiled_space, 0, n), dot, x=x, y=y)
    assert result == pytest.approx(float(np.dot(x, y)), rel=1e-10)


def test_reduce_without_arguments_and_begin_offset(space):
    # sum of i for i in [5, 105)
    result = pk.parallel_reduce(pk.RangePolicy(space, 5, 105), count_up)
    assert result == sum(range(5, 105))


def test_reduce_empty_range_is_zero(space):
    assert pk.parallel_reduce(pk.RangePolicy(space, 3, 3), count_up) == 0


def test_reduce_label_and_int_policy(space, default_space, rng):
    default_space(space)
    x = rng.standard_normal(50)
    y = rng.standard_normal(50)
    a = pk.parallel_reduce("dot", 50, dot, x=x, y=y)
    b = pk.parallel_reduce(50, dot, x=x, y=y)
    assert a == pytest.approx(float(np.dot(x, y)), rel=1e-12)
    assert b == pytest.approx(a, rel=1e-12)


def test_reduce_result_is_a_python_number(space):
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 10), count_up)
    assert type(result) is int  # no annotation, no initial value, only ints added: int64 (issue 17 item 2)
    assert result == 45


def test_reduce_repeated_calls_are_consistent(space, rng):
    x = rng.random(200)
    first = pk.parallel_reduce(pk.RangePolicy(space, 0, 200), dot, x=x, y=x)
    for _ in range(5):
        assert pk.parallel_reduce(pk.RangePolicy(space, 0, 200), dot, x=x, y=x) == pytest.approx(first, rel=1e-13)


# ---------------------------------------------------------------------------------------------- parallel_scan


def test_scan_returns_total_and_writes_prefix(space, rng):
    n = 101
    x = rng.standard_normal(n)
    out = np.zeros(n)
    total = pk.parallel_scan(pk.RangePolicy(space, 0, n), inclusive_sum, x=x, out=out)
    np.testing.assert_allclose(out, np.cumsum(x), rtol=1e-12, atol=1e-12)
    assert total == pytest.approx(float(np.sum(x)), rel=1e-12, abs=1e-12)


def test_scan_label_and_int_policy(space, default_space):
    default_space(space)
    x = np.arange(10, dtype=np.float64)
    out = np.zeros(10)
    total = pk.parallel_scan("scan", 10, inclusive_sum, x=x, out=out)
    np.testing.assert_array_equal(out, np.cumsum(x))
    assert total == 45.0
