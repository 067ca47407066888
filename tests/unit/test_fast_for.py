"""parallel_for's C fast path (runtime/native/fastpath.c) against the Python path it stands in for.

The C path takes a RangePolicy of an explicit space (or an int on a known default space), a Workunit with a
compiled spec, no graph and no profiler; everything else must reach the Python parallel_for, the launcher's slow
path or its error locating, with the same results and errors. `hits` counts the calls the C path launched.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import kernelkit as pk
from kernelkit import config

fast = pk.parallel_for.__wrapped__  # the clean wrapper's target: the fast_for object


@pk.workunit
def triad(i, a, b, c, s):
    a[i] = b[i] + s * c[i]


@pk.workunit
def past_the_end(i, a):
    a[i + 1] = 1.0


def data(n, dtype=np.float64):
    return np.zeros(n, dtype), np.arange(n, dtype=dtype), np.full(n, 2, dtype)


def hits_of(fn):
    before = fast.hits
    fn()
    return fast.hits - before


@pytest.mark.parametrize("host", [pk.Serial, pk.OpenMP], ids=["serial", "openmp"])
@pytest.mark.parametrize("n", [0, 1, 7, 1000, 4099])
def test_results_match_numpy_and_debug_and_the_c_path_runs(host, n):
    a, b, c = data(n)
    pk.parallel_for("t", pk.RangePolicy(host, 0, n), triad, a=a, b=b, c=c, s=3.0)  # first: the slow path builds
    a[:] = 0
    taken = hits_of(lambda: pk.parallel_for("t", pk.RangePolicy(host, 0, n), triad, a=a, b=b, c=c, s=3.0))
    assert taken == 1
    np.testing.assert_array_equal(a, b + 3.0 * c)
    d = np.zeros(n)
    pk.parallel_for(pk.RangePolicy(pk.Debug, 0, n), triad, a=d, b=b, c=c, s=3.0)
    np.testing.assert_array_equal(a, d)


def test_subranges_labels_and_positional_forms():
    n = 50
    a, b, c = data(n)
    pol = pk.RangePolicy(pk.Serial, 10, 20)
    pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
    a[:] = 0
    assert hits_of(lambda: pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)) == 1  # no label
    assert hits_of(lambda: pk.parallel_for(None, pol, triad, a=a, b=b, c=c, s=1.0)) == 1  # label None
    expect = np.zeros(n)
    expect[10:20] = b[10:20] + c[10:20]
    np.testing.assert_array_equal(a, expect)
    # positional kernel arguments are the Python path's
    a[:] = 0
    assert hits_of(lambda: pk.parallel_for("x", pol, triad, a, b, c, 1.0)) == 0
    np.testing.assert_array_equal(a, expect)


def test_an_int_policy_on_the_default_space_and_in_a_space_scope():
    from kernelkit.api.spaces import space_scope

    n = 33
    a, b, c = data(n)
    previous = pk.get_default_space()
    pk.set_default_space(pk.Serial)
    try:
        pk.parallel_for(n, triad, a=a, b=b, c=c, s=2.0)
        a[:] = 0
        assert hits_of(lambda: pk.parallel_for(n, triad, a=a, b=b, c=c, s=2.0)) == 1
        np.testing.assert_array_equal(a, b + 2.0 * c)
        # a thread's scope wins over the process default: the Python path resolves it
        a[:] = 0
        with space_scope(pk.OpenMP):
            assert hits_of(lambda: pk.parallel_for(n, triad, a=a, b=b, c=c, s=2.0)) == 0
        assert pk.OpenMP.backend.spec_key in triad._specs
        np.testing.assert_array_equal(a, b + 2.0 * c)
        assert hits_of(lambda: pk.parallel_for(0, triad, a=a, b=b, c=c, s=2.0)) == 1  # an empty range
        with pytest.raises(pk.KernelValueError):
            pk.parallel_for(-1, triad, a=a, b=b, c=c, s=2.0)
        assert hits_of(lambda: pk.parallel_for(True, triad, a=a, b=b, c=c, s=2.0)) == 0  # bool: not an int here
    finally:
        pk.set_default_space(previous)


def test_new_argument_types_take_the_slow_path_then_the_c_path():
    n = 20
    pol = pk.RangePolicy(pk.Serial, 0, n)
    a, b, c = data(n)
    pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
    ai, bi, ci = data(n, np.int32)
    assert hits_of(lambda: pk.parallel_for(pol, triad, a=ai, b=bi, c=ci, s=2)) == 1  # NotImplemented -> slow
    np.testing.assert_array_equal(ai, bi + 2 * ci)
    ai[:] = 0
    assert hits_of(lambda: pk.parallel_for(pol, triad, a=ai, b=bi, c=ci, s=2)) == 1  # now its own spec
    np.testing.assert_array_equal(ai, bi + 2 * ci)


def test_views_and_subviews():
    n = 64
    a = pk.View([n], pk.double)
    b = pk.View([n], pk.double)
    c = pk.View([n], pk.double)
    b[:] = np.arange(n)
    c[:] = 1.0
    pol = pk.RangePolicy(pk.OpenMP, 0, n)
    pk.parallel_for(pol, triad, a=a, b=b, c=c, s=5.0)
    assert hits_of(lambda: pk.parallel_for(pol, triad, a=a, b=b, c=c, s=5.0)) == 1
    np.testing.assert_array_equal(np.asarray(a), np.arange(n) + 5.0)
    half = pk.subview(a, slice(0, n // 2))
    pk.parallel_for(pk.RangePolicy(pk.OpenMP, 0, n // 2), triad, a=half, b=b, c=c, s=-1.0)
    np.testing.assert_array_equal(np.asarray(a)[: n // 2], np.arange(n // 2) - 1.0)
    np.testing.assert_array_equal(np.asarray(a)[n // 2 :], np.arange(n // 2, n) + 5.0)


def test_bad_input_raises_the_same_located_errors():
    a, b, c = data(8)
    pol = pk.RangePolicy(pk.Serial, 0, 8)
    pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
    with pytest.raises(pk.KernelValueError) as e:
        pk.parallel_for(pk.RangePolicy(pk.Serial, 5, 2), triad, a=a, b=b, c=c, s=1.0)
    assert "before begin" in str(e.value) and e.value.loc is not None and e.value.loc.file == __file__
    bent = pk.RangePolicy(pk.Serial, 0, 8)
    bent.end = 2
    bent.begin = 5  # past the constructor's check: the launch record's
    with pytest.raises(pk.KernelValueError) as e:
        pk.parallel_for(bent, triad, a=a, b=b, c=c, s=1.0)
    assert "before its begin" in str(e.value) and e.value.loc is not None and e.value.loc.file == __file__
    bent.end = 1 << 70  # past int64
    with pytest.raises(pk.KernelValueError, match="64-bit"):
        pk.parallel_for(bent, triad, a=a, b=b, c=c, s=1.0)
    with pytest.raises(pk.KernelTypeError):
        pk.parallel_for(pol, triad, a=a, b=b, c="three", s=1.0)
    with pytest.raises(pk.KernelError):
        pk.parallel_for(pol, triad, a=a, b=b, s=1.0)  # a missing argument
    with pytest.raises(pk.KernelTypeError):
        pk.parallel_for(pol)
    with pytest.raises(pk.KernelTypeError):
        pk.parallel_for(3.5, triad, a=a, b=b, c=c, s=1.0)


def test_a_kernel_runtime_error_is_located_on_the_c_path_too():
    a = np.zeros(8)
    pol = pk.RangePolicy(pk.Serial, 0, 8)
    with config.override(bounds_check=True):
        for attempt in range(2):  # the first builds (slow path), the second is the C path's
            before = fast.hits
            with pytest.raises(pk.KernelRuntimeError) as e:
                pk.parallel_for(pol, past_the_end, a=a)
            msg = str(e.value)
            assert "past_the_end" in msg and "index 8" in msg and __file__.split("/")[-1] in msg
            assert fast.hits - before == attempt
            assert e.value.__suppress_context__ and e.value.__cause__ is None


def test_a_graph_recording_and_the_profiler_take_the_python_path():
    n = 16
    a, b, c = data(n)
    pol = pk.RangePolicy(pk.Serial, 0, n)
    pk.parallel_for(pol, triad, a=a, b=b, c=c, s=1.0)
    a[:] = 0
    with pk.graph() as g:
        assert hits_of(lambda: pk.parallel_for(pol, triad, a=a, b=b, c=c, s=4.0)) == 0
    g.launch()
    np.testing.assert_array_equal(a, b + 4.0 * c)
    with pk.profile() as prof:
        assert hits_of(lambda: pk.parallel_for("profiled", pol, triad, a=a, b=b, c=c, s=4.0)) == 0
    assert "profiled" in prof.report()


def test_subclassed_policies_and_plain_functions_take_the_python_path():
    class MyRange(pk.RangePolicy):
        __slots__ = ()

    n = 12
    a, b, c = data(n)
    pk.parallel_for(pk.RangePolicy(pk.Serial, 0, n), triad, a=a, b=b, c=c, s=1.0)
    a[:] = 0
    assert hits_of(lambda: pk.parallel_for(MyRange(pk.Serial, 0, n), triad, a=a, b=b, c=c, s=3.0)) == 0
    np.testing.assert_array_equal(a, b + 3.0 * c)


def test_it_still_looks_like_parallel_for():
    assert pk.parallel_for.__name__ == "parallel_for"
    assert "Run `workunit(i, **kwargs)`" in pk.parallel_for.__doc__
    assert list(inspect.signature(pk.parallel_for).parameters) == ["args", "kwargs"]
