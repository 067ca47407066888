"""Every atomic PyKokkos exports, on every space: atomic_{op} and atomic_fetch_{op} for add, sub, mul, div, min,
max, and, or, xor, mod, lshift, rshift; atomic_compare_exchange; atomic_increment/decrement (Kokkos' atomic_inc
and atomic_dec). PyKokkos' own test_atomics.py calls them as functor members; these do the same and also check
the returned old values and the results under contention."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.errors import KernelTypeError


@pk.workunit
def shifts_and_mods(i, v, old, n):
    # row i: every new op once, with the old value each one returns
    old[i, 0] = pk.atomic_fetch_lshift(v, [i, 0], n[i])
    old[i, 1] = pk.atomic_fetch_rshift(v, [i, 1], n[i])
    old[i, 2] = pk.atomic_fetch_mod(v, [i, 2], n[i] - 3)
    pk.atomic_lshift(v, [i, 3], n[i])
    pk.atomic_rshift(v, [i, 4], n[i])
    pk.atomic_mod(v, [i, 5], n[i] - 3)


@pk.functor
class PyKokkosAtomics:
    """The shape of PyKokkos' AtomicsTestFunctor: Views and scalars as members, one op per workunit."""

    def __init__(self, i_1: int, i_2: int):
        self.i_2: int = i_2
        self.v: pk.View1D[pk.int32] = pk.View([4], pk.int32)
        self.old: pk.View1D[pk.int32] = pk.View([4], pk.int32)
        for k in range(4):
            self.v[k] = i_1

    @pk.workunit
    def ops(self, tid: int) -> None:
        pk.atomic_mod(self.v, [0], self.i_2)
        self.old[1] = pk.atomic_fetch_lshift(self.v, [1], self.i_2)
        self.old[2] = pk.atomic_fetch_rshift(self.v, [2], self.i_2)
        old_value: pk.int32 = pk.atomic_fetch_mod(self.v, [3], self.i_2)
        self.old[3] = old_value


@pk.workunit
def count_up_down(i, up, down):
    pk.atomic_increment(up, [i % 3])
    pk.atomic_decrement(down, [0])
    pk.atomic_inc(up, [3])
    pk.atomic_dec(down, [1])


@pk.workunit
def contended_shift(i, v):
    pk.atomic_lshift(v, [0], 1)
    pk.atomic_fetch_rshift(v, [1], 1)


def _shl(a, n, dt):
    bits = np.dtype(dt).itemsize * 8
    return 0 if not 0 <= n < bits else int(np.left_shift(dt(a), dt(n)))


def _shr(a, n, dt):
    bits = np.dtype(dt).itemsize * 8
    return (-1 if a < 0 else 0) if not 0 <= n < bits else int(np.right_shift(dt(a), dt(n)))


def _pymod(a, b):
    return a % b if b else 0


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint16])
def test_fetch_shift_and_mod_return_the_old_value(space, dtype):
    signed = np.dtype(dtype).kind == "i"
    bits = np.dtype(dtype).itemsize * 8
    counts = [0, 1, 3, bits - 1, bits, bits + 5, 7] + ([-1] if signed else [])
    rows = len(counts)
    start = np.array([[-13 if signed else 13] * 6] * rows, dtype=dtype)
    start[:, 2] = start[:, 5] = 17 if not signed else -17
    v = pk.array(start.copy())
    old = pk.View([rows, 3], dtype)
    n = pk.array(np.array(counts, dtype=dtype))
    pk.parallel_for(pk.RangePolicy(space, 0, rows), shifts_and_mods, v=v, old=old, n=n)
    got, got_old = np.asarray(v), np.asarray(old)
    for r, c in enumerate(counts):
        a, m = int(start[r, 0]), int(start[r, 2])
        div = int(np.array(c - 3).astype(dtype))  # n[i] - 3 in the View's type (wraps for unsigned)
        assert list(got_old[r]) == [a, a, m], r
        want = [_shl(a, c, dtype), _shr(a, c, dtype), _pymod(m, div)] * 2
        assert [int(x) for x in got[r]] == [int(dtype(w)) for w in want], r


def test_pykokkos_functor_atomics(space):
    f = PyKokkosAtomics(5, 2)
    pk.parallel_for(pk.RangePolicy(space, 0, 1), f.ops)
    assert list(f.v) == [5 % 2, 5 << 2, 5 >> 2, 5 % 2]
    assert list(f.old)[1:] == [5, 5, 5]


def test_increment_and_decrement_under_contention(space, kk):
    n = kk.size(space, 100_000, 3_000)
    up = pk.View([4], pk.int64)
    down = pk.View([2], pk.int32)
    pk.parallel_for(pk.RangePolicy(space, 0, n), count_up_down, up=up, down=down)
    assert list(up) == [len(range(k, n, 3)) for k in range(3)] + [n]
    assert list(down) == [-n, -n]


def test_contended_shifts_saturate(space, kk):
    n = kk.size(space, 10_000, 500)
    v = pk.array(np.array([1, -(2**40)], dtype=np.int64))
    pk.parallel_for(pk.RangePolicy(space, 0, n), contended_shift, v=v)
    assert list(v) == [0, -1]  # 1 << n with n >= 64 leaves 0; arithmetic >> of a negative leaves -1


def test_integer_only_atomics_refuse_float_views(space):
    @pk.workunit
    def float_mod(i, v):
        pk.atomic_mod(v, [0], 2.0)

    with pytest.raises(KernelTypeError, match="atomic mod needs an integer View"):
        pk.parallel_for(pk.RangePolicy(space, 0, 1), float_mod, v=pk.View([1], pk.double))


def test_host_calls_follow_the_kernel_rules():
    v = pk.View([3], pk.int8)
    v[0], v[1], v[2] = 3, -5, 7
    assert pk.atomic_fetch_lshift(v, [0], 6) == 3 and v[0] == np.int8(-64)
    pk.atomic_rshift(v, [1], 9)
    assert v[1] == -1
    assert pk.atomic_fetch_mod(v, [2], -3) == 7 and v[2] == -2
    pk.atomic_increment(v, [2])
    pk.atomic_decrement(v, [0])
    assert list(v) == [-65, -1, -1]
