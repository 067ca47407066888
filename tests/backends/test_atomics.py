"""Atomics: pk.atomic_add(view, [i, ...], v), atomic_fetch_{add,sub,mul,div,min,max,and,or,xor} returning the
old value, atomic_compare_exchange(view, [i], expected, desired) returning the old value. Contention tests
send many iterations at the same element; integer results must be exact."""

from __future__ import annotations

import functools
import operator

import numpy as np
import pytest

import kernelkit as pk


@pk.workunit
def histogram(i, counts, nbins):
    pk.atomic_add(counts, [i % nbins], 1)


@pk.workunit
def histogram_2d(i, counts):
    pk.atomic_add(counts, [i % 3, i % 5], 1)


@pk.workunit
def add_halves(i, total):
    pk.atomic_add(total, [0], 0.5)


@pk.workunit
def ticket(i, counter, seen):
    old = pk.atomic_fetch_add(counter, [0], 1)
    seen[old] += 1


@pk.workunit
def ticket_down(i, counter, seen):
    old = pk.atomic_fetch_sub(counter, [0], 1)
    seen[old - 1] += 1


@pk.workunit
def fetch_ops_private(i, v, old):
    # each i owns row i: checks the returned old value of every op without contention
    old[i, 0] = pk.atomic_fetch_add(v, [i, 0], 5)
    old[i, 1] = pk.atomic_fetch_sub(v, [i, 1], 7)
    old[i, 2] = pk.atomic_fetch_mul(v, [i, 2], 3)
    old[i, 3] = pk.atomic_fetch_min(v, [i, 3], 10)
    old[i, 4] = pk.atomic_fetch_max(v, [i, 4], 10)
    old[i, 5] = pk.atomic_fetch_and(v, [i, 5], 0x0F0F)
    old[i, 6] = pk.atomic_fetch_or(v, [i, 6], 0x1010)
    old[i, 7] = pk.atomic_fetch_xor(v, [i, 7], 0x3333)


@pk.workunit
def fetch_div_private(i, v, old):
    old[i] = pk.atomic_fetch_div(v, [i], 4.0)


@pk.workunit
def contended_mul(i, v):
    pk.atomic_fetch_mul(v, [0], 2)


@pk.workunit
def contended_div(i, v):
    pk.atomic_fetch_div(v, [0], 2.0)


@pk.workunit
def contended_min_max(i, x, lo, hi, old_lo, old_hi):
    old_lo[i] = pk.atomic_fetch_min(lo, [0], x[i])
    old_hi[i] = pk.atomic_fetch_max(hi, [0], x[i])


@pk.workunit
def contended_bits(i, a, o, x):
    pk.atomic_fetch_and(a, [0], ~(1 << (i % 61)))
    pk.atomic_fetch_or(o, [0], 1 << (i % 61))
    pk.atomic_fetch_xor(x, [i % 4], (i * 2654435761) % 1048576)


@pk.workunit
def claim(i, owner, won):
    old = pk.atomic_compare_exchange(owner, [0], -1, i)
    if old == -1:
        won[i] = 1


@pk.workunit
def cas_increment(i, v):
    while True:
        old = v[0]
        if pk.atomic_compare_exchange(v, [0], old, old + 1) == old:
            break


@pk.workunit
def cas_private(i, v, old):
    old[i, 0] = pk.atomic_compare_exchange(v, [i, 0], i, 100 + i)  # succeeds: v[i, 0] == i
    old[i, 1] = pk.atomic_compare_exchange(v, [i, 1], -5, 200 + i)  # fails: v[i, 1] != -5


@pytest.fixture
def n_contended(kk, space):
    return kk.size(space, 200_000, 10_000)


def test_atomic_add_histogram(space, n_contended):
    for dtype in (np.int64, np.int32):
        counts = np.zeros(3, dtype=dtype)
        pk.parallel_for(pk.RangePolicy(space, 0, n_contended), histogram, counts=counts, nbins=3)
        np.testing.assert_array_equal(counts, np.bincount(np.arange(n_contended) % 3, minlength=3))


def test_atomic_add_single_hot_element(space, n_contended):
    counts = np.zeros(1, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n_contended), histogram, counts=counts, nbins=1)
    assert counts[0] == n_contended


def test_atomic_add_multi_index(space, n_contended):
    counts = np.zeros((3, 5), dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n_contended), histogram_2d, counts=counts)
    expected = np.zeros((3, 5), dtype=np.int64)
    np.add.at(expected, (np.arange(n_contended) % 3, np.arange(n_contended) % 5), 1)
    np.testing.assert_array_equal(counts, expected)


def test_atomic_add_float(space, n_contended):
    total = np.zeros(1)
    pk.parallel_for(pk.RangePolicy(space, 0, n_contended), add_halves, total=total)
    assert total[0] == 0.5 * n_contended  # exact: every partial sum is a multiple of 0.5 below 2**52


def test_fetch_add_returns_each_old_value_once(space, n_contended):
    counter = np.zeros(1, dtype=np.int64)
    seen = np.zeros(n_contended, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n_contended), ticket, counter=counter, seen=seen)
    assert counter[0] == n_contended
    np.testing.assert_array_equal(seen, np.ones(n_contended))


def test_fetch_sub_returns_each_old_value_once(space, n_contended):
    counter = np.array([n_contended], dtype=np.int64)
    seen = np.zeros(n_contended, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n_contended), ticket_down, counter=counter, seen=seen)
    assert counter[0] == 0
    np.testing.assert_array_equal(seen, np.ones(n_contended))


