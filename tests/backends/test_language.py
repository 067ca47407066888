"""The kernel language of issue 2, construct by construct, against Python's own semantics on the same inputs:
arithmetic incl. // % ** with negative operands, bitwise ops, chained comparisons, and/or/not,
if/elif/else, for-range with negative and runtime steps, while/break/continue/pass, conditional
expressions, augmented assignment, indexing forms, extent/shape, math.* and pk.* functions,
min/max/abs/int/float, math constants, pk.printf."""

from __future__ import annotations

import math

import numpy as np
import pytest

import kernelkit as pk

# ------------------------------------------------------------------------------------------------ arithmetic


@pk.workunit
def int_arith(i, a, b, out, out_f):
    out[i, 0] = a[i] + b[i]
    out[i, 1] = a[i] - b[i]
    out[i, 2] = a[i] * b[i]
    out[i, 3] = a[i] // b[i]
    out[i, 4] = a[i] % b[i]
    out[i, 5] = -a[i]
    out[i, 6] = +a[i]
    out_f[i] = a[i] / b[i]


def test_int_arithmetic_python_semantics(space):
    a = np.array([7, -7, 7, -7, 0, 13, -13, 1, -1, 2**40 + 3, -(2**40) - 3, 6], dtype=np.int64)
    b = np.array([2, 2, -2, -2, 5, 4, 4, -3, 3, 7, 7, -3], dtype=np.int64)
    n = len(a)
    out = np.zeros((n, 7), dtype=np.int64)
    out_f = np.zeros(n)
    pk.parallel_for(pk.RangePolicy(space, 0, n), int_arith, a=a, b=b, out=out, out_f=out_f)
    for k in range(n):
        x, y = int(a[k]), int(b[k])
        assert list(out[k]) == [x + y, x - y, x * y, x // y, x % y, -x, +x], (x, y)
        assert out_f[k] == x / y, (x, y)  # true division of ints is a float


@pk.workunit
def float_arith(i, a, b, out):
    out[i, 0] = a[i] + b[i]
    out[i, 1] = a[i] - b[i]
    out[i, 2] = a[i] * b[i]
    out[i, 3] = a[i] / b[i]
    out[i, 4] = a[i] // b[i]
    out[i, 5] = a[i] % b[i]
    out[i, 6] = -a[i]


def test_float_arithmetic_python_semantics(space):
    a = np.array([7.5, -7.5, 7.5, -7.5, 0.25, 1e10, -3.0, 5.0], dtype=np.float64)
    b = np.array([2.0, 2.0, -2.0, -2.0, 0.1, 3.0, 1.5, -2.5], dtype=np.float64)
    n = len(a)
    out = np.zeros((n, 7))
    pk.parallel_for(pk.RangePolicy(space, 0, n), float_arith, a=a, b=b, out=out)
    for k in range(n):
        x, y = float(a[k]), float(b[k])
        assert list(out[k]) == [x + y, x - y, x * y, x / y, x // y, x % y, -x], (x, y)


def test_float_floordiv_and_mod_match_python_exactly(space):
    """Python computes float // and % via fmod (1.0 // 0.1 == 9.0, while floor(1.0 / 0.1) == 10.0)."""
    a = np.array([1.0, -1.0, 0.7, 5.0, -5.0, 1e-300, 3.0])
    b = np.array([0.1, 0.1, 0.1, 0.3, 0.3, 7.0, -1e-300])
    n = len(a)
    out = np.zeros((n, 7))
    pk.parallel_for(pk.RangePolicy(space, 0, n), float_arith, a=a, b=b, out=out)
    for k in range(n):
        x, y = float(a[k]), float(b[k])
        assert (out[k, 4], out[k, 5]) == (x // y, x % y), (x, y)


@pk.workunit
def powers(i, a, e, x, out_i, out_f):
    out_i[i, 0] = a[i] ** e[i]
    out_i[i, 1] = 2**40 + a[i] ** 2
    out_f[i, 0] = x[i] ** 0.5
    out_f[i, 1] = x[i] ** 2
    out_f[i, 2] = x[i] ** e[i]
    out_f[i, 3] = x[i] ** -1.5


def test_power(space):
    a = np.array([-5, -2, 0, 1, 2, 3, 5, 7], dtype=np.int64)
    e = np.array([3, 10, 0, 62, 20, 11, 10, 5], dtype=np.int64)
    x = np.array([0.5, 2.0, 9.0, 1.5, 1e-3, 3.0, 0.75, 10.0])
    n = len(a)
    out_i = np.zeros((n, 2), dtype=np.int64)
    out_f = np.zeros((n, 4))
    pk.parallel_for(pk.RangePolicy(space, 0, n), powers, a=a, e=e, x=x, out_i=out_i, out_f=out_f)
    for k in range(n):
        assert out_i[k, 0] == int(a[k]) ** int(e[k])
        assert out_i[k, 1] == 2**40 + int(a[k]) ** 2
        xf = float(x[k])
        np.testing.assert_allclose(out_f[k], [xf**0.5, xf**2, xf ** int(e[k]), xf**-1.5], rtol=1e-13)


@pk.workunit
def bitwise(i, a, b, s, out):
    out[i, 0] = a[i] & b[i]
    out[i, 1] = a[i] | b[i]
    out[i, 2] = a[i] ^ b[i]
    out[i, 3] = ~a[i]
    out[i, 4] = a[i] << s[i]
    out[i, 5] = a[i] >> s[i]
    out[i, 6] = (a[i] & 0xFF) | (b[i] << 8) ^ 0x5


def test_bitwise(space, rng):
    n = 40
    a = rng.integers(-(2**40), 2**40, n)
    b = rng.integers(-(2**40), 2**40, n)
    s = rng.integers(0, 21, n)
    out = np.zeros((n, 7), dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n), bitwise, a=a, b=b, s=s, out=out)
    for k in range(n):
        x, y, z = int(a[k]), int(b[k]), int(s[k])
        assert list(out[k]) == [x & y, x | y, x ^ y, ~x, x << z, x >> z, (x & 0xFF) | (y << 8) ^ 0x5]


@pk.workunit
def bitwise_unsigned(i, a, b, out):
    out[i, 0] = a[i] & b[i]
    out[i, 1] = a[i] | b[i]
    out[i, 2] = a[i] ^ b[i]
    out[i, 3] = a[i] >> 3


def test_bitwise_unsigned(space, rng):
    a = rng.integers(0, 2**64 - 1, 16, dtype=np.uint64, endpoint=True)
    b = rng.integers(0, 2**64 - 1, 16, dtype=np.uint64, endpoint=True)
    out = np.zeros((16, 4), dtype=np.uint64)
    pk.parallel_for(pk.RangePolicy(space, 0, 16), bitwise_unsigned, a=a, b=b, out=out)
    np.testing.assert_array_equal(out[:, 0], a & b)
    np.testing.assert_array_equal(out[:, 1], a | b)
    np.testing.assert_array_equal(out[:, 2], a ^ b)
    np.testing.assert_array_equal(out[:, 3], a >> np.uint64(3))


# ----------------------------------------------------------------------------------------------- comparisons


@pk.workunit
def compare(i, a, b, c, out):
    r = 0
    if a[i] < b[i] < c[i]:
        r += 1
    if a[i] <= b[i] <= c[i]:
        r += 2
    if a[i] == b[i] != c[i]:
        r += 4
    if not a[i] >= b[i]:
        r += 8
    if a[i] > b[i] or b[i] > c[i]:
        r += 16
    if a[i] != c[i] and not b[i] == c[i]:
        r += 32
    if a[i] < b[i] > c[i] >= 1:
        r += 64
    if 0 <= a[i] < 2 <= c[i] < 4:
        r += 128
    if a[i] < 1.5:
        r += 256
    out[i] = r


def test_comparisons_and_chains(space):
    vals = [(x, y, z) for x in range(4) for y in range(4) for z in range(4)]
    a = np.array([v[0] for v in vals], dtype=np.int64)
    b = np.array([v[1] for v in vals], dtype=np.int64)
    c = np.array([v[2] for v in vals], dtype=np.int64)
    out = np.zeros(len(vals), dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, len(vals)), compare, a=a, b=b, c=c, out=out)
    for k, (x, y, z) in enumerate(vals):
        r = 0
        r += 1 if x < y < z else 0
        r += 2 if x <= y <= z else 0
        r += 4 if x == y != z else 0
        r += 8 if not x >= y else 0
        r += 16 if x > y or y > z else 0
        r += 32 if x != z and not y == z else 0
        r += 64 if x < y > z >= 1 else 0
        r += 128 if 0 <= x < 2 <= z < 4 else 0
        r += 256 if x < 1.5 else 0
        assert out[k] == r, (x, y, z)


@pk.workunit
def short_circuit(i, m, x, out):
    if i < m and x[i] > 0:
        out[i] = 1
    elif i >= m or x[i] < -100:
        out[i] = 2
    else:
        out[i] = 3


def test_and_or_short_circuit(space):
    """x has only m elements: the right operand must not be evaluated for i >= m."""
    m = 4
    x = np.array([1.0, -1.0, 2.0, 0.0])
    out = np.zeros(8, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, 8), short_circuit, m=m, x=x, out=out)
    np.testing.assert_array_equal(out, [1, 3, 1, 3, 2, 2, 2, 2])


