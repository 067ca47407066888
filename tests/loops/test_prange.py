"""@pk.jit with pk.prange on every space: reductions, nested loops, array reductions, allocation, returns."""

import numpy as np
import pytest

import kernelkit as pk


def jit(space, fn):
    return pk.jit(space=space)(fn)


def total_sum(a):
    s = 0.0
    for i in pk.prange(a.shape[0]):
        s += a[i]
    return s


def total_prod(a):
    p = 1.0
    for i in pk.prange(a.shape[0]):
        p *= a[i]
    return p


def extremes(a):
    lo = np.inf
    hi = -np.inf
    for i in pk.prange(a.shape[0]):
        lo = min(lo, a[i])
        hi = max(a[i], hi)
    return lo, hi


def count_positive(a):
    n = 0
    for i in pk.prange(a.shape[0]):
        if a[i] > 0:
            n += 1
    return n


def test_scalar_reductions(space, rng):
    a = rng.random(1001) + 0.5
    assert jit(space, total_sum)(a) == pytest.approx(a.sum(), rel=1e-12)
    b = rng.random(200) * 0.5 + 0.75
    assert jit(space, total_prod)(b) == pytest.approx(np.prod(b), rel=1e-12)
    lo, hi = jit(space, extremes)(a)
    assert (lo, hi) == (a.min(), a.max())
    c = rng.standard_normal(777)
    assert jit(space, count_positive)(c) == int((c > 0).sum())


def outer_add(x, y):
    M = x.shape[0]
    N = y.shape[0]
    out = np.empty((M, N), dtype=x.dtype)
    for i in pk.prange(M):
        for j in pk.prange(N):
            out[i, j] = x[i] + 2 * y[j]
    return out


def test_nested_prange_collapses(space, rng):
    x, y = rng.random(37), rng.random(53)
    f = jit(space, outer_add)
    np.testing.assert_allclose(f(x, y), x[:, None] + 2 * y[None, :])
    from kernelkit.ir import nodes as N
    from kernelkit.loops import lower_program
    from kernelkit.runtime.args import arg_type

    types = {n: arg_type(n, v, None)[0] for n, v in (("x", x), ("y", y))}
    prog, _ = lower_program(outer_add, types)
    loops = [s for s in prog.body if isinstance(s, N.ParallelFor)]
    assert len(loops) == 1 and [v.name for v in loops[0].vars] == ["i", "j"]  # one MDRange


def histogram(keys, nbins):
    h = np.zeros(nbins, dtype=np.int64)
    for i in pk.prange(keys.shape[0]):
        h[keys[i]] += 1
    return h


def weighted_max(keys, w, nbins):
    m = np.full(nbins, -1.0)
    for i in pk.prange(keys.shape[0]):
        m[keys[i]] = max(m[keys[i]], w[i])
    return m


def test_array_reductions_are_atomic(space, rng):
    keys = rng.integers(0, 17, 20000)
    np.testing.assert_array_equal(jit(space, histogram)(keys, 17), np.bincount(keys, minlength=17))
    w = rng.random(20000)
    ref = np.full(17, -1.0)
    np.maximum.at(ref, keys, w)
    np.testing.assert_array_equal(jit(space, weighted_max)(keys, w, 17), ref)


def allocations(a, n):
    z = np.zeros(n, dtype=np.int32)
    o = np.ones((2, n))
    f = np.full(n, 2.5)
    e = np.empty_like(a)
    zl = np.zeros_like(a)
    for i in pk.prange(n):
        z[i] = i
        e[i] = a[i] * 2
        zl[i] += 1.0
    return z, o, f, e, zl


def test_allocations_and_tuple_returns(space):
    a = np.arange(8.0)
    z, o, f, e, zl = jit(space, allocations)(a, 8)
    assert z.dtype == np.int32 and list(z) == list(range(8))
    assert o.shape == (2, 8) and (o == 1).all() and (f == 2.5).all()
    np.testing.assert_array_equal(e, 2 * a)
    np.testing.assert_array_equal(zl, np.ones(8))


def shapes_and_steps(A):
    M, N = A.shape
    s = 0.0
    for i in pk.prange(M - 1, -1, -2):  # a negative step
        for j in range(0, N, 3):
            s += A[i, j]
    return s, A.size, M


def test_shapes_steps_and_scalars(space, rng):
    A = rng.random((9, 10))
    s, size, m = jit(space, shapes_and_steps)(A)
    assert s == pytest.approx(A[8::-2, ::3].sum())
    assert size == 90 and m == 9


def returns_argument(x, scale):
    for i in pk.prange(x.shape[0]):
        x[i] *= scale
    return x


def test_argument_returned_as_itself(space):
    x = np.arange(5.0)
    y = jit(space, returns_argument)(x, 3.0)
    assert y is x and list(x) == [0.0, 3.0, 6.0, 9.0, 12.0]


def host_code(n):
    # host statements between parallel loops: natively, like Numba's njit
    a = np.zeros(n)
    k = 0
    while k * k < n:
        k += 1
    for i in pk.prange(n):
        a[i] = i % k
    if a[n - 1] > 1:
        return a.sum() + 0.5
    return a.sum()


def test_host_code_between_loops(space):
    n = 50
    k = int(np.ceil(np.sqrt(n)))
    a = np.arange(n) % k
    expected = a.sum() + (0.5 if a[-1] > 1 else 0.0)
    assert jit(space, host_code)(n) == pytest.approx(expected)


def test_specializes_per_signature(space):
    f = jit(space, total_sum)
    assert f(np.arange(4.0)) == 6.0
    assert f(np.arange(4, dtype=np.int32)) == 6
    assert f(np.arange(4.0, dtype=np.float32)) == 6.0
    if pk.Debug != space:
        assert f.stats()["specializations"] == 3