def test_every_fetch_op_returns_the_old_value(space, rng):
    n = 64
    v = rng.integers(-1000, 1000, (n, 8))
    v[:, 5:] = rng.integers(0, 2**20, (n, 3))
    before = v.copy()
    old = np.zeros((n, 8), dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n), fetch_ops_private, v=v, old=old)
    np.testing.assert_array_equal(old, before)
    np.testing.assert_array_equal(v[:, 0], before[:, 0] + 5)
    np.testing.assert_array_equal(v[:, 1], before[:, 1] - 7)
    np.testing.assert_array_equal(v[:, 2], before[:, 2] * 3)
    np.testing.assert_array_equal(v[:, 3], np.minimum(before[:, 3], 10))
    np.testing.assert_array_equal(v[:, 4], np.maximum(before[:, 4], 10))
    np.testing.assert_array_equal(v[:, 5], before[:, 5] & 0x0F0F)
    np.testing.assert_array_equal(v[:, 6], before[:, 6] | 0x1010)
    np.testing.assert_array_equal(v[:, 7], before[:, 7] ^ 0x3333)


def test_fetch_div_returns_the_old_value(space, rng):
    v = rng.uniform(1, 100, 32)
    before = v.copy()
    old = np.zeros(32)
    pk.parallel_for(pk.RangePolicy(space, 0, 32), fetch_div_private, v=v, old=old)
    np.testing.assert_array_equal(old, before)
    np.testing.assert_array_equal(v, before / 4.0)


def test_fetch_ops_on_int32_and_float32(space):
    v32 = np.arange(16 * 8, dtype=np.int32).reshape(16, 8)
    before = v32.copy()
    old = np.zeros((16, 8), dtype=np.int32)
    pk.parallel_for(pk.RangePolicy(space, 0, 16), fetch_ops_private, v=v32, old=old)
    np.testing.assert_array_equal(old, before)
    np.testing.assert_array_equal(v32[:, 0], before[:, 0] + 5)
    f32 = np.full(8, 64.0, dtype=np.float32)
    old_f = np.zeros(8, dtype=np.float32)
    pk.parallel_for(pk.RangePolicy(space, 0, 8), fetch_div_private, v=f32, old=old_f)
    np.testing.assert_array_equal(old_f, np.full(8, 64.0, dtype=np.float32))
    np.testing.assert_array_equal(f32, np.full(8, 16.0, dtype=np.float32))


def test_contended_mul_and_div(space):
    v = np.ones(1, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, 60), contended_mul, v=v)
    assert v[0] == 2**60
    f = np.array([2.0**80])
    pk.parallel_for(pk.RangePolicy(space, 0, 80), contended_div, v=f)
    assert f[0] == 1.0


def test_contended_min_max(space, rng, n_contended):
    x = rng.permutation(n_contended).astype(np.int64) - n_contended // 2
    lo = np.array([np.iinfo(np.int64).max])
    hi = np.array([np.iinfo(np.int64).min])
    old_lo = np.zeros(n_contended, dtype=np.int64)
    old_hi = np.zeros(n_contended, dtype=np.int64)
    pk.parallel_for(
        pk.RangePolicy(space, 0, n_contended),
        contended_min_max,
        x=x,
        lo=lo,
        hi=hi,
        old_lo=old_lo,
        old_hi=old_hi,
    )
    assert lo[0] == x.min() and hi[0] == x.max()
    # every returned old value is a value the element really held: the initial value or some x
    assert np.isin(old_lo, np.append(x, np.iinfo(np.int64).max)).all()
    assert np.isin(old_hi, np.append(x, np.iinfo(np.int64).min)).all()
    # only the first update can see the initial value
    assert (old_lo == np.iinfo(np.int64).max).sum() == 1
    assert (old_hi == np.iinfo(np.int64).min).sum() == 1


def test_contended_bitwise(space, n_contended):
    a = np.array([-1], dtype=np.int64)
    o = np.zeros(1, dtype=np.int64)
    x = np.zeros(4, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n_contended), contended_bits, a=a, o=o, x=x)
    bits = functools.reduce(operator.or_, (1 << (i % 61) for i in range(min(n_contended, 61))))
    assert o[0] == bits
    assert a[0] == ~bits
    expected = [0, 0, 0, 0]
    for i in range(n_contended):
        expected[i % 4] ^= (i * 2654435761) % 1048576
    np.testing.assert_array_equal(x, expected)


def test_compare_exchange_exactly_one_winner(space, n_contended):
    owner = np.array([-1], dtype=np.int64)
    won = np.zeros(n_contended, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n_contended), claim, owner=owner, won=won)
    assert won.sum() == 1
    assert owner[0] == int(np.argmax(won))


def test_compare_exchange_loop_increment(space, kk):
    n = kk.size(space, 100_000, 5_000)
    v = np.zeros(1, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n), cas_increment, v=v)
    assert v[0] == n


def test_compare_exchange_returns_old_value(space):
    n = 16
    v = np.zeros((n, 2), dtype=np.int64)
    v[:, 0] = np.arange(n)
    v[:, 1] = 7
    old = np.zeros((n, 2), dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n), cas_private, v=v, old=old)
    np.testing.assert_array_equal(old[:, 0], np.arange(n))
    np.testing.assert_array_equal(old[:, 1], np.full(n, 7))
    np.testing.assert_array_equal(v[:, 0], 100 + np.arange(n))
    np.testing.assert_array_equal(v[:, 1], np.full(n, 7))