# ---------------------------------------------------------------------------------------------- control flow


@pk.workunit
def branches(i, x, out):
    if x[i] < 0:
        out[i] = -1
    elif x[i] == 0:
        out[i] = 0
    elif x[i] < 10:
        out[i] = 1
    else:
        out[i] = 2


def test_if_elif_else(space):
    x = np.array([-5.0, 0.0, 3.0, 10.0, 9.99, -0.0, 1e300])
    out = np.zeros(len(x), dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, len(x)), branches, x=x, out=out)
    np.testing.assert_array_equal(out, [-1, 0, 1, 2, 1, 0, 2])


@pk.workunit
def branch_defined_local(i, x, out):
    if x[i] > 0:
        s = 1.5
    else:
        s = -2.5
    out[i] = s * 2


def test_local_assigned_in_both_branches(space):
    x = np.array([1.0, -1.0, 0.0, 4.0])
    out = np.zeros(4)
    pk.parallel_for(pk.RangePolicy(space, 0, 4), branch_defined_local, x=x, out=out)
    np.testing.assert_array_equal(out, [3.0, -5.0, -5.0, 3.0])


@pk.workunit
def ranges(i, out, a, b):
    t0 = 0
    for k in range(i):
        t0 += k
    t1 = 0
    for k in range(a, b):
        t1 += k
    t2 = 0
    for k in range(b, a, -1):
        t2 += k
    t3 = 0
    for k in range(b, a, -3):
        t3 += k
    t4 = 0
    for k in range(a, b, 4):
        t4 += k
    t5 = 0
    for _k in range(a, b, -1):  # empty when a < b
        t5 += 1
    t6 = 0
    for k in range(-i, i + 1, 2):
        t6 += k * k
    out[i, 0] = t0
    out[i, 1] = t1
    out[i, 2] = t2
    out[i, 3] = t3
    out[i, 4] = t4
    out[i, 5] = t5
    out[i, 6] = t6


