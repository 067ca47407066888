"""parallel_scan with Kokkos semantics: the workunit gets (i, acc, final, ...); writing out[i] = acc before
acc += v gives an exclusive scan, after it an inclusive one; the call returns the total."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk


@pk.workunit
def inclusive(i, acc, final, x, out):
    acc += x[i]
    if final:
        out[i] = acc


@pk.workunit
def exclusive(i, acc, final, x, out):
    if final:
        out[i] = acc
    acc += x[i]


@pk.workunit
def inclusive_int(i, acc: pk.Acc[pk.int64], final, x, out):
    acc += x[i]
    if final:
        out[i] = acc


@pk.workunit
def pykokkos_style(i: int, acc: pk.Acc[pk.double], last_pass: bool, x: pk.View1D[pk.double], out: pk.View1D[pk.double]):
    acc += x[i]
    if last_pass:
        out[i] = 2.0 * acc


@pk.workunit
def count_positive(i, acc: pk.Acc[pk.int64], final, x, out):
    if x[i] > 0:
        if final:
            out[i] = acc  # exclusive: the slot of each positive element in a compacted array
        acc += 1


@pk.workunit
def index_scan(i, acc, final, out):
    acc += i
    if final:
        out[i] = acc


@pytest.mark.parametrize("n", [0, 1, 2, 7, 1000])
def test_inclusive(space, rng, n):
    x = rng.standard_normal(n)
    out = np.full(n, np.nan)
    total = pk.parallel_scan(pk.RangePolicy(space, 0, n), inclusive, x=x, out=out)
    np.testing.assert_allclose(out, np.cumsum(x), rtol=1e-12, atol=1e-12)
    assert total == pytest.approx(float(x.sum()), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 7, 1000])
def test_exclusive(space, rng, n):
    x = rng.standard_normal(n)
    out = np.full(n, np.nan)
    total = pk.parallel_scan(pk.RangePolicy(space, 0, n), exclusive, x=x, out=out)
    expected = np.concatenate([[0.0], np.cumsum(x)[:-1]]) if n else np.zeros(0)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert total == pytest.approx(float(x.sum()), rel=1e-12, abs=1e-12)


def test_empty_scan_returns_zero(space):
    out = np.full(3, 7.0)
    total = pk.parallel_scan(pk.RangePolicy(space, 1, 1), inclusive, x=np.ones(3), out=out)
    assert total == 0
    np.testing.assert_array_equal(out, np.full(3, 7.0))


@pytest.mark.parametrize("n", [100_003, 1_000_003])
def test_large_exclusive_scan(compiled_space, n):
    x = np.arange(n, dtype=np.float64) % 5 - 2
    out = np.full(n, np.nan)
    total = pk.parallel_scan(pk.RangePolicy(compiled_space, 0, n), exclusive, x=x, out=out)
    np.testing.assert_array_equal(out, np.concatenate([[0.0], np.cumsum(x)[:-1]]))
    assert total == float(x.sum())


@pytest.mark.parametrize("n", [100_003, 1_000_003])
def test_large_scan_many_threads(compiled_space, n):
    x = np.arange(n, dtype=np.int64) % 7 - 3
    out = np.zeros(n, dtype=np.int64)
    total = pk.parallel_scan(pk.RangePolicy(compiled_space, 0, n), inclusive_int, x=x, out=out)
    np.testing.assert_array_equal(out, np.cumsum(x))
    assert int(total) == int(x.sum())


def test_integer_accumulator_is_exact(space):
    x = np.array([2**60, 2**53 + 1, 3, -(2**50), 9], dtype=np.int64)
    out = np.zeros(5, dtype=np.int64)
    total = pk.parallel_scan(pk.RangePolicy(space, 0, 5), inclusive_int, x=x, out=out)
    np.testing.assert_array_equal(out, np.cumsum(x))
    assert isinstance(total, (int, np.integer)) and int(total) == int(x.sum())


def test_scan_begin_offset(space, rng):
    n = 40
    x = rng.standard_normal(n)
    out = np.full(n, np.nan)
    total = pk.parallel_scan(pk.RangePolicy(space, 5, 31), inclusive, x=x, out=out)
    expected = np.full(n, np.nan)
    expected[5:31] = np.cumsum(x[5:31])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert total == pytest.approx(float(x[5:31].sum()), rel=1e-12)


def test_scan_float32_data(space, rng):
    x = rng.random(300).astype(np.float32)
    out = np.zeros(300, dtype=np.float32)
    total = pk.parallel_scan(pk.RangePolicy(space, 0, 300), inclusive, x=x, out=out)
    np.testing.assert_allclose(out, np.cumsum(x.astype(np.float64)), rtol=1e-5)
    assert total == pytest.approx(float(x.astype(np.float64).sum()), rel=1e-5)


def test_pykokkos_style_annotations_and_names(space, rng):
    x = rng.standard_normal(64)
    out = np.zeros(64)
    total = pk.parallel_scan(pk.RangePolicy(space, 0, 64), pykokkos_style, x=x, out=out)
    np.testing.assert_allclose(out, 2.0 * np.cumsum(x), rtol=1e-12, atol=1e-12)
    assert total == pytest.approx(float(x.sum()), rel=1e-12)


def test_stream_compaction(space, rng, kk):
    n = kk.size(space, 50_001, 999)
    x = rng.integers(-3, 4, n)
    slots = np.full(n, -1, dtype=np.int64)
    count = pk.parallel_scan(pk.RangePolicy(space, 0, n), count_positive, x=x, out=slots)
    positive = x > 0
    assert int(count) == int(positive.sum())
    np.testing.assert_array_equal(slots[positive], np.arange(positive.sum()))
    assert (slots[~positive] == -1).all()


def test_scan_without_data_arguments(space, default_space):
    default_space(space)
    out = np.zeros(20)
    total = pk.parallel_scan(20, index_scan, out=out)
    np.testing.assert_array_equal(out, np.cumsum(np.arange(20)))
    assert total == 190
