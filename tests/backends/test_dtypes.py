"""Every dtype of issue 2 (pk.int8 ... pk.uint64, pk.float32/pk.float, pk.float64/pk.double, pk.bool) through
kernels on every space, against NumPy on the same inputs. Overflow/wraparound behaviour is not specified,
so the inputs stay inside each type's range."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk

DTYPE_NAMES = [
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
    "bool",
]
NUMERIC = [n for n in DTYPE_NAMES if n != "bool"]


def pk_dtype(name):
    return getattr(pk, name)


def np_dtype(name):
    return np.dtype(np.bool_) if name == "bool" else np.dtype(name)


def extremes(name) -> np.ndarray:
    dt = np_dtype(name)
    if name == "bool":
        return np.array([True, False, True, True, False], dtype=dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        vals = [info.min, info.max, 0, 1, info.max - 1, info.min + 1, info.max // 2 + 1]
        if dt.kind == "i":
            vals += [-1]
        return np.array(vals, dtype=dt)
    info = np.finfo(dt)
    return np.array([0.0, -0.0, info.max, -info.max, info.tiny, info.eps, np.inf, -np.inf, np.nan, 1.0 / 3.0], dtype=dt)


@pk.workunit
def copy(i, src, dst):
    dst[i] = src[i]


@pk.workunit
def add(i, x, y, out):
    out[i] = x[i] + y[i]


@pk.workunit
def sub(i, x, y, out):
    out[i] = x[i] - y[i]


@pk.workunit
def mul(i, x, y, out):
    out[i] = x[i] * y[i]


@pk.workunit
def fill_index(i, out):
    out[i] = i


@pk.workunit
def fill_parity(i, out):
    out[i] = i % 2 == 1


@pk.workunit
def fill_value(i, out, value):
    out[i] = value


@pk.workunit
def greater(i, x, y, out):
    out[i] = 1 if x[i] > y[i] else 0


@pk.workunit
def bool_ops(i, x, y, o_and, o_or, o_not, o_ne):
    o_and[i] = x[i] and y[i]
    o_or[i] = x[i] or y[i]
    o_not[i] = not x[i]
    o_ne[i] = x[i] != y[i]


@pk.workunit
def count_true(i, acc, x):
    acc += x[i]


@pk.workunit
def mixed(i, a, b, out):
    out[i] = a[i] * 0.5 + b[i]


@pk.workunit
def big_index_math(i, out, base):
    k = i + 4294967296
    out[i] = i * 3000000000 + base + k - 5000000000


@pk.workunit
def annotated_locals(i, out_f, out_i):
    t: float = 0
    c: int = 0
    for _k in range(i):
        t += 0.5
        c += 1
    out_f[i] = t
    out_i[i] = c


@pk.workunit
def typed_params(i, a: pk.int32, b: pk.float32, c: pk.double, out: pk.View1D[pk.double]):
    out[i] = a + b + c + i


# ------------------------------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_copy_preserves_extreme_values(space, name):
    src = extremes(name)
    dst = np.zeros_like(src)
    pk.parallel_for(pk.RangePolicy(space, 0, len(src)), copy, src=src, dst=dst)
    assert dst.dtype == src.dtype
    np.testing.assert_array_equal(dst, src)
    if src.dtype.kind == "f":  # -0.0 keeps its sign
        np.testing.assert_array_equal(np.signbit(dst), np.signbit(src))


@pytest.mark.parametrize("name", NUMERIC)
def test_add_sub_mul_in_range(space, rng, name):
    dt = np_dtype(name)
    n = 33
    if dt.kind == "u":
        x = rng.integers(20, 60, n).astype(dt)
        y = rng.integers(0, 20, n).astype(dt)
    elif dt.kind == "i":
        x = rng.integers(-50, 50, n).astype(dt)
        y = rng.integers(-9, 10, n).astype(dt)
    else:
        x = rng.standard_normal(n).astype(dt)
        y = rng.standard_normal(n).astype(dt)
    for wu, op in ((add, np.add), (sub, np.subtract)):
        out = np.zeros(n, dtype=dt)
        pk.parallel_for(pk.RangePolicy(space, 0, n), wu, x=x, y=y, out=out)
        np.testing.assert_array_equal(out, op(x, y))
    small_x = (x % 10).astype(dt) if dt.kind in "iu" else x
    small_y = (y % 10).astype(dt) if dt.kind in "iu" else y
    out = np.zeros(n, dtype=dt)
    pk.parallel_for(pk.RangePolicy(space, 0, n), mul, x=small_x, y=small_y, out=out)
    # float32 products of float32 inputs are exact in float64 and rounded once: NumPy's float32 product
    np.testing.assert_array_equal(out, np.multiply(small_x, small_y))


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_view_of_every_dtype(space, name):
    v = pk.View([9], pk_dtype(name))
    arr = np.asarray(v)
    assert arr.dtype == np_dtype(name)
    assert arr.shape == (9,)
    if name == "bool":
        pk.parallel_for(pk.RangePolicy(space, 0, 9), fill_parity, out=v)
        np.testing.assert_array_equal(np.asarray(v), np.arange(9) % 2 == 1)
    else:
        pk.parallel_for(pk.RangePolicy(space, 0, 9), fill_index, out=v)
        np.testing.assert_array_equal(np.asarray(v), np.arange(9).astype(np_dtype(name)))


def test_dtype_aliases():
    assert pk.float is pk.float32 or pk.float == pk.float32
    assert pk.double is pk.float64 or pk.double == pk.float64
    assert np.asarray(pk.View([2], pk.float)).dtype == np.float32
    assert np.asarray(pk.View([2], pk.double)).dtype == np.float64
    assert np.asarray(pk.View([2], int)).dtype == np.int64
    assert np.asarray(pk.View([2], float)).dtype == np.float64
    assert np.asarray(pk.View([2])).dtype == np.float64


@pytest.mark.parametrize("name", ["int8", "int32", "uint16", "uint64", "float32", "float64"])
def test_scalar_argument_into_dtype(space, name):
    dt = np_dtype(name)
    value = extremes(name)[1]  # the type's max
    out = np.zeros(4, dtype=dt)
    pk.parallel_for(pk.RangePolicy(space, 0, 4), fill_value, out=out, value=dt.type(value))
    np.testing.assert_array_equal(out, np.full(4, value, dtype=dt))


def test_uint64_comparisons_above_2_63(space):
    x = np.array([2**63 + 5, 2**64 - 1, 3, 2**63], dtype=np.uint64)
    y = np.array([2**63 + 4, 2**63, 2**63, 1], dtype=np.uint64)
    out = np.zeros(4, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, 4), greater, x=x, y=y, out=out)
    np.testing.assert_array_equal(out, (x > y).astype(np.int64))


def test_int8_negative_comparisons(space):
    x = np.array([-128, -1, 0, 127, -5], dtype=np.int8)
    y = np.array([127, 0, -1, -128, -5], dtype=np.int8)
    out = np.zeros(5, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, 5), greater, x=x, y=y, out=out)
    np.testing.assert_array_equal(out, (x > y).astype(np.int64))


def test_bool_logic(space, rng):
    n = 16
    x = rng.integers(0, 2, n).astype(bool)
    y = rng.integers(0, 2, n).astype(bool)
    outs = {k: np.zeros(n, dtype=bool) for k in ("o_and", "o_or", "o_not", "o_ne")}
    pk.parallel_for(pk.RangePolicy(space, 0, n), bool_ops, x=x, y=y, **outs)
    np.testing.assert_array_equal(outs["o_and"], x & y)
    np.testing.assert_array_equal(outs["o_or"], x | y)
    np.testing.assert_array_equal(outs["o_not"], ~x)
    np.testing.assert_array_equal(outs["o_ne"], x != y)


def test_bool_counts_as_int_in_arithmetic(space, rng):
    x = rng.integers(0, 2, 200).astype(bool)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 200), count_true, initial_value=0, x=x)
    assert int(result) == int(x.sum())


def test_mixed_dtypes_promote(space, rng):
    a = rng.integers(-1000, 1000, 20).astype(np.int16)
    b = rng.integers(0, 10**6, 20).astype(np.uint32)
    out = np.zeros(20)
    pk.parallel_for(pk.RangePolicy(space, 0, 20), mixed, a=a, b=b, out=out)
    np.testing.assert_array_equal(out, a.astype(np.float64) * 0.5 + b.astype(np.float64))


def test_int64_index_arithmetic_beyond_int32(space):
    n = 50
    out = np.zeros(n, dtype=np.int64)
    base = 7 * 2**40
    pk.parallel_for(pk.RangePolicy(space, 0, n), big_index_math, out=out, base=base)
    i = np.arange(n, dtype=np.int64)
    np.testing.assert_array_equal(out, i * 3000000000 + base + (i + 4294967296) - 5000000000)


def test_annotated_locals_keep_their_type(space):
    n = 6
    out_f = np.zeros(n)
    out_i = np.zeros(n, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n), annotated_locals, out_f=out_f, out_i=out_i)
    np.testing.assert_array_equal(out_f, 0.5 * np.arange(n))  # `t: float = 0` is a float despite the int literal
    np.testing.assert_array_equal(out_i, np.arange(n))


def test_annotated_scalar_parameters(space):
    out = np.zeros(5)
    pk.parallel_for(pk.RangePolicy(space, 0, 5), typed_params, a=3, b=0.5, c=0.25, out=out)
    np.testing.assert_array_equal(out, 3 + 0.5 + 0.25 + np.arange(5))


def test_float32_and_float64_division(space, rng):
    x32 = rng.random(40).astype(np.float32) + 0.5
    y32 = rng.random(40).astype(np.float32) + 0.5
    out32 = np.zeros(40, dtype=np.float32)
    pk.parallel_for(pk.RangePolicy(space, 0, 40), div, x=x32, y=y32, out=out32)
    np.testing.assert_allclose(out32, x32 / y32, rtol=2e-7)
    x64 = x32.astype(np.float64)
    y64 = y32.astype(np.float64)
    out64 = np.zeros(40)
    pk.parallel_for(pk.RangePolicy(space, 0, 40), div, x=x64, y=y64, out=out64)
    np.testing.assert_array_equal(out64, x64 / y64)


@pk.workunit
def div(i, x, y, out):
    out[i] = x[i] / y[i]
