"""Numerics: the same answers on every space (docs/numerics.md), one test per rule of issue 17.

Each rule is checked on every available space (the `space` fixture) against NumPy or Python, bit for bit where
the rule promises it."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import kernelkit as pk
from kernelkit import config


@pk.workunit
def _mul_add(i, a, b, c, out):
    out[i] = a[i] * b[i] + c[i]


@pk.workunit(fast_math=True)
def _mul_add_fast(i, a, b, c, out):
    out[i] = a[i] * b[i] + c[i]


def _fma_inputs(rng, n=4096):
    # inputs where a fused multiply-add rounds differently from a multiply then an add
    a, b, c = (rng.standard_normal(n) for _ in range(3))
    return a, b, c


def test_ieee_by_default_no_contraction(space, rng):
    """Item 1: `a * b + c` is two rounded operations, as NumPy computes it (no FMA contraction)."""
    a, b, c = _fma_inputs(rng)
    out = np.zeros_like(a)
    pk.parallel_for(pk.RangePolicy(space, 0, a.size), _mul_add, a=a, b=b, c=c, out=out)
    np.testing.assert_array_equal(out, a * b + c)


def test_fast_math_is_opt_in_and_part_of_the_key():
    """Item 1: `fast_math=True` changes the flags (contraction happens where the CPU has FMA) and the cache key."""
    from kernelkit.backends import base
    from kernelkit.backends.openmp import toolchain
    from kernelkit.frontend import Signature, lower_kernel
    from kernelkit.ir import types as T

    tc = toolchain.require_cxx()
    assert "-ffp-contract=off" in tc.flags("openmp")
    assert "-ffp-contract=off" not in tc.flags("openmp", fast_math=True)
    assert "-ffast-math" in tc.flags("serial", fast_math=True)
    sig = Signature("for", 1, {n: T.ViewType(T.float64, 1) for n in ("a", "b", "c", "out")})
    slow, _ = lower_kernel(_mul_add, sig)
    fast, _ = lower_kernel(_mul_add_fast, sig)
    backend = base.get("serial")
    assert "KK_FAST_MATH" in backend.render(fast) and "KK_FAST_MATH" not in backend.render(slow)
    with config.override(fast_math=True):
        assert "KK_FAST_MATH" in backend.render(slow)  # KERNELKIT_FAST_MATH=1: every kernel


def test_fast_math_option_is_checked():
    @pk.workunit(fast_math="yes")
    def k(i, out):
        out[i] = 1.0

    with pytest.raises(pk.KernelError, match="fast_math"):
        pk.parallel_for(pk.RangePolicy(pk.Debug, 0, 1), k, out=np.zeros(1))


def test_cuda_contract_is_ieee_too():
    """Item 1: NVRTC's default --fmad=true is turned off unless fast math is asked for (compiled, not run)."""
    from kernelkit.backends.cuda import backend as cuda_backend

    assert cuda_backend.IEEE_OPTIONS == ("--fmad=false",)
    assert "--use_fast_math" in cuda_backend.FAST_OPTIONS


# ------------------------------------------------------------------------------------------ item 2: integers


def _run(space, kernel, n, **arrays):
    pk.parallel_for(pk.RangePolicy(space, 0, n), kernel, **arrays)
    return arrays


@pk.workunit
def _add_big(i, v, out):
    out[i] = v[i] + 3000000000


@pk.workunit
def _mul_big(i, v, out):
    out[i] = v[i] * 3000000000


def test_literal_that_does_not_fit_promotes(space):
    """Item 2: an int32 element plus or times 3000000000 computes in int64 (the literal keeps its own type)."""
    v = np.array([1, -7, 2**31 - 1], dtype=np.int32)
    out = _run(space, _add_big, 3, v=v, out=np.zeros(3, np.int64))["out"]
    assert out.tolist() == [int(x) + 3000000000 for x in v]
    out = _run(space, _mul_big, 3, v=v, out=np.zeros(3, np.int64))["out"]
    assert out.tolist() == [int(x) * 3000000000 for x in v]


@pk.workunit
def _narrow_local(i, v, out):
    x = v[i]
    x = 3000000000
    out[i] = x


@pk.workunit
def _narrow_compound(i, v):
    v[i] += 3000000000


@pk.workunit
def _uint64_literal_into_int64(i, out):
    out[i] = 10**19


@pk.workunit
def _float_into_int_element(i, v):
    v[i] += 0.5


