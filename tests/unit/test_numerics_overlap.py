"""Overlapping arguments (issue 17 item 5): two subviews of one buffer, one written, give Debug's answer on every
host space (the launch runs an in-order build), never a silently different vectorized one; on a GPU they are
refused with a clear error. The same array passed twice is not an overlap."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk


@pk.workunit
def _shift_add(i, a, b):
    b[i] = a[i] + 1.0


@pk.workunit
def _carry(i, x):
    if i > 0:
        x[i] = x[i - 1] + 1.0


def _reference(n: int) -> np.ndarray:
    buf = np.zeros(n + 1)
    for i in range(n):
        buf[i + 1] = buf[i] + 1.0  # b = buf[1:], a = buf[:-1], in index order
    return buf


def _host_spaces():
    return [pk.Debug, pk.Serial, pk.OpenMP]


@pytest.mark.parametrize("host_space", _host_spaces(), ids=lambda s: str(s).split(".")[-1])
@pytest.mark.parametrize("kind", ["numpy", "view"])
def test_overlapping_subviews_give_debugs_answer(host_space, kind):
    n = 1000
    buf = np.zeros(n + 1) if kind == "numpy" else pk.View([n + 1], pk.double)
    pk.parallel_for(pk.RangePolicy(host_space, 0, n), _shift_add, a=buf[:-1], b=buf[1:])
    np.testing.assert_array_equal(np.asarray(buf), _reference(n))


@pytest.mark.parametrize("in_order", [pk.Debug, pk.Serial], ids=["Debug", "Serial"])
def test_a_kernel_reading_other_iterations_elements_runs_in_order(in_order):
    """`x[i] = x[i - 1] + 1` through one argument: never simd lanes (they would read stale elements). (On
    OpenMP the iterations of a parallel_for run on several threads at once: such a kernel races there.)"""
    x = np.zeros(1000)
    pk.parallel_for(pk.RangePolicy(in_order, 0, 1000), _carry, x=x)
    np.testing.assert_array_equal(x, np.arange(1000.0))


@pk.workunit
def _axpy(i, a, x, y):
    y[i] = a * x[i] + y[i]


def test_fast_path_checks_overlap_and_keeps_the_vectorized_build():
    """Apart, overlapping, the same array twice, apart again: each launch right, the vectorized build kept for
    the launches that allow it, the in-order one built once and then found by the native matcher."""
    n = 64
    wu = _axpy
    x, y = np.ones(n), np.zeros(n)
    pk.parallel_for(pk.RangePolicy(pk.Serial, 0, n), wu, a=2.0, x=x, y=y)
    assert y.tolist() == [2.0] * n
    buf = np.zeros(n + 1)
    for _ in range(2):  # the second time through the fast path
        buf[:] = 0.0
        buf[0] = 1.0
        pk.parallel_for(pk.RangePolicy(pk.Serial, 0, n), wu, a=1.0, x=buf[:-1], y=buf[1:])
        assert buf.tolist() == [1.0] * (n + 1)  # y[i] = x[i] + y[i] in order: each element becomes 1
    same = np.ones(n)
    pk.parallel_for(pk.RangePolicy(pk.Serial, 0, n), wu, a=3.0, x=same, y=same)
    assert same.tolist() == [4.0] * n
    pk.parallel_for(pk.RangePolicy(pk.Serial, 0, n), wu, a=2.0, x=x, y=y)
    assert y.tolist() == [4.0] * n
    specs = wu._specs["serial"]
    assert sum(len(v) for v in specs.values()) == 2  # one vectorized, one in order


@pk.workunit
def _reduce_and_write(i, acc, a, b):
    b[i] = a[i] + 1.0
    acc += b[i]


@pytest.mark.parametrize("host_space", _host_spaces(), ids=lambda s: str(s).split(".")[-1])
def test_overlap_in_a_reduction(host_space):
    n = 500
    buf = np.zeros(n + 1)
    total = pk.parallel_reduce(pk.RangePolicy(host_space, 0, n), _reduce_and_write, a=buf[:-1], b=buf[1:])
    ref = _reference(n)
    np.testing.assert_array_equal(buf, ref)
    assert total == ref[1:].sum()


@pytest.mark.gpu
def test_overlap_is_refused_on_a_gpu():
    from kernelkit.backends.base import space_report

    if not any(d["name"] == "cuda" and d["available"] for d in space_report()):
        pytest.skip("needs a usable CUDA GPU")
    buf = pk.View([101], pk.double)
    with pytest.raises(pk.KernelValueError, match="overlap in memory"):
        pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, 100), _shift_add, a=buf[:-1], b=buf[1:])
