"""Wrong, missing and extra keyword arguments; arrays of the wrong dtype or rank for annotated parameters;
workunits of the wrong shape for the pattern. pk.KernelTypeError, located at the workunit's definition or
at the launch (either is a good place for the person who wrote it), naming the parameter."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk


def test_missing_keyword_argument(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out, scale):  # E:def
            out[i] = scale

        pk.parallel_for(pk.RangePolicy(space, 0, 2), k, out=np.zeros(2))  # E:call
    check_error(ei, pk.KernelTypeError, ["def", "call"], mentions=["scale"])


def test_extra_keyword_argument(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):  # E:def2
            out[i] = 1.0

        pk.parallel_for(pk.RangePolicy(space, 0, 2), k, out=np.zeros(2), bogus_arg=1)  # E:call2
    check_error(ei, pk.KernelTypeError, ["def2", "call2"], mentions=["bogus_arg"])


def test_unsupported_argument_kind(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out, a):  # E:def3
            out[i] = a

        pk.parallel_for(pk.RangePolicy(space, 0, 2), k, out=np.zeros(2), a="hello")  # E:call3
    check_error(ei, pk.KernelTypeError, ["def3", "call3"], mentions=["a"])


def test_object_array_is_refused(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out, a):  # E:def4
            out[i] = a[i]

        bad = np.array([1, "x"], dtype=object)
        pk.parallel_for(pk.RangePolicy(space, 0, 2), k, out=np.zeros(2), a=bad)  # E:call4
    check_error(ei, pk.KernelTypeError, ["def4", "call4"], mentions=["a"])


def test_wrong_dtype_for_annotated_view(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, x: pk.View1D[pk.int32], out):  # E:def5
            out[i] = x[i]

        pk.parallel_for(pk.RangePolicy(space, 0, 2), k, x=np.zeros(2), out=np.zeros(2))  # E:call5
    check_error(ei, pk.KernelTypeError, ["def5", "call5"], mentions=["x", "int32"])


def test_wrong_rank_for_annotated_view(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, x: pk.View2D[pk.double], out):  # E:def6
            out[i] = x[i, 0]

        pk.parallel_for(pk.RangePolicy(space, 0, 2), k, x=np.zeros(2), out=np.zeros(2))  # E:call6
    check_error(ei, pk.KernelTypeError, ["def6", "call6"], mentions=["x"])


def test_float_for_annotated_int_parameter(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, n: int, out):  # E:def7
            out[i] = n

        pk.parallel_for(pk.RangePolicy(space, 0, 2), k, n=2.5, out=np.zeros(2))  # E:call7
    check_error(ei, pk.KernelTypeError, ["def7", "call7"], mentions=["n"])


def test_array_for_annotated_scalar_parameter(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, a: float, out):  # E:def8
            out[i] = a

        pk.parallel_for(pk.RangePolicy(space, 0, 2), k, a=np.zeros(2), out=np.zeros(2))  # E:call8
    check_error(ei, pk.KernelTypeError, ["def8", "call8"], mentions=["a"])


def test_reduce_with_a_workunit_lacking_an_accumulator(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, x):  # E:def9
            x[i] = 1.0

        pk.parallel_reduce(pk.RangePolicy(space, 0, 2), k, x=np.zeros(2))  # E:call9
    check_error(ei, pk.KernelTypeError, ["def9", "call9"], mentions=[("accumulator", "acc")])


def test_scan_with_a_workunit_lacking_final(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, acc, x):  # E:def10
            acc += x[i]

        pk.parallel_scan(pk.RangePolicy(space, 0, 2), k, x=np.zeros(2))  # E:call10
    check_error(ei, pk.KernelTypeError, ["def10", "call10"])


def test_mdrange_with_too_few_index_parameters(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):  # E:def11
            out[i] = 1.0

        pk.parallel_for(pk.MDRangePolicy(space, [0, 0], [2, 2]), k, out=np.zeros(2))  # E:call11
    check_error(ei, pk.KernelTypeError, ["def11", "call11"])


def test_undecorated_function_is_refused_or_runs(space):
    """A plain Python function is not a workunit: a clear KernelTypeError, or (if accepted) a correct run."""

    def plain(i, out):
        out[i] = 2.0

    out = np.zeros(3)
    try:
        pk.parallel_for(pk.RangePolicy(space, 0, 3), plain, out=out)
    except pk.KernelError as exc:
        assert isinstance(exc, TypeError)
        assert "plain" in str(exc) or "workunit" in str(exc)
    else:
        np.testing.assert_array_equal(out, np.full(3, 2.0))


def test_a_corrected_call_works_after_an_error(space):
    @pk.workunit
    def k(i, out, scale):
        out[i] = scale

    with pytest.raises(pk.KernelTypeError):
        pk.parallel_for(pk.RangePolicy(space, 0, 2), k, out=np.zeros(2))
    out = np.zeros(2)
    pk.parallel_for(pk.RangePolicy(space, 0, 2), k, out=out, scale=4.0)
    np.testing.assert_array_equal(out, [4.0, 4.0])
