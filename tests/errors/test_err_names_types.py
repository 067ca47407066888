"""Unknown names and type conflicts raise pk.KernelTypeError (a TypeError) located at the offending line."""

from __future__ import annotations

import math  # noqa: F401  (test_unknown_math_function's kernel refers to it)

import numpy as np
import pytest

import kernelkit as pk


def _run(space, wu, n=2, **kwargs):
    kwargs.setdefault("out", np.zeros(n))
    pk.parallel_for(pk.RangePolicy(space, 0, n), wu, **kwargs)


def test_unknown_name(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            out[i] = undefined_thing_xyz + 1  # E:name  # noqa: F821

        _run(space, k)
    check_error(ei, pk.KernelTypeError, "name", mentions=["undefined_thing_xyz"])


def test_unknown_function(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            out[i] = frobnicate(i)  # E:func  # noqa: F821

        _run(space, k)
    check_error(ei, pk.KernelTypeError, "func", mentions=["frobnicate"])


def test_unknown_math_function(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            out[i] = math.frobnicate(i)  # E:mathfunc

        _run(space, k)
    check_error(ei, pk.KernelTypeError, "mathfunc", mentions=["frobnicate"])


def test_unknown_pk_attribute(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            out[i] = pk.not_a_kernel_function(i)  # E:pkattr

        _run(space, k)
    check_error(ei, pk.KernelTypeError, "pkattr", mentions=["not_a_kernel_function"])


def test_unknown_view_method(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            out[i] = out.frobnicate(0)  # E:method

        _run(space, k)
    check_error(ei, pk.KernelTypeError, "method", mentions=["frobnicate"])


def test_int_local_assigned_a_float(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            t = 0
            t = 1.5  # E:conflict
            out[i] = t

        _run(space, k)
    check_error(ei, pk.KernelTypeError, "conflict", mentions=["t"])


def test_int_local_augmented_with_a_float(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            t = 0
            t += 0.5  # E:augconflict
            out[i] = t

        _run(space, k)
    check_error(ei, pk.KernelTypeError, "augconflict")


def test_view_where_a_scalar_is_expected(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, a, out):
            out[i] = a + 1  # E:viewscalar

        _run(space, k, a=np.zeros(2))  # E:viewscalar-call
    check_error(ei, pk.KernelTypeError, ["viewscalar", "viewscalar-call"])


def test_scalar_where_a_view_is_expected(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, a, out):
            out[i] = a[i]  # E:scalarview

        _run(space, k, a=3.0)  # E:scalarview-call
    check_error(ei, pk.KernelTypeError, ["scalarview", "scalarview-call"])


def test_too_many_indices(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            out[i, 0] = 1.0  # E:rank

        _run(space, k)
    check_error(ei, pk.KernelTypeError, "rank")


def test_too_few_indices_in_a_store(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            out[i] = 1.0  # E:rank2

        _run(space, k, out=np.zeros((2, 2)))
    check_error(ei, pk.KernelTypeError, "rank2")


def test_assigning_a_view_to_a_scalar_local(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, a, out):
            t = 1.0
            t = a  # E:viewlocal
            out[i] = t

        _run(space, k, a=np.zeros(2))
    check_error(ei, pk.KernelTypeError, "viewlocal")


def test_subscripting_a_scalar_local(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            t = 1.0
            out[i] = t[0]  # E:subscalar

        _run(space, k)
    check_error(ei, pk.KernelTypeError, "subscalar")


def test_wrong_number_of_function_arguments(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.function
        def two(a, b):
            return a + b

        @pk.workunit
        def k(i, out):
            out[i] = two(i)  # E:fargs

        _run(space, k)
    check_error(ei, pk.KernelTypeError, "fargs", mentions=["two"])