def test_for_range_forms(space):
    n = 9
    a, b = -3, 11
    out = np.zeros((n, 7), dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n), ranges, out=out, a=a, b=b)
    for i in range(n):
        expected = [
            sum(range(i)),
            sum(range(a, b)),
            sum(range(b, a, -1)),
            sum(range(b, a, -3)),
            sum(range(a, b, 4)),
            len(range(a, b, -1)),
            sum(k * k for k in range(-i, i + 1, 2)),
        ]
        assert list(out[i]) == expected, i


@pk.workunit
def runtime_step(i, lo, hi, st, out_sum, out_count):
    s = 0
    c = 0
    for k in range(lo[i], hi[i], st[i]):
        s += k
        c += 1
    out_sum[i] = s
    out_count[i] = c


def test_for_range_with_runtime_step_sign(space):
    """The step's sign is only known at run time: the loop must follow Python's range either way."""
    cases = [
        (0, 10, 3),
        (10, 0, -3),
        (10, 0, 3),
        (0, 10, -1),
        (-5, 5, 2),
        (7, -8, -5),
        (0, 0, 1),
        (3, 4, -7),
        (5, -5, -1),
        (-(2**33), 2**33, 2**32),
    ]
    lo = np.array([c[0] for c in cases], dtype=np.int64)
    hi = np.array([c[1] for c in cases], dtype=np.int64)
    st = np.array([c[2] for c in cases], dtype=np.int64)
    out_sum = np.zeros(len(cases), dtype=np.int64)
    out_count = np.zeros(len(cases), dtype=np.int64)
    pk.parallel_for(
        pk.RangePolicy(space, 0, len(cases)),
        runtime_step,
        lo=lo,
        hi=hi,
        st=st,
        out_sum=out_sum,
        out_count=out_count,
    )
    for k, (x, y, z) in enumerate(cases):
        assert out_sum[k] == sum(range(x, y, z)), (x, y, z)
        assert out_count[k] == len(range(x, y, z)), (x, y, z)


