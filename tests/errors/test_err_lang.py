"""Kernel-language objects used where they mean nothing raise a located KernelError: a nested range outside a
nested pattern, a NumPy scalar type the kernel language has no type for, a reducer called like a function."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk


def test_nested_range_on_its_own(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(team, out):
            pk.TeamThreadRange(team, 4)  # E:range

        pk.parallel_for(pk.TeamPolicy(space, 1, 1), k, out=np.zeros(1))
    check_error(ei, pk.KernelSyntaxError, "range", mentions=["TeamThreadRange", "nested"])


def test_numpy_scalar_type_without_kernel_type(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            out[i] = np.float16(i)  # E:f16

        pk.parallel_for(pk.RangePolicy(space, 0, 2), k, out=np.zeros(2))
    check_error(ei, pk.KernelTypeError, "f16", mentions=["float16", "cannot be called"])


def test_reducer_is_not_callable(space, check_error):
    with pytest.raises(pk.KernelError) as ei:

        @pk.workunit
        def k(i, out):
            out[i] = pk.Max(i)  # E:red

        pk.parallel_for(pk.RangePolicy(space, 0, 2), k, out=np.zeros(2))
    check_error(ei, pk.KernelTypeError, "red", mentions=["Max", "cannot be called"])
