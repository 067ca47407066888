"""Policies: an int N, RangePolicy([space,] begin, end), MDRangePolicy([space,] begin, end, tile=) ranks 2-6;
spaces, the default space and the thread count."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import kernelkit as pk


@pk.workunit
def mark_offset(i, out, base):
    out[i - base] = i


@pk.workunit
def mark_count(i, counts):
    counts[i] += 1


@pk.workunit
def md2(i, j, out):
    out[i, j] = 10 * i + j


@pk.workunit
def md3(i, j, k, out):
    out[i, j, k] = 100 * i + 10 * j + k


@pk.workunit
def md4(i, j, k, l, out):
    out[i, j, k, l] = 1000 * i + 100 * j + 10 * k + l


@pk.workunit
def md5(i, j, k, l, m, out):
    out[i, j, k, l, m] = 10000 * i + 1000 * j + 100 * k + 10 * l + m


@pk.workunit
def md6(i, j, k, l, m, n, out):
    out[i, j, k, l, m, n] = 100000 * i + 10000 * j + 1000 * k + 100 * l + 10 * m + n


@pk.workunit
def md2_count(i, j, counts):
    counts[i, j] += 1


@pk.workunit
def md2_reduce(i, j, acc, a):
    acc += a[i, j] * (i + 1) - j


@pk.workunit
def md3_reduce(i, j, k, acc, a):
    acc += a[i, j, k]


MD_KERNELS = {2: md2, 3: md3, 4: md4, 5: md5, 6: md6}


def md_expected(shape, begin):
    out = np.full(shape, -1, dtype=np.int64)
    rank = len(shape)
    for idx in itertools.product(*(range(b, e) for b, e in zip(begin, shape, strict=True))):
        out[idx] = sum(v * 10 ** (rank - 1 - d) for d, v in enumerate(idx))
    return out


# ------------------------------------------------------------------------------------------------ RangePolicy


def test_int_policy_uses_default_space(space, default_space):
    default_space(space)
    assert pk.get_default_space() == space
    counts = np.zeros(17, dtype=np.int64)
    pk.parallel_for(17, mark_count, counts=counts)
    np.testing.assert_array_equal(counts, np.ones(17))


def test_range_policy_without_space_uses_default(space, default_space):
    default_space(space)
    counts = np.zeros(10, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(2, 8), mark_count, counts=counts)
    expected = np.zeros(10, dtype=np.int64)
    expected[2:8] = 1
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize("begin,end", [(0, 0), (0, 1), (5, 6), (1, 8), (13, 1013), (999, 1000)])
def test_range_policy_visits_each_index_once(space, begin, end):
    counts = np.zeros(end + 3, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, begin, end), mark_count, counts=counts)
    expected = np.zeros(end + 3, dtype=np.int64)
    expected[begin:end] = 1
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize("base", [2**31 - 3, 2**32 + 5, 3 * 2**40 + 1])
def test_range_policy_indices_beyond_int32(space, base):
    """Indices above 2**31 must reach the kernel intact (64-bit index arithmetic)."""
    n = 9
    out = np.zeros(n, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, base, base + n), mark_offset, out=out, base=base)
    np.testing.assert_array_equal(out, np.arange(base, base + n, dtype=np.int64))


def test_range_policy_accepts_numpy_integers(space):
    counts = np.zeros(6, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, np.int32(1), np.int64(5)), mark_count, counts=counts)
    np.testing.assert_array_equal(counts, [0, 1, 1, 1, 1, 0])


def test_every_index_once_under_many_threads(compiled_space):
    n = 100_003
    counts = np.zeros(n, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(compiled_space, 0, n), mark_count, counts=counts)
    assert counts.min() == 1 and counts.max() == 1


# ---------------------------------------------------------------------------------------------- MDRangePolicy


@pytest.mark.parametrize("rank", [2, 3, 4, 5, 6])
def test_mdrange_ranks(space, rank):
    shape = [3, 4, 2, 3, 2, 2][:rank]
    out = np.full(shape, -1, dtype=np.int64)
    pk.parallel_for(pk.MDRangePolicy(space, [0] * rank, shape), MD_KERNELS[rank], out=out)
    np.testing.assert_array_equal(out, md_expected(shape, [0] * rank))


@pytest.mark.parametrize("rank", [2, 3, 4, 5, 6])
def test_mdrange_ranks_with_offsets_and_tiles(space, rank):
    shape = [5, 4, 3, 4, 3, 3][:rank]
    begin = [1, 0, 2, 1, 0, 1][:rank]
    tile = [2, 3, 2, 2, 2, 1][:rank]  # tiles that do not divide the extents
    out = np.full(shape, -1, dtype=np.int64)
    pk.parallel_for(pk.MDRangePolicy(space, begin, shape, tile=tile), MD_KERNELS[rank], out=out)
    np.testing.assert_array_equal(out, md_expected(shape, begin))


@pytest.mark.parametrize("tile", [None, [1, 1], [4, 4], [64, 2], [7, 5]])
def test_mdrange_rank2_each_point_once(space, tile, kk):
    shape = (kk.size(space, 61, 13), kk.size(space, 67, 11))
    counts = np.zeros(shape, dtype=np.int64)
    if tile is None:
        policy = pk.MDRangePolicy(space, [0, 0], list(shape))
    else:
        policy = pk.MDRangePolicy(space, [0, 0], list(shape), tile=tile)
    pk.parallel_for(policy, md2_count, counts=counts)
    np.testing.assert_array_equal(counts, np.ones(shape, dtype=np.int64))


def test_mdrange_empty_dimension(space):
    counts = np.zeros((4, 4), dtype=np.int64)
    pk.parallel_for(pk.MDRangePolicy(space, [0, 2], [4, 2]), md2_count, counts=counts)
    pk.parallel_for(pk.MDRangePolicy(space, [3, 0], [3, 4]), md2_count, counts=counts)
    np.testing.assert_array_equal(counts, np.zeros((4, 4), dtype=np.int64))


def test_mdrange_single_point(space):
    counts = np.zeros((4, 5), dtype=np.int64)
    pk.parallel_for(pk.MDRangePolicy(space, [2, 3], [3, 4]), md2_count, counts=counts)
    expected = np.zeros((4, 5), dtype=np.int64)
    expected[2, 3] = 1
    np.testing.assert_array_equal(counts, expected)


def test_mdrange_default_space(space, default_space):
    default_space(space)
    out = np.full((2, 3), -1, dtype=np.int64)
    pk.parallel_for(pk.MDRangePolicy([0, 0], [2, 3]), md2, out=out)
    np.testing.assert_array_equal(out, md_expected((2, 3), (0, 0)))


def test_mdrange_reduce_rank2(space, rng):
    a = rng.standard_normal((13, 7))
    result = pk.parallel_reduce(pk.MDRangePolicy(space, [1, 2], [13, 7], tile=[4, 2]), md2_reduce, a=a)
    i = np.arange(13)[:, None]
    j = np.arange(7)[None, :]
    expected = (a * (i + 1) - j)[1:, 2:].sum()
    assert result == pytest.approx(float(expected), rel=1e-12)


def test_mdrange_reduce_rank3(space, rng):
    a = rng.standard_normal((4, 5, 6))
    result = pk.parallel_reduce(pk.MDRangePolicy(space, [0, 0, 0], [4, 5, 6]), md3_reduce, a=a)
    assert result == pytest.approx(float(a.sum()), rel=1e-12)


# -------------------------------------------------------------------------------------------------- spaces


def test_space_objects_exist_and_are_distinct():
    spaces = [pk.Debug, pk.Serial, pk.OpenMP]
    assert len({id(s) for s in spaces}) == 3
    assert pk.Default is not None
    assert pk.Threads is pk.OpenMP or pk.Threads == pk.OpenMP


def test_threads_alias_runs():
    counts = np.zeros(100, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(pk.Threads, 0, 100), mark_count, counts=counts)
    np.testing.assert_array_equal(counts, np.ones(100))


def test_default_space_object_runs():
    counts = np.zeros(10, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(pk.Default, 0, 10), mark_count, counts=counts)
    np.testing.assert_array_equal(counts, np.ones(10))


def test_set_and_get_default_space_round_trip(space, default_space):
    default_space(space)
    assert pk.get_default_space() == space


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_num_threads(threads):
    old = pk.get_num_threads()
    try:
        pk.set_num_threads(threads)
        assert pk.get_num_threads() == threads
        n = 10_007
        counts = np.zeros(n, dtype=np.int64)
        pk.parallel_for(pk.RangePolicy(pk.OpenMP, 0, n), mark_count, counts=counts)
        np.testing.assert_array_equal(counts, np.ones(n))
        # more threads than iterations
        small = np.zeros(2, dtype=np.int64)
        pk.parallel_for(pk.RangePolicy(pk.OpenMP, 0, 2), mark_count, counts=small)
        np.testing.assert_array_equal(small, [1, 1])
    finally:
        pk.set_num_threads(old)
    assert pk.get_num_threads() == old
