"""Subviews inside kernels (the Kokkos tutorial's subview exercise) and positional kernel arguments."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk


@pk.function
def row_dot(r, x):
    s = 0.0
    for k in range(r.extent(0)):
        s += r[k] * x[k]
    return s


@pk.workunit
def yax_rows(j, acc, y, A, x):
    A_row = A[j, :]
    acc += y[j] * row_dot(A_row, x)


@pk.workunit
def scale_column(j, A):
    col = pk.subview(A, pk.ALL, j)
    for i in range(col.extent(0)):
        col[i] *= 2.0
    mid = A[1:3, j]
    mid[0] += 100.0


@pk.workunit
def block_sum(b, acc, A, w):
    blk = A[b * w : (b + 1) * w, :]
    for i in range(blk.extent(0)):
        for k in range(blk.extent(1)):
            acc += blk[i, k]


@pk.workunit
def axpy(i, a, x, y):
    y[i] += a * x[i]


@pk.workunit
def dot(i, acc, x, y):
    acc += x[i] * y[i]


@pk.workunit
def cumsum(i, acc, final, x, out):
    acc += x[i]
    if final:
        out[i] = acc


@pytest.mark.parametrize("layout", ["C", "F"])
def test_row_subview_in_a_device_function(space, rng, layout):
    y, x = rng.random(7), rng.random(5)
    A = np.asarray(rng.random((7, 5)), order=layout)
    r = pk.parallel_reduce(pk.RangePolicy(space, 0, 7), yax_rows, y=y, A=A, x=x)
    assert r == pytest.approx(y @ A @ x, rel=1e-12)


def test_column_and_range_subviews_write_through(space, rng):
    A = rng.random((5, 4))
    ref = A * 2
    ref[1, :] += 100.0
    pk.parallel_for(pk.RangePolicy(space, 0, 4), scale_column, A=A)
    np.testing.assert_allclose(A, ref)


def test_two_dimensional_block_subview(space, rng):
    A = rng.random((12, 3))
    r = pk.parallel_reduce(pk.RangePolicy(space, 0, 4), block_sum, A=A, w=3)
    assert r == pytest.approx(A.sum(), rel=1e-12)


def test_assigning_to_a_slice_is_a_clear_error(space):
    @pk.workunit
    def bad(i, A):
        A[i, :] = 0.0

    with pytest.raises(pk.KernelSyntaxError, match="slice"):
        pk.parallel_for(pk.RangePolicy(space, 0, 2), bad, A=np.zeros((2, 2)))


def test_positional_kernel_arguments(space):
    x, y = np.ones(9), np.zeros(9)
    pk.parallel_for(pk.RangePolicy(space, 0, 9), axpy, 2.0, x, y)
    pk.parallel_for("labelled", pk.RangePolicy(space, 0, 9), axpy, 1.0, x=x, y=y)
    assert (y == 3.0).all()
    assert pk.parallel_reduce(pk.RangePolicy(space, 0, 9), dot, x, y) == 27.0
    assert pk.parallel_reduce(pk.RangePolicy(space, 0, 9), dot, x, y, initial_value=1.0) == 28.0
    out = np.zeros(9)
    assert pk.parallel_scan(pk.RangePolicy(space, 0, 9), cumsum, x, out) == 9.0
    assert (out == np.arange(1, 10)).all()


def test_too_many_or_doubled_positional_arguments(space):
    x, y = np.ones(3), np.zeros(3)
    with pytest.raises(pk.KernelTypeError, match="3 kernel argument"):
        pk.parallel_for(pk.RangePolicy(space, 0, 3), axpy, 1.0, x, y, y)
    with pytest.raises(pk.KernelTypeError, match="both positionally and by keyword"):
        pk.parallel_for(pk.RangePolicy(space, 0, 3), axpy, 1.0, x, y, a=2.0)