@pk.workunit
def collatz(i, out):
    n = i + 1
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    out[i] = steps


def collatz_ref(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def test_while_loop(space):
    n = 300
    out = np.zeros(n, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n), collatz, out=out)
    np.testing.assert_array_equal(out, [collatz_ref(k + 1) for k in range(n)])


@pk.workunit
def break_continue(i, out):
    found = -1
    for k in range(1, 100):
        if k % 2 == 0:
            continue
        if k * i % 7 == 3:
            found = k
            break
    total = 0
    k = 0
    while True:
        k += 1
        if k > 50:
            break
        if k % 3 == 0:
            continue
        total += k * i
    nested = 0
    for p in range(6):
        for q in range(6):
            if q > p:
                break
            if (p + q) % 4 == 1:
                continue
            nested += p * q + i
    if i % 2 == 0:
        pass
    else:
        nested += 1000
    out[i, 0] = found
    out[i, 1] = total
    out[i, 2] = nested


def break_continue_ref(i):
    found = -1
    for k in range(1, 100):
        if k % 2 == 0:
            continue
        if k * i % 7 == 3:
            found = k
            break
    total = sum(k * i for k in range(1, 51) if k % 3 != 0)
    nested = 0
    for p in range(6):
        for q in range(6):
            if q > p:
                break
            if (p + q) % 4 == 1:
                continue
            nested += p * q + i
    if i % 2 == 1:
        nested += 1000
    return [found, total, nested]


def test_break_continue_pass(space):
    n = 30
    out = np.zeros((n, 3), dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n), break_continue, out=out)
    for i in range(n):
        assert list(out[i]) == break_continue_ref(i), i


@pk.workunit
def early_return(i, m, out):
    if i >= m:
        return
    out[i] = 1


def test_bare_return_in_workunit(space):
    out = np.zeros(10, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, 10), early_return, m=6, out=out)
    np.testing.assert_array_equal(out, [1] * 6 + [0] * 4)


@pk.workunit
def conditional_expr(i, x, out):
    out[i, 0] = x[i] if x[i] > 0 else -x[i]
    out[i, 1] = 1.0 if x[i] > 1 else (0.0 if x[i] > -1 else -1.0)
    out[i, 2] = (x[i] * 2 if i % 2 == 0 else x[i] * 3) + 1


def test_conditional_expressions(space):
    x = np.array([-3.0, -0.5, 0.0, 0.5, 2.0, 7.0])
    out = np.zeros((6, 3))
    pk.parallel_for(pk.RangePolicy(space, 0, 6), conditional_expr, x=x, out=out)
    for i, v in enumerate(x):
        v = float(v)
        assert list(out[i]) == [
            v if v > 0 else -v,
            1.0 if v > 1 else (0.0 if v > -1 else -1.0),
            (v * 2 if i % 2 == 0 else v * 3) + 1,
        ]


@pk.workunit
def bool_locals(i, x, out):
    flag = x[i] > 0
    other = not flag
    both = flag and i % 2 == 0
    if flag:
        out[i, 0] = 1
    if other:
        out[i, 1] = 1
    if both or i == 5:
        out[i, 2] = 1


def test_bool_locals(space):
    x = np.array([1.0, -1.0, 2.0, 0.0, 3.0, -4.0])
    out = np.zeros((6, 3), dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, 6), bool_locals, x=x, out=out)
    np.testing.assert_array_equal(out[:, 0], x > 0)
    np.testing.assert_array_equal(out[:, 1], ~(x > 0))
    np.testing.assert_array_equal(out[:, 2], ((x > 0) & (np.arange(6) % 2 == 0)) | (np.arange(6) == 5))


# -------------------------------------------------------------------------------------- augmented assignment


@pk.workunit
def augmented_float(i, v):
    v[i, 0] += 1.5
    v[i, 1] -= 0.25
    v[i, 2] *= 3.0
    v[i, 3] /= 4.0
    v[i, 4] //= 2.0
    v[i, 5] %= 0.75
    v[i, 6] **= 2


