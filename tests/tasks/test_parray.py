# ruff: noqa: B023 - spawn gives each body the loop variables of its own iteration (Parla's rule)
"""PArrays: a thin handle on one kernelkit View. Creation, element access, subarrays that share memory,
operators, update, batches, the View for kernels, and clone_here / copy."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.tasks import (
    PArray,
    TaskSpace,
    array,
    asarray,
    asarray_batch,
    clone_here,
    copy,
    cpu,
    gpu,
    parray,
    spawn,
)


def test_creation_and_element_access(parla):
    with parla():
        A = parray.asarray([[1, 2], [3, 4]])
        assert A[0, 1] == 2 and A[1, 0] == 3 and A[1, 1] == 4
        assert np.array_equal(A, np.asarray([[1, 2], [3, 4]]))
        assert A.shape == (2, 2) and len(A) == 2 and A.ndim == 2 and A.dtype == np.int64
        row = A[0]
        assert isinstance(row, PArray) and row.parent_ID == A.ID and row.ID != A.ID


def test_asarray_wraps_without_copying():
    a = np.arange(10.0)
    A = asarray(a)
    A[3] = -1.0
    assert a[3] == -1.0
    assert asarray(A) is A
    assert isinstance(A.view, pk.View)
    B = array(a)  # a copy
    B[0] = 99.0
    assert a[0] == 0.0
    C = asarray(a, dtype=np.float32)
    assert C.dtype == np.float32


def test_subarrays_share_memory_and_are_views():
    a = np.zeros((4, 6))
    A = asarray(a, name="A")
    s = A[1:3]
    assert isinstance(s.view, pk.View) and s.shape == (2, 6)
    s[0, 2] = 7.0
    assert a[1, 2] == 7.0
    assert s.nbytes == A.nbytes and s.subarray_nbytes == 2 * 6 * 8
    assert "A::subarray" in s.name
    assert np.array_equal(A[np.array([1])], a[[1]])  # an advanced index copies, as in NumPy


def test_operators_forward_to_the_array():
    x = asarray(np.array([1.0, 2.0, 3.0]))
    y = asarray(np.array([4.0, 5.0, 6.0]))
    assert x @ y == 32.0
    z = x + y
    assert isinstance(z, PArray) and np.array_equal(z, [5.0, 7.0, 9.0])
    assert np.array_equal(2 * x, [2.0, 4.0, 6.0])
    assert np.array_equal(-x, [-1.0, -2.0, -3.0])
    x += 1
    assert np.array_equal(x, [2.0, 3.0, 4.0])
    assert np.array_equal(x > 2.5, [False, True, True])
    assert float(asarray(np.array([2.5]))) == 2.5


def test_update_replaces_the_data(parla):
    A = asarray(np.zeros((2, 2)))
    with parla():

        @spawn(placement=gpu(1), inout=[A])
        def t():
            A.update(np.array([1, 2, 3, 4]))

    assert len(A) == 4 and A[-1] == 4
    with pytest.raises(ValueError, match="whole PArray"):
        A[0:2].update(np.zeros(2))


def test_asarray_batch_keeps_the_structure():
    a, (b, c) = asarray_batch(np.zeros(2), [np.ones(3), np.ones(4)])
    assert isinstance(a, PArray) and isinstance(b, PArray) and len(c) == 4
    d = asarray_batch({"k": [np.zeros(1)]})
    assert isinstance(d["k"][0], PArray)
    with pytest.raises(TypeError, match="asarray_batch"):
        asarray_batch(3)


def test_tasks_compute_with_the_array_and_kernels_with_the_view(parla):
    @pk.workunit
    def scale(i, x, s):
        x[i] *= s

    A = asarray(np.arange(8.0))
    with parla():
        T = TaskSpace("T")

        @spawn(T[0], placement=gpu(2), inout=[A])
        def on_gpu():
            A.array[:] += 1.0  # NumPy on a host-backed logical GPU (the View's host array)

        @spawn(T[1], placement=cpu, inout=[A], dependencies=[T[0]])
        def kernel():
            pk.parallel_for(A.shape[0], scale, x=A.view, s=2.0)

    assert np.array_equal(np.asarray(A), (np.arange(8.0) + 1) * 2)


def test_clone_here_and_copy(parla):
    src = np.arange(6.0)
    with parla():

        @spawn(placement=cpu)
        def t():
            b = clone_here(src)
            assert b is src  # on the host, as in Parla: nothing to move
            c = clone_here(asarray(src))
            out = np.zeros(6)
            copy(out, c)
            copy(out[0:2], 9.0)
            return out

        @spawn(placement=gpu(0))
        def g():
            return type(clone_here(src[1:5:2])).__name__

    assert np.array_equal(t.result, [9.0, 9.0, 2.0, 3.0, 4.0, 5.0])
    assert g.result in ("ndarray", "ndarray")  # CuPy only on a physical GPU
    with pytest.raises(ValueError, match="needs a running task"):
        clone_here(src)
    with pytest.raises(ValueError, match="copy"):
        copy(np.zeros(2), np.zeros(3))