@pytest.mark.parametrize(
    ("kernel", "dtype", "where"),
    [
        (_narrow_local, np.int32, "x = 3000000000"),
        (_narrow_compound, np.int32, "v[i] += 3000000000"),
        (_uint64_literal_into_int64, np.int64, "out[i] = 10**19"),
        (_float_into_int_element, np.int32, "v[i] += 0.5"),
    ],
    ids=["local", "compound", "uint64-into-int64", "float-into-int"],
)
def test_values_an_integer_cannot_hold_are_errors(space, kernel, dtype, where):
    """Item 2: the same KernelError on every space, naming the line (never a wrapped value on some of them)."""
    arrays = {"v": np.ones(2, dtype), "out": np.zeros(2, np.int64)} if kernel is _narrow_local else {}
    if not arrays:
        arrays = {"v": np.ones(2, dtype)} if "v[i]" in where else {"out": np.zeros(2, dtype)}
    with pytest.raises(pk.KernelError) as info:
        _run(space, kernel, 2, **arrays)
    assert where in str(info.value) and __file__ in str(info.value)


@pk.workunit
def _explicit_wrap(i, out):
    out[i] = pk.int32(3000000000)


@pk.workunit
def _uint64_local(i, out):
    x = 10**19
    out[i] = x // 3 + i