@pk.workunit
def augmented_int(i, v):
    v[i, 0] += 7
    v[i, 1] -= 9
    v[i, 2] *= -3
    v[i, 3] //= 4
    v[i, 4] %= 5
    v[i, 5] &= 0xF0
    v[i, 6] |= 0x101
    v[i, 7] ^= 0x3C
    v[i, 8] <<= 3
    v[i, 9] >>= 2
    t = v[i, 10]
    t += 2
    t *= 3
    t -= 1
    t //= 2
    t %= 1000
    v[i, 10] = t


def test_augmented_assignment_float(space, rng):
    v = rng.uniform(-10, 10, (12, 7))
    expected = v.copy()
    pk.parallel_for(pk.RangePolicy(space, 0, 12), augmented_float, v=v)
    for row in expected:
        row[0] += 1.5
        row[1] -= 0.25
        row[2] *= 3.0
        row[3] /= 4.0
        row[4] //= 2.0
        row[5] %= 0.75
        row[6] **= 2
    np.testing.assert_allclose(v, expected, rtol=1e-15)


def test_augmented_assignment_int(space, rng):
    v = rng.integers(-1000, 1000, (12, 11))
    expected = [[int(x) for x in row] for row in v]
    pk.parallel_for(pk.RangePolicy(space, 0, 12), augmented_int, v=v)
    for row in expected:
        row[0] += 7
        row[1] -= 9
        row[2] *= -3
        row[3] //= 4
        row[4] %= 5
        row[5] &= 0xF0
        row[6] |= 0x101
        row[7] ^= 0x3C
        row[8] <<= 3
        row[9] >>= 2
        t = row[10]
        t = ((((t + 2) * 3) - 1) // 2) % 1000
        row[10] = t
    np.testing.assert_array_equal(v, np.array(expected))


# ----------------------------------------------------------------------------------------- indexing and shape


@pk.workunit
def index_forms(i, a, out):
    s = 0.0
    for j in range(a.extent(1)):
        s += a[i, j] + 10 * a[i][j]
    out[i, 0] = s
    out[i, 1] = a.extent(0) * 1000 + a.extent(1)
    out[i, 2] = a.shape[0] * 1000 + a.shape[1]


def test_index_forms_extent_and_shape(space, rng):
    a = rng.integers(0, 100, (5, 7)).astype(np.float64)
    out = np.zeros((5, 3))
    pk.parallel_for(pk.RangePolicy(space, 0, 5), index_forms, a=a, out=out)
    np.testing.assert_array_equal(out[:, 0], 11 * a.sum(axis=1))
    np.testing.assert_array_equal(out[:, 1], np.full(5, 5007.0))
    np.testing.assert_array_equal(out[:, 2], np.full(5, 5007.0))


@pk.workunit
def index_3d(i, a, out):
    for j in range(a.shape[1]):
        for k in range(a.extent(2)):
            out[i][j][k] = a[i, j, k] * 2 + a[i][j][k]


def test_index_3d_mixed_forms(space, rng):
    a = rng.standard_normal((3, 4, 5))
    out = np.zeros_like(a)
    pk.parallel_for(pk.RangePolicy(space, 0, 3), index_3d, a=a, out=out)
    np.testing.assert_allclose(out, 3 * a, rtol=1e-15)


# ------------------------------------------------------------------------------------------------- math


@pk.workunit
def math_unary(i, x, out):
    out[i, 0] = math.sqrt(x[i])
    out[i, 1] = math.exp(x[i])
    out[i, 2] = math.log(x[i])
    out[i, 3] = math.log2(x[i])
    out[i, 4] = math.log10(x[i])
    out[i, 5] = math.sin(x[i])
    out[i, 6] = math.cos(x[i])
    out[i, 7] = math.tan(x[i])
    out[i, 8] = math.asin(x[i])
    out[i, 9] = math.acos(x[i])
    out[i, 10] = math.atan(x[i])
    out[i, 11] = math.sinh(x[i])
    out[i, 12] = math.cosh(x[i])
    out[i, 13] = math.tanh(x[i])
    out[i, 14] = math.floor(x[i] * 10 - 5)
    out[i, 15] = math.ceil(x[i] * 10 - 5)
    out[i, 16] = math.fabs(x[i] - 0.5)
    out[i, 17] = math.erf(x[i])
    out[i, 18] = math.erfc(x[i])


@pk.workunit
def pk_unary(i, x, out):
    out[i, 0] = pk.sqrt(x[i])
    out[i, 1] = pk.exp(x[i])
    out[i, 2] = pk.log(x[i])
    out[i, 3] = pk.log2(x[i])
    out[i, 4] = pk.log10(x[i])
    out[i, 5] = pk.sin(x[i])
    out[i, 6] = pk.cos(x[i])
    out[i, 7] = pk.tan(x[i])
    out[i, 8] = pk.asin(x[i])
    out[i, 9] = pk.acos(x[i])
    out[i, 10] = pk.atan(x[i])
    out[i, 11] = pk.sinh(x[i])
    out[i, 12] = pk.cosh(x[i])
    out[i, 13] = pk.tanh(x[i])
    out[i, 14] = pk.floor(x[i] * 10 - 5)
    out[i, 15] = pk.ceil(x[i] * 10 - 5)
    out[i, 16] = pk.fabs(x[i] - 0.5)
    out[i, 17] = pk.erf(x[i])
    out[i, 18] = pk.erfc(x[i])


UNARY_REF = [
    math.sqrt,
    math.exp,
    math.log,
    math.log2,
    math.log10,
    math.sin,
    math.cos,
    math.tan,
    math.asin,
    math.acos,
    math.atan,
    math.sinh,
    math.cosh,
    math.tanh,
    lambda v: math.floor(v * 10 - 5),
    lambda v: math.ceil(v * 10 - 5),
    lambda v: math.fabs(v - 0.5),
    math.erf,
    math.erfc,
]


@pytest.mark.parametrize("wu", [math_unary, pk_unary], ids=["math", "pk"])
def test_math_unary(space, wu):
    x = np.array([0.05, 0.1, 0.25, 0.3333, 0.5, 0.62, 0.75, 0.9, 0.99])
    out = np.zeros((len(x), len(UNARY_REF)))
    pk.parallel_for(pk.RangePolicy(space, 0, len(x)), wu, x=x, out=out)
    expected = np.array([[f(float(v)) for f in UNARY_REF] for v in x])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-300)


