"""Reducers Sum, Prod, Min, Max, MinLoc, MaxLoc, LAnd, LOr, BAnd, BOr: results against NumPy on the same
inputs, given positionally or as reducer=, with initial_value (positional or keyword), the identities on
empty ranges, and the accumulator dtype rules of issue 2 (pk.Acc[T] annotation, else the initial value's
type, else float64; int64 for BAnd/BOr; bool for LAnd/LOr)."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk


@pk.workunit
def r_sum(i, acc, x):
    acc += x[i]


@pk.workunit
def r_prod(i, acc, x):
    acc *= x[i]


@pk.workunit
def r_min(i, acc, x):
    acc = min(acc, x[i])


@pk.workunit
def r_max(i, acc, x):
    acc = max(acc, x[i])


@pk.workunit
def r_minloc(i, acc, x):
    if x[i] < acc.val:
        acc.val = x[i]
        acc.loc = i


@pk.workunit
def r_maxloc(i, acc, x):
    if x[i] > acc.val:
        acc.val = x[i]
        acc.loc = i


@pk.workunit
def r_land(i, acc, x):
    acc = acc and x[i] > 0


@pk.workunit
def r_lor(i, acc, x):
    acc = acc or x[i] > 0


@pk.workunit
def r_band(i, acc, x):
    acc &= x[i]


@pk.workunit
def r_bor(i, acc, x):
    acc |= x[i]


@pk.workunit
def r_sum_int_annotated(i, acc: pk.Acc[pk.int64], x):
    acc += x[i]


@pk.workunit
def r_sum_f32_annotated(i, acc: pk.Acc[pk.float32], x):
    acc += x[i]


@pk.workunit
def r_sum_pyint_annotated(i: int, acc: pk.Acc[int], x):
    acc += x[i]


@pk.workunit
def r_sum_pyfloat_annotated(i: int, acc: pk.Acc[float], x):
    acc += x[i]


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_float(v) -> bool:
    return isinstance(v, (float, np.floating))


def _is_bool(v) -> bool:
    return isinstance(v, (bool, np.bool_))


# name -> (reducer, workunit, numpy reference, input maker)
def _floats(rng, n):
    return rng.standard_normal(n)


def _near_one(rng, n):
    return 1.0 + rng.uniform(-0.01, 0.01, n)


def _bits(rng, n):
    return rng.integers(0, 2**62, n, dtype=np.int64) | np.int64(0x5A5A_0000_0000_00F1)


def _signed(rng, n):
    return rng.integers(-5, 1000, n)


CASES = {
    "Sum": (lambda: pk.Sum, r_sum, lambda x: x.sum(), _floats),
    "Prod": (lambda: pk.Prod, r_prod, lambda x: np.prod(x), _near_one),
    "Min": (lambda: pk.Min, r_min, lambda x: x.min(), _floats),
    "Max": (lambda: pk.Max, r_max, lambda x: x.max(), _floats),
    "LAnd": (lambda: pk.LAnd, r_land, lambda x: bool(np.all(x > 0)), _signed),
    "LOr": (lambda: pk.LOr, r_lor, lambda x: bool(np.any(x > 0)), _signed),
    "BAnd": (lambda: pk.BAnd, r_band, lambda x: int(np.bitwise_and.reduce(x)), _bits),
    "BOr": (lambda: pk.BOr, r_bor, lambda x: int(np.bitwise_or.reduce(x)), _bits),
}


def _check(name, result, expected):
    if name in ("Sum", "Prod"):
        assert _is_float(result)
        assert result == pytest.approx(float(expected), rel=1e-12, abs=1e-12)
    elif name in ("Min", "Max"):
        assert result == expected  # exact: min/max pick an input
    elif name in ("LAnd", "LOr"):
        assert _is_bool(result)
        assert bool(result) is bool(expected)
    else:
        assert _is_int(result)
        assert int(result) == int(expected)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("n", [1, 7, 1000])
def test_reducer_positional(space, rng, name, n):
    reducer, wu, ref, make = CASES[name]
    x = make(rng, n)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, n), wu, reducer(), x=x)
    _check(name, result, ref(x))


@pytest.mark.parametrize("name", list(CASES))
def test_reducer_keyword(space, rng, name):
    reducer, wu, ref, make = CASES[name]
    x = make(rng, 101)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 101), wu, reducer=reducer(), x=x)
    _check(name, result, ref(x))


@pytest.mark.parametrize("name", list(CASES))
def test_reducer_large_odd_size(compiled_space, rng, name):
    reducer, wu, ref, make = CASES[name]
    n = 100_003
    x = make(rng, n)
    if name == "Prod":
        x = 1.0 + rng.uniform(-1e-4, 1e-4, n)
    result = pk.parallel_reduce(pk.RangePolicy(compiled_space, 0, n), wu, reducer(), x=x)
    if name in ("Sum", "Prod"):
        assert result == pytest.approx(float(ref(x)), rel=1e-9)
    else:
        _check(name, result, ref(x))


def test_logical_reducers_both_outcomes(space):
    pos = np.array([3, 1, 4, 1, 5], dtype=np.int64)
    mixed = np.array([3, 1, -4, 1, 5], dtype=np.int64)
    nonpos = np.array([0, -1, -2], dtype=np.int64)
    r = lambda wu, red, x: bool(pk.parallel_reduce(pk.RangePolicy(space, 0, len(x)), wu, red, x=x))  # noqa: E731
    assert r(r_land, pk.LAnd, pos) is True
    assert r(r_land, pk.LAnd, mixed) is False
    assert r(r_lor, pk.LOr, mixed) is True
    assert r(r_lor, pk.LOr, nonpos) is False


def test_min_max_integers_with_int_initial_value(space, rng):
    x = rng.integers(-(10**12), 10**12, 500)
    lo = pk.parallel_reduce(pk.RangePolicy(space, 0, 500), r_min, pk.Min, 10**13, x=x)
    hi = pk.parallel_reduce(pk.RangePolicy(space, 0, 500), r_max, pk.Max, -(10**13), x=x)
    assert _is_int(lo) and _is_int(hi)
    assert int(lo) == int(x.min())
    assert int(hi) == int(x.max())


# ---------------------------------------------------------------------------------------------- MinLoc/MaxLoc


@pytest.mark.parametrize("n", [1, 7, 1000])
def test_minloc_maxloc(space, rng, n):
    x = rng.permutation(n).astype(np.float64) - n / 2.0  # unique values: the location is unambiguous
    lo = pk.parallel_reduce(pk.RangePolicy(space, 0, n), r_minloc, pk.MinLoc, x=x)
    hi = pk.parallel_reduce(pk.RangePolicy(space, 0, n), r_maxloc, reducer=pk.MaxLoc, x=x)
    assert isinstance(lo, tuple) and len(lo) == 2
    assert isinstance(hi, tuple) and len(hi) == 2
    assert lo[0] == x.min() and int(lo[1]) == int(np.argmin(x))
    assert hi[0] == x.max() and int(hi[1]) == int(np.argmax(x))
    assert _is_int(lo[1]) and _is_int(hi[1])


def test_minloc_maxloc_begin_offset_reports_global_index(space, rng):
    x = rng.permutation(50).astype(np.float64)
    lo = pk.parallel_reduce(pk.RangePolicy(space, 10, 40), r_minloc, pk.MinLoc, x=x)
    hi = pk.parallel_reduce(pk.RangePolicy(space, 10, 40), r_maxloc, pk.MaxLoc, x=x)
    assert lo == (x[10:40].min(), 10 + int(np.argmin(x[10:40])))
    assert hi == (x[10:40].max(), 10 + int(np.argmax(x[10:40])))


def test_minloc_large(compiled_space, rng):
    n = 200_003
    x = rng.permutation(n).astype(np.float64)
    lo = pk.parallel_reduce(pk.RangePolicy(compiled_space, 0, n), r_minloc, pk.MinLoc, x=x)
    hi = pk.parallel_reduce(pk.RangePolicy(compiled_space, 0, n), r_maxloc, pk.MaxLoc, x=x)
    assert lo == (0.0, int(np.argmin(x)))
    assert hi == (float(n - 1), int(np.argmax(x)))


def test_minloc_on_int_values(space, rng):
    x = rng.permutation(64).astype(np.int32) - 20
    lo = pk.parallel_reduce(pk.RangePolicy(space, 0, 64), r_minloc, pk.MinLoc, x=x)
    assert lo[0] == -20 and int(lo[1]) == int(np.argmin(x))


# ---------------------------------------------------------------------------------------------- initial_value

INITIALS = {
    # name: (initial value, join(initial, reduction))
    "Sum": (10.0, lambda init, r: init + r),
    "Prod": (2.0, lambda init, r: init * r),
    "Min": (-100.0, lambda init, r: min(init, r)),
    "Max": (100.0, lambda init, r: max(init, r)),
    "LAnd": (False, lambda init, r: init and r),
    "LOr": (True, lambda init, r: init or r),
    "BAnd": (0x0F0F_0F0F_0F0F_0F0F, lambda init, r: init & r),
    "BOr": (0x1000_0000_0000_0000, lambda init, r: init | r),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("form", ["positional", "keyword"])
def test_initial_value_is_joined_once(space, rng, name, form):
    reducer, wu, ref, make = CASES[name]
    init, join = INITIALS[name]
    n = 257
    x = make(rng, n)
    policy = pk.RangePolicy(space, 0, n)
    if form == "positional":
        result = pk.parallel_reduce(policy, wu, reducer(), init, x=x)
    else:
        result = pk.parallel_reduce(policy, wu, reducer=reducer(), initial_value=init, x=x)
    _check(name, result, join(init, ref(x)))


@pytest.mark.parametrize("name", ["Sum", "Prod", "Max"])
def test_initial_value_joined_once_under_threads(compiled_space, rng, name):
    """With many threads the initial value must still count once (not once per thread)."""
    reducer, wu, ref, make = CASES[name]
    init, join = INITIALS[name]
    n = 100_003
    x = make(rng, n) if name != "Prod" else 1.0 + rng.uniform(-1e-4, 1e-4, n)
    result = pk.parallel_reduce(pk.RangePolicy(compiled_space, 0, n), wu, reducer(), initial_value=init, x=x)
    assert result == pytest.approx(float(join(init, ref(x))), rel=1e-9)


def test_initial_value_positional_without_reducer_is_a_sum(space, rng):
    x = rng.standard_normal(33)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 33), r_sum, 5.0, x=x)
    assert result == pytest.approx(5.0 + float(x.sum()), rel=1e-12)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 33), r_sum, initial_value=-5.0, x=x)
    assert result == pytest.approx(-5.0 + float(x.sum()), rel=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_empty_range_returns_initial_value(space, name):
    reducer, wu, ref, make = CASES[name]
    init, _ = INITIALS[name]
    x = make(np.random.default_rng(0), 4)
    result = pk.parallel_reduce(pk.RangePolicy(space, 2, 2), wu, reducer(), initial_value=init, x=x)
    assert result == init


@pytest.mark.parametrize(
    "name,identity", [("Sum", 0.0), ("Prod", 1.0), ("LAnd", True), ("LOr", False), ("BAnd", -1), ("BOr", 0)]
)
def test_empty_range_returns_identity(space, name, identity):
    reducer, wu, ref, make = CASES[name]
    x = make(np.random.default_rng(0), 4)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 0), wu, reducer(), x=x)
    assert result == identity


def test_sum_default_reducer_equals_explicit_sum(space, rng):
    x = rng.standard_normal(99)
    a = pk.parallel_reduce(pk.RangePolicy(space, 0, 99), r_sum, x=x)
    b = pk.parallel_reduce(pk.RangePolicy(space, 0, 99), r_sum, pk.Sum, x=x)
    assert a == pytest.approx(b, rel=1e-13)


# ----------------------------------------------------------------------------------------- accumulator dtypes


def test_unannotated_acc_of_int_inputs_is_int64(space):
    # issue 17 item 2: an accumulator that only ever receives ints is int64 (exact) and returns an int
    x = np.arange(10, dtype=np.int64)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 10), r_sum, x=x)
    assert _is_int(result) and result == 45


def test_acc_default_is_float64_for_float32_inputs(space, rng):
    x = rng.random(1000).astype(np.float32)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 1000), r_sum, x=x)
    # a float64 accumulator reproduces the float64 sum of the float32 values to ~1e-15
    assert result == pytest.approx(float(x.astype(np.float64).sum()), rel=1e-12)


def test_acc_type_from_int_initial_value_is_exact(space):
    big = np.array([2**60, 2**53 + 1, 3, 2**55 + 7, -(2**40) + 11], dtype=np.int64)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 5), r_sum, initial_value=0, x=big)
    assert _is_int(result)
    assert int(result) == sum(int(v) for v in big)


def test_acc_type_from_float_initial_value(space):
    x = np.arange(4, dtype=np.int64)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 4), r_sum, initial_value=0.5, x=x)
    assert _is_float(result) and result == 6.5


def test_acc_annotation_int64_is_exact(space):
    big = np.array([2**60, 2**53 + 1, 3, 2**55 + 7], dtype=np.int64)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 4), r_sum_int_annotated, x=big)
    assert _is_int(result)
    assert int(result) == sum(int(v) for v in big)


def test_acc_annotation_python_int_and_float(space):
    x = np.array([2**53, 1, 1], dtype=np.int64)
    r_int = pk.parallel_reduce(pk.RangePolicy(space, 0, 3), r_sum_pyint_annotated, x=x)
    assert _is_int(r_int) and int(r_int) == 2**53 + 2
    r_float = pk.parallel_reduce(pk.RangePolicy(space, 0, 3), r_sum_pyfloat_annotated, x=np.ones(3))
    assert _is_float(r_float) and r_float == 3.0


def test_acc_annotation_float32(space, rng):
    x = rng.random(500).astype(np.float32)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 500), r_sum_f32_annotated, x=x)
    assert _is_float(result)
    assert result == pytest.approx(float(x.astype(np.float64).sum()), rel=1e-4)


def test_acc_annotation_wins_over_initial_value_type(space):
    big = np.array([2**53, 1, 1], dtype=np.int64)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 3), r_sum_int_annotated, initial_value=1, x=big)
    assert _is_int(result) and int(result) == 2**53 + 3


def test_bitwise_reducers_default_int64(space):
    x = np.array([0b1100, 0b1010, 0b1110], dtype=np.int32)
    band = pk.parallel_reduce(pk.RangePolicy(space, 0, 3), r_band, pk.BAnd, x=x)
    bor = pk.parallel_reduce(pk.RangePolicy(space, 0, 3), r_bor, pk.BOr, x=x)
    assert _is_int(band) and int(band) == 0b1000
    assert _is_int(bor) and int(bor) == 0b1110


def test_logical_reducers_default_bool(space):
    x = np.array([1, 2, 3], dtype=np.int64)
    land = pk.parallel_reduce(pk.RangePolicy(space, 0, 3), r_land, pk.LAnd, x=x)
    lor = pk.parallel_reduce(pk.RangePolicy(space, 0, 3), r_lor, pk.LOr, x=x)
    assert _is_bool(land) and bool(land) is True
    assert _is_bool(lor) and bool(lor) is True


def test_prod_of_integers_exact_with_int_initial(space):
    x = np.arange(1, 16, dtype=np.int64)
    result = pk.parallel_reduce(pk.RangePolicy(space, 0, 15), r_prod, pk.Prod, 1, x=x)
    assert _is_int(result) and int(result) == 1307674368000  # 15!


def test_float32_sum_and_min_inputs(space, rng):
    x = rng.standard_normal(777).astype(np.float32)
    s = pk.parallel_reduce(pk.RangePolicy(space, 0, 777), r_sum, x=x)
    lo = pk.parallel_reduce(pk.RangePolicy(space, 0, 777), r_min, pk.Min, x=x)
    assert s == pytest.approx(float(x.astype(np.float64).sum()), rel=1e-10, abs=1e-10)
    assert lo == float(x.min())
