"""Bad policies raise pk.KernelValueError (a ValueError) -- or pk.KernelTypeError for a policy of the wrong
kind -- located at the user's line (the policy is built and launched on one line here, so the line is
unambiguous)."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk


@pk.workunit
def one_d(i, out):
    out[i] = 1.0


@pk.workunit
def two_d(i, j, out):
    out[i, j] = 1.0


def test_end_before_begin(space, check_error):
    out = np.zeros(8)
    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.RangePolicy(space, 5, 2), one_d, out=out)  # E:endbegin
    check_error(ei, pk.KernelValueError, "endbegin")
    assert (out == 0).all()


def test_negative_n(space, check_error, default_space):
    default_space(space)
    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(-3, one_d, out=np.zeros(4))  # E:negn
    check_error(ei, pk.KernelValueError, "negn")


def test_negative_n_reduce(space, check_error, default_space):
    default_space(space)

    @pk.workunit
    def s(i, acc):
        acc += i

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_reduce(-1, s)  # E:negnr
    check_error(ei, pk.KernelValueError, "negnr")


def test_float_n_is_a_type_error(space, check_error, default_space):
    default_space(space)
    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(3.5, one_d, out=np.zeros(4))  # E:floatn
    check_error(ei, TypeError, "floatn")


def test_mdrange_rank_1(space, check_error):
    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.MDRangePolicy(space, [0], [4]), one_d, out=np.zeros(4))  # E:rank1
    check_error(ei, pk.KernelValueError, "rank1", mentions=["rank"])


def test_mdrange_rank_7(space, check_error):
    @pk.workunit
    def seven(i, j, k, l, m, n, o, out):
        out[0] = 1.0

    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.MDRangePolicy(space, [0] * 7, [2] * 7), seven, out=np.zeros(1))  # E:rank7
    check_error(ei, pk.KernelValueError, "rank7", mentions=["rank"])


def test_mdrange_mismatched_lengths(space, check_error):
    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.MDRangePolicy(space, [0, 0], [2, 2, 2]), two_d, out=np.zeros((2, 2)))  # E:mismatch
    check_error(ei, pk.KernelValueError, "mismatch")


def test_mdrange_mismatched_tile(space, check_error):
    out = np.zeros((2, 2))
    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.MDRangePolicy(space, [0, 0], [2, 2], tile=[2]), two_d, out=out)  # E:tile
    check_error(ei, pk.KernelValueError, "tile", mentions=["tile"])


def test_mdrange_nonpositive_tile(space, check_error):
    out = np.zeros((2, 2))
    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.MDRangePolicy(space, [0, 0], [2, 2], tile=[0, 2]), two_d, out=out)  # E:tile0
    check_error(ei, pk.KernelValueError, "tile0", mentions=["tile"])


def test_mdrange_end_before_begin(space, check_error):
    with pytest.raises(pk.KernelError) as ei:
        pk.parallel_for(pk.MDRangePolicy(space, [0, 3], [2, 1]), two_d, out=np.zeros((4, 4)))  # E:mdend
    check_error(ei, pk.KernelValueError, "mdend")