@pk.workunit
def math_binary(i, x, y, out):
    out[i, 0] = math.atan2(x[i], y[i])
    out[i, 1] = math.pow(abs(x[i]), y[i])
    out[i, 2] = math.fmod(x[i], y[i])
    out[i, 3] = math.hypot(x[i], y[i])
    out[i, 4] = math.copysign(x[i], y[i])
    out[i, 5] = pk.fmin(x[i], y[i])
    out[i, 6] = pk.fmax(x[i], y[i])


@pk.workunit
def pk_binary(i, x, y, out):
    out[i, 0] = pk.atan2(x[i], y[i])
    out[i, 1] = pk.pow(abs(x[i]), y[i])
    out[i, 2] = pk.fmod(x[i], y[i])
    out[i, 3] = pk.hypot(x[i], y[i])
    out[i, 4] = pk.copysign(x[i], y[i])
    out[i, 5] = pk.fmin(x[i], y[i])
    out[i, 6] = pk.fmax(x[i], y[i])


@pytest.mark.parametrize("wu", [math_binary, pk_binary], ids=["math", "pk"])
def test_math_binary(space, wu):
    x = np.array([1.5, -2.25, 3.0, -0.5, 7.75, 0.0])
    y = np.array([0.5, 1.5, -2.0, -0.25, 2.5, 3.0])
    out = np.zeros((len(x), 7))
    pk.parallel_for(pk.RangePolicy(space, 0, len(x)), wu, x=x, y=y, out=out)
    for k in range(len(x)):
        a, b = float(x[k]), float(y[k])
        expected = [
            math.atan2(a, b),
            math.pow(abs(a), b),
            math.fmod(a, b),
            math.hypot(a, b),
            math.copysign(a, b),
            min(a, b),
            max(a, b),
        ]
        np.testing.assert_allclose(out[k], expected, rtol=1e-12, atol=1e-300)


@pk.workunit
def predicates(i, x, out):
    out[i, 0] = 1 if math.isnan(x[i]) else 0
    out[i, 1] = 1 if math.isinf(x[i]) else 0
    out[i, 2] = 1 if math.isfinite(x[i]) else 0
    out[i, 3] = 1 if pk.isnan(x[i]) else 0
    out[i, 4] = 1 if pk.isinf(x[i]) else 0
    out[i, 5] = 1 if pk.isfinite(x[i]) else 0