def test_explicit_conversion_wraps_and_big_literals_are_uint64(space):
    """Item 2: pk.int32(3000000000) wraps (an explicit conversion); 2**63 <= literal < 2**64 is a uint64."""
    assert _run(space, _explicit_wrap, 1, out=np.zeros(1, np.int64))["out"][0] == 3000000000 - 2**32
    out = _run(space, _uint64_local, 2, out=np.zeros(2, np.uint64))["out"]
    assert out.tolist() == [10**19 // 3, 10**19 // 3 + 1]


def test_constant_expressions_beyond_64_bits_are_errors():
    @pk.workunit
    def k(i, out):
        out[i] = 2**64 * 3

    with pytest.raises(pk.KernelError, match="does not fit in 64 bits"):
        _run(pk.Debug, k, 1, out=np.zeros(1, np.uint64))


@pk.workunit
def _count(i, acc):
    acc += 1


@pk.workunit
def _count_then_half(i, acc):
    acc += 1
    acc += 0.5


def test_counting_reduce_returns_an_int(space):
    """Item 2: an unannotated accumulator that only receives ints is int64; one float makes it float64."""
    r = pk.parallel_reduce(pk.RangePolicy(space, 0, 1000), _count)
    assert type(r) is int and r == 1000
    r = pk.parallel_reduce(pk.RangePolicy(space, 0, 10), _count_then_half)
    assert type(r) is float and r == 15.0


# ------------------------------------------------------------------------------------------ item 3: float32


@pk.workunit
def _f32_constructor(i, out):
    out[i] = pk.float32(0.1)


@pk.workunit
def _f32_local(i, v, out):
    x = v[i]
    x = 0.1
    out[i] = x


@pk.workunit
def _f32_annotated(i, out):
    y: pk.float32 = 16777217
    out[i] = y


def test_float32_values_are_rounded_on_every_space(space):
    """Item 3: a float32 local or pk.float32(x) holds the float32 value, on Debug as in compiled code."""
    f = float(np.float32(0.1))
    assert _run(space, _f32_constructor, 1, out=np.zeros(1))["out"][0] == f
    assert _run(space, _f32_local, 1, v=np.ones(1, np.float32), out=np.zeros(1))["out"][0] == f
    assert _run(space, _f32_annotated, 1, out=np.zeros(1))["out"][0] == 16777216.0


# ------------------------------------------------------------------------------------------ item 6: defined edges


def _shl_rule(a: int, b: int, bits: int) -> int:
    if not 0 <= b < bits:
        return 0
    v = (a << b) & ((1 << bits) - 1)
    return v - (1 << bits) if v >> (bits - 1) else v


def _shr_rule(a: int, b: int, bits: int) -> int:
    return a >> b if 0 <= b < bits else (-1 if a < 0 else 0)


@pk.workunit
def _shifts(i, a, k, left, right):
    left[i] = a[i] << k[i]
    right[i] = a[i] >> k[i]


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_shifts_by_any_count_are_defined(space, dtype):
    """Item 6: counts outside [0, width) shift every bit out (<<) or leave the sign (>>), on every space."""
    bits = np.dtype(dtype).itemsize * 8
    counts = [-1, 0, 1, bits - 1, bits, bits + 1, 100, -(2**31)]
    a = np.array([3, -5] * len(counts), dtype=dtype)
    k = np.repeat(np.array(counts, dtype=dtype), 2)
    n = a.size
    res = _run(space, _shifts, n, a=a, k=k, left=np.zeros(n, dtype), right=np.zeros(n, dtype))
    assert res["left"].tolist() == [_shl_rule(int(x), int(c), bits) for x, c in zip(a, k, strict=True)]
    assert res["right"].tolist() == [_shr_rule(int(x), int(c), bits) for x, c in zip(a, k, strict=True)]


@pk.workunit
def _to_int(i, x, out):
    out[i] = int(x[i])


@pk.workunit
def _to_int32(i, x, out):
    out[i] = pk.int32(x[i])


@pk.workunit
def _to_uint8(i, x, out):
    out[i] = pk.uint8(x[i])


_EDGES = [np.nan, np.inf, -np.inf, 1e30, -1e30, 2.9, -2.9, -0.0, 2.0**63, -(2.0**63), 2.0**31, 255.5, 256.0, -1.0]


@pytest.mark.parametrize(
    ("kernel", "dtype"), [(_to_int, np.int64), (_to_int32, np.int32), (_to_uint8, np.uint8)], ids=["int", "i32", "u8"]
)
def test_float_to_int_is_defined_for_nan_and_overflow(space, kernel, dtype):
    """Item 6: truncation toward zero, NaN -> 0, saturation outside the type's range (int(nan) included)."""
    info = np.iinfo(dtype)

    def rule(v: float) -> int:
        return (
            0
            if v != v
            else int(max(min(v, info.max), info.min))
            if abs(v) != np.inf
            else (info.max if v > 0 else info.min)
        )

    x = np.array(_EDGES)
    out = _run(space, kernel, x.size, x=x, out=np.zeros(x.size, dtype))["out"]
    assert out.tolist() == [rule(v) for v in _EDGES]


# ------------------------------------------------------------------------------------------ item 4: assignment


@pk.workunit
def _only_under_if(i, a, out):
    if a[i] > 0:
        y = 1.0
    out[i] = y  # E:if


@pk.workunit
def _only_in_for(i, a, out):
    for j in range(a[i]):
        z = j
    out[i] = z  # E:for


@pk.workunit
def _only_in_while(i, a, out):
    k = 0
    while k < a[i]:
        w = k
        k += 1
    out[i] = w  # E:while


@pk.workunit
def _for_variable_after_loop(i, a, out):
    for j in range(a[i]):  # noqa: B007 - read after the loop: the point of the test
        pass
    out[i] = j  # E:forvar


def _marker_line(tag: str) -> int:
    with open(__file__, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            if text.rstrip().endswith(f"# E:{tag}"):
                return n
    raise AssertionError(tag)


@pytest.mark.parametrize(
    ("kernel", "tag", "why"),
    [
        (_only_under_if, "if", "only under the `if`"),
        (_only_in_for, "for", "only inside the loop"),
        (_only_in_while, "while", "only inside the loop"),
        (_for_variable_after_loop, "forvar", "only inside the loop"),
    ],
    ids=["if", "for", "while", "for-variable"],
)
def test_local_assigned_on_some_paths_only_is_an_error(space, kernel, tag, why):
    """Item 4: a KernelError naming the line of the read (not a silent 0)."""
    with pytest.raises(pk.KernelError) as info:
        _run(space, kernel, 2, a=np.zeros(2, np.int64), out=np.zeros(2))
    text = str(info.value)
    assert f"{__file__}:{_marker_line(tag)}:" in text and why in text


@pk.workunit
def _assigned_on_every_path(i, a, out):
    if a[i] > 0:
        y = 1.0
    else:
        y = 2.0
    prev = 0.0
    for j in range(3):  # a loop-carried local set on the first iteration
        if j == 0:
            best = 1.0
        elif best > 5.0:
            best = 0.0
        prev = best
    k = 0
    while True:
        w = 1.0 * k
        k += 1
        if k > 2:
            break
    out[i] = y + prev + w


@pk.function
def _early_return(x: float) -> float:
    if x > 0:
        return 1.0
    else:
        r = 2.0
    return r


@pk.workunit
def _uses_early_return(i, a, out):
    out[i] = _early_return(1.0 * a[i])


def test_definitely_assigned_locals_are_accepted(space):
    out = _run(space, _assigned_on_every_path, 2, a=np.array([1, -1]), out=np.zeros(2))["out"]
    assert out.tolist() == [1.0 + 1.0 + 2.0, 2.0 + 1.0 + 2.0]
    out = _run(space, _uses_early_return, 2, a=np.array([1, -1]), out=np.zeros(2))["out"]
    assert out.tolist() == [1.0, 2.0]


# ------------------------------------------------------------------------------------------ item 11: threads


@pk.workunit
def _atomic_count(i, h):
    pk.atomic_add(h, [i % 2], 1)


@pk.workunit
def _claim(i, pool, out):
    st = pool.get_state()
    out[i] = st.urand64()
    pool.free_state(st)


def test_debug_atomics_and_random_pools_under_python_threads():
    """Item 11: Debug kernels launched by several Python threads at once lose no atomic update and no
    random-pool claim (each stream is claimed once)."""
    import threading

    h = np.zeros(2, np.int64)
    pool = pk.Random_XorShift64_Pool(7)
    outs = [np.zeros(300, np.uint64) for _ in range(4)]
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for _ in range(10):
                pk.parallel_for(pk.RangePolicy(pk.Debug, 0, 300), _atomic_count, h=h)
            pk.parallel_for(pk.RangePolicy(pk.Debug, 0, 300), _claim, pool=pool, out=outs[k])
        except BaseException as e:  # reported below: a thread's failure must fail the test
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can: races show up every run
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors
    assert h.tolist() == [4 * 10 * 150, 4 * 10 * 150]
    draws = np.concatenate(outs)
    assert len(set(draws.tolist())) == draws.size  # 1200 claims, 1200 distinct streams


# ------------------------------------------------------------------------------------------ fuzzer findings
# Each of these was a divergence tests/fuzz found between Debug and the compiled spaces; the rule it broke is in
# docs/numerics.md.


@pk.workunit
def _float_mod(i, x, y, m, q):
    m[i] = x[i] % y[i]
    q[i] = x[i] // y[i]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_float_modulo_and_floor_division_follow_python(space, dtype):
    """A zero remainder takes the divisor's sign ((-7.0) % 0.5 is +0.0, C's fmod gives -0.0); float32 `//` and
    `%` are computed in float32 (in float64 the quotient 4771786 // -0.31319 rounds to another float32)."""
    x = np.array([-7.0, 7.0, -0.0, 4771786.0, 658256.1875, -465335.71875], dtype)
    y = np.array([0.5, -0.5, 2.0, -0.3131901025772095, 0.04093228280544281, 0.015590623021125793], dtype)
    m, q = np.zeros_like(x), np.zeros_like(x)
    _run(space, _float_mod, x.size, x=x, y=y, m=m, q=q)
    f = dtype

    def pymod(a, b):  # Python's algorithm (CPython float_rem / float_floor_div) at the precision of dtype
        r = np.fmod(a, b)
        r = (r + b if (r < 0) != (b < 0) else r) if r != 0 else np.copysign(f(0), b)
        div = (a - np.fmod(a, b)) / b
        if np.fmod(a, b) != 0 and (b < 0) != (np.fmod(a, b) < 0):
            div = div - f(1)
        fl = np.floor(div)
        return r, (fl + f(1) if div - fl > f(0.5) else fl) if div != 0 else np.copysign(f(0), a / b)

    expected = [pymod(f(a), f(b)) for a, b in zip(x, y, strict=True)]
    assert m.tobytes() == np.array([e[0] for e in expected], dtype).tobytes()
    assert q.tobytes() == np.array([e[1] for e in expected], dtype).tobytes()
    if dtype is np.float64:
        assert m.tolist()[:2] == [0.0, -0.0] and np.signbit(m[:2]).tolist() == [False, True]


@pk.workunit
def _int_edges(i, c, d, neg, absd, cmp):
    neg[i] = -c[i]
    absd[i] = abs(d[i])
    cmp[i] = 1 if pk.int32(1) >= -c[i] else 0


def test_signed_overflow_wraps_and_is_never_undefined(space):
    """-INT32_MIN and abs(INT64_MIN) wrap (Debug computed abs exactly, beyond int64); `1 >= -c` for c = INT32_MIN
    is true (GCC, for which signed overflow is undefined, turned it into `c >= -1`: the host compiles with
    -fwrapv, CUDA code wraps through unsigned arithmetic)."""
    c = np.array([-(2**31), 5], np.int32)
    d = np.array([-(2**63), -5], np.int64)
    r = _run(
        space, _int_edges, 2, c=c, d=d, neg=np.zeros(2, np.int32), absd=np.zeros(2, np.int64), cmp=np.zeros(2, np.int64)
    )
    assert r["neg"].tolist() == [-(2**31), -5]
    assert r["absd"].tolist() == [-(2**63), 5]
    assert r["cmp"].tolist() == [1, 1]


@pk.workunit
def _zero_signs(i, x, y, f32, out, out32):
    out[i] = -abs(x[i]) + 0.0
    y[i] = math.floor(x[i])
    out32[i] = math.floor(f32[i])


def test_signs_of_zero(space):
    """-abs(x) + 0.0 is +0.0 for x = +-0 (GCC folded it into -abs(x); -frounding-math stops it); floor(-0.0)
    is -0.0 and floor(inf) is inf on Debug too (Python's math.floor returns an int)."""
    x = np.array([0.0, -0.0, -2.5, np.inf])
    r = _run(
        space,
        _zero_signs,
        4,
        x=x,
        y=np.zeros(4),
        f32=x.astype(np.float32),
        out=np.zeros(4),
        out32=np.zeros(4, np.float32),
    )
    assert np.signbit(r["out"]).tolist() == [False, False, True, True]
    assert r["y"].tolist() == [0.0, -0.0, -3.0, np.inf] and np.signbit(r["y"]).tolist() == [False, True, True, False]
    assert np.signbit(r["out32"]).tolist() == [False, True, True, False]


@pk.workunit
def _c_math(i, x, y, out):
    out[i, 0] = x[i] ** y[i]
    out[i, 1] = math.sin(x[i])
    out[i, 2] = math.exp(y[i])
    out[i, 3] = math.log1p(x[i])
    out[i, 4] = math.atan2(x[i], y[i])
    out[i, 5] = math.tanh(x[i] * y[i])
    out[i, 6] = pk.cbrt(x[i])
    out[i, 7] = math.erf(y[i])
    out[i, 8] = math.lgamma(x[i])
    out[i, 9] = pk.exp2(y[i])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_math_functions_are_the_c_librarys(space, rng, dtype):
    """Math on Debug calls the C library's functions (sinf, powf for float32; cbrt, erf, lgamma for float64), as
    compiled host code does: the same bits. It used to round float64 results to float32 and to use NumPy's cbrt
    and CPython's erf and lgamma, which differ in the last bit now and then (found by tests/fuzz)."""
    if "Cuda" == str(space).split(".")[-1]:
        pytest.skip("CUDA's math functions have their own error bounds (docs/numerics.md)")
    x = (rng.standard_normal(500) * 3).astype(dtype)
    y = (rng.standard_normal(500) * 2).astype(dtype)
    ref = np.zeros((500, 10), dtype)
    _run(pk.Serial, _c_math, 500, x=x, y=y, out=ref)
    out = _run(space, _c_math, 500, x=x, y=y, out=np.zeros((500, 10), dtype))["out"]
    bits = np.uint32 if dtype is np.float32 else np.uint64
    nan = np.isnan(ref) & np.isnan(out)
    assert (out.view(bits) == ref.view(bits))[~nan].all()


@pk.workunit
def _float_pow(i, x, y, out):
    out[i] = x[i] ** y[i]


def test_float_power_is_cs(space):
    """A negative base with a non-integer exponent is NaN (Python goes complex, and an overflowing complex
    power raised OverflowError, which Debug had turned into inf)."""
    x = np.array([-490.2, -2.0, -1e10, 0.0, -0.0, 2.0, -np.inf])
    y = np.array([305.925, 0.5, 1e30, -1.0, -1.0, 1e-320, 0.5])
    out = _run(space, _float_pow, x.size, x=x, y=y, out=np.zeros(x.size))["out"]
    with np.errstate(all="ignore"):
        ref = np.power(x, y)
    assert np.array_equal(np.isnan(out), np.isnan(ref))
    assert out[~np.isnan(ref)].tolist() == ref[~np.isnan(ref)].tolist()


@pk.workunit
def _f32_quotient(i, a, b, out):
    out[i] = a[i] + (b[i] + b[i]) / (b[i] * b[i])


def test_float32_division_rounds_to_float32(space, rng):
    """A float32 quotient is a float32 on Debug too (it was left in float64; found by tests/fuzz against NumPy)."""
    a = rng.standard_normal(300)
    b = rng.standard_normal(300).astype(np.float32)
    out = _run(space, _f32_quotient, 300, a=a, b=b, out=np.zeros(300))["out"]
    assert out.tobytes() == (a + (b + b) / (b * b)).tobytes()