def test_float_predicates(space):
    x = np.array([0.0, -1.5, np.nan, np.inf, -np.inf, 1e308])
    out = np.zeros((6, 6), dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, 6), predicates, x=x, out=out)
    for col, f in enumerate([np.isnan, np.isinf, np.isfinite] * 2):
        np.testing.assert_array_equal(out[:, col], f(x).astype(np.int64))


@pk.workunit
def builtins_kernel(i, x, y, n, out_f, out_i):
    out_f[i, 0] = min(x[i], y[i])
    out_f[i, 1] = max(x[i], y[i], 0.5)
    out_f[i, 2] = abs(x[i])
    out_f[i, 3] = float(n[i]) / 4
    out_f[i, 4] = min(x[i], n[i])
    out_i[i, 0] = int(x[i] * 10)
    out_i[i, 1] = abs(n[i])
    out_i[i, 2] = min(n[i], 3)
    out_i[i, 3] = max(n[i], -2, i)
    out_i[i, 4] = int(n[i] / 3)


def test_min_max_abs_int_float(space):
    x = np.array([-2.75, -0.05, 0.0, 0.35, 1.99, 3.5])
    y = np.array([1.0, -0.1, 0.25, 0.3, 5.0, -7.0])
    n = np.array([-7, -1, 0, 2, 5, 11], dtype=np.int64)
    out_f = np.zeros((6, 5))
    out_i = np.zeros((6, 5), dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, 6), builtins_kernel, x=x, y=y, n=n, out_f=out_f, out_i=out_i)
    for k in range(6):
        a, b, c = float(x[k]), float(y[k]), int(n[k])
        assert list(out_f[k]) == [min(a, b), max(a, b, 0.5), abs(a), float(c) / 4, min(a, c)]
        assert list(out_i[k]) == [
            int(a * 10),
            abs(c),
            min(c, 3),
            max(c, -2, k),
            int(c / 3),
        ]  # int() truncates


@pk.workunit
def constants(i, x, out):
    out[i, 0] = math.pi * i
    out[i, 1] = math.e + i
    out[i, 2] = 1.0 if x[i] < math.inf else 0.0
    out[i, 3] = -math.inf if x[i] < 0 else math.inf


def test_math_constants(space):
    x = np.array([-1.0, 2.0, np.inf])
    out = np.zeros((3, 4))
    pk.parallel_for(pk.RangePolicy(space, 0, 3), constants, x=x, out=out)
    np.testing.assert_array_equal(out[:, 0], math.pi * np.arange(3))
    np.testing.assert_array_equal(out[:, 1], math.e + np.arange(3))
    np.testing.assert_array_equal(out[:, 2], [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(out[:, 3], [-np.inf, np.inf, np.inf])


# --------------------------------------------------------------------------------------------- printf, locals


@pk.workunit
def printer(i, x, out):
    pk.printf("kernelkit printf i=%d x=%f\n", i, x[i])
    out[i] = x[i]


def test_printf_runs(space, capfd):
    x = np.arange(3, dtype=np.float64)
    out = np.zeros(3)
    pk.parallel_for(pk.RangePolicy(space, 0, 3), printer, x=x, out=out)
    pk.fence()
    np.testing.assert_array_equal(out, x)
    capfd.readouterr()


@pk.workunit
def inferred_locals(i, x, out):
    a = 0
    b = 0.0
    c = x[i]
    for k in range(i):
        a += k
        b += 0.5
    c = c * 2
    d = a + b + c
    out[i] = d


def test_inferred_local_types(space):
    x = np.arange(6, dtype=np.float64) / 4
    out = np.zeros(6)
    pk.parallel_for(pk.RangePolicy(space, 0, 6), inferred_locals, x=x, out=out)
    i = np.arange(6)
    np.testing.assert_array_equal(out, i * (i - 1) // 2 + 0.5 * i + 2 * x)


@pk.workunit
def modify_parameter(i, a, flag, out):
    a += i  # a per-call copy, as in Python: no iteration may see another's change
    if flag:
        a *= 2
    out[i] = a


def test_scalar_parameters_are_per_iteration_copies(space, kk):
    n = kk.size(space, 10_000, 500)
    out = np.zeros(n, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, n), modify_parameter, a=5, flag=True, out=out)
    np.testing.assert_array_equal(out, 2 * (5 + np.arange(n)))
    pk.parallel_for(pk.RangePolicy(space, 0, n), modify_parameter, a=5, flag=False, out=out)
    np.testing.assert_array_equal(out, 5 + np.arange(n))
