"""kernelkit.appy: APPy's spellings on every space — pragmas, tensor expressions, the tensor pragma, builtins."""

import numpy as np
import pytest

import kernelkit as pk
import kernelkit.appy as appy
from kernelkit.appy import exp, mv

erf = pytest.importorskip("scipy.special").erf


def on(space, fn, **options):
    return appy.jit(space=space, **options)(fn)


def vector_add(a, b, c, N):
    # pragma parallel for simd
    for i in range(N):
        c[i] = a[i] + b[i]


def vector_sum(A, s, N):
    # pragma parallel for simd
    for i in range(N):
        # pragma atomic
        s[0] += A[i]


def spmv(A_row, A_col, A_val, x, y, N):
    # pragma parallel for
    for i in range(N - 1):
        y[i] = 0.0
        # pragma simd
        for j in range(A_row[i], A_row[1 + i]):
            col = A_col[j]
            y[i] += A_val[j] * x[col]


def test_loop_pragmas(space, rng):
    n = 1000
    a, b, c = rng.random(n), rng.random(n), np.zeros(n)
    on(space, vector_add)(a, b, c, n)
    np.testing.assert_allclose(c, a + b)
    s = np.zeros(1)
    on(space, vector_sum)(a, s, n)
    assert s[0] == pytest.approx(a.sum())
    import scipy.sparse as sp

    A = sp.random(60, 60, density=0.1, format="csr", random_state=1)
    x, y = rng.random(60), np.zeros(60)
    on(space, spmv)(A.indptr, A.indices, A.data, x, y, 61)
    np.testing.assert_allclose(y, A @ x)


def softmax_loop(a, b, M, N):
    # pragma parallel for
    for i in range(M):
        m = float("-inf")
        # pragma simd
        for j in range(N):
            m = appy.maximum(m, a[i, j])
        s = 0.0
        # pragma simd
        for j in range(N):
            s += exp(a[i, j] - m)
        # pragma simd
        for j in range(N):
            b[i, j] = exp(a[i, j] - m) / s


def softmax_tensor(a, b, M, N):
    # pragma parallel for
    for i in range(M):
        m = max(a[i, :N])
        s = sum(exp(a[i, :N] - m))
        b[i, :N] = exp(a[i, :N] - m) / s


def test_softmax_loop_and_tensor_oriented(space, rng):
    a = rng.standard_normal((33, 70))
    ref = np.exp(a - a.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    for fn in (softmax_loop, softmax_tensor):
        b = np.zeros_like(a)
        on(space, fn, auto_simd=True)(a, b, 33, 70)
        np.testing.assert_allclose(b, ref, rtol=1e-12)


def gemv(alpha, A, x, y):
    M, N = A.shape
    # pragma :M=>parallel :N=>reduce(sum)
    y[:M] = mv(alpha * A[:M, :N], x[:N])


def jacobi(A, B):
    M, N = A.shape
    for _t in range(1, 4):
        # pragma 1:M-1=>parallel 1:N-1=>parallel
        B[1 : M - 1, 1 : N - 1] = 0.2 * (
            A[1 : M - 1, 1 : N - 1]
            + A[1 : M - 1, : N - 2]
            + A[1 : M - 1, 2:N]
            + A[2:M, 1 : N - 1]
            + A[0 : M - 2, 1 : N - 1]
        )
        # pragma 1:M-1=>parallel 1:N-1=>parallel
        A[1 : M - 1, 1 : N - 1] = 0.2 * (
            B[1 : M - 1, 1 : N - 1]
            + B[1 : M - 1, : N - 2]
            + B[1 : M - 1, 2:N]
            + B[2:M, 1 : N - 1]
            + B[0 : M - 2, 1 : N - 1]
        )
    return A, B


def test_tensor_pragmas(space, rng):
    A, x, y = rng.random((40, 30)), rng.random(30), np.zeros(40)
    on(space, gemv)(1.5, A, x, y)
    np.testing.assert_allclose(y, 1.5 * A @ x)
    A0, B0 = rng.random((20, 25)), rng.random((20, 25))
    A1, B1 = A0.copy(), B0.copy()
    for _ in range(1, 4):
        B1[1:-1, 1:-1] = 0.2 * (A1[1:-1, 1:-1] + A1[1:-1, :-2] + A1[1:-1, 2:] + A1[2:, 1:-1] + A1[:-2, 1:-1])
        A1[1:-1, 1:-1] = 0.2 * (B1[1:-1, 1:-1] + B1[1:-1, :-2] + B1[1:-1, 2:] + B1[2:, 1:-1] + B1[:-2, 1:-1])
    A2, B2 = on(space, jacobi)(A0.copy(), B0.copy())
    np.testing.assert_allclose(A2, A1)
    np.testing.assert_allclose(B2, B1)


def group_by(N, nlabels, nfeatures, data, labels):
    out = appy.zeros([nlabels, nfeatures], dtype=data.dtype)
    count = appy.zeros(nlabels, dtype=data.dtype)
    # pragma parallel for
    for i in range(N):
        l = labels[i]
        # pragma atomic :nfeatures=>le(128)
        out[l, :nfeatures] += data[i, :nfeatures]
        # pragma atomic
        count[l] += 1
    return out / count[:, None]


def masked_sum(a, mask):
    b = 0.0
    # pragma parallel for simd shared(b)
    for i in range(a.shape[0]):
        b += a[i] if mask[i] else 0.0
    return b


def pi(num_steps, step):
    sum = 0.0
    # pragma parallel for simd shared(sum,step)
    for i in range(1, num_steps + 1):
        x = (i - 0.5) * step
        sum += 4.0 / (1.0 + x * x)
    return step * sum


def test_atomics_shared_and_documented_examples(space, rng):
    n = pk.Debug == space and 500 or 5000
    data, labels = rng.random((n, 8)), rng.integers(0, 10, n)
    got = on(space, group_by)(n, 10, 8, data, labels)
    ref = np.stack([data[labels == k].mean(0) for k in range(10)])
    np.testing.assert_allclose(got, ref)
    a, mask = rng.random(n), rng.random(n) > 0.5
    assert on(space, masked_sum)(a, mask) == pytest.approx(a[mask].sum())
    assert on(space, pi)(20000, 1.0 / 20000) == pytest.approx(np.pi, rel=1e-8)


def shared_write():
    a = 0
    # pragma parallel for shared(a)
    for i in range(10):
        if i == 3:
            a = 1
    return a


def sequential(a):
    # pragma sequential for
    for i in range(1, a.shape[0]):
        a[i] += a[i - 1]
    return a


def test_shared_write_and_sequential_for(space):
    assert on(space, shared_write)() == 1
    np.testing.assert_array_equal(on(space, sequential)(np.ones(6)), np.arange(1.0, 7.0))


def appy_range(a):
    s = 0.0
    for i in appy.range(a.shape[0], parallel=True):
        s += a[i]
    for _i in appy.prange(2):
        s += 1.0
    return s


def test_appy_ranges_and_options(space, capsys):
    a = np.arange(10.0)
    f = appy.jit(space=space, backend="triton", dump_code=True, dry_run=0, dump_final_appy=True)(appy_range)
    assert f(a) == 47.0
    printed = capsys.readouterr().out
    assert "appy_range" in printed or "kk_program" in printed  # dump_code shows the generated source


def math_calls(x, out):
    for i in pk.prange(x.shape[0]):
        out[i] = erf(x[i]) + np.tanh(x[i]) + np.log1p(x[i]) + np.power(x[i], 2.0)


def test_numpy_math_and_scipy_special(space, rng):
    x = rng.random(100)
    out = np.zeros(100)
    pk.jit(space=space)(math_calls)(x, out)
    np.testing.assert_allclose(out, erf(x) + np.tanh(x) + np.log1p(x) + x**2, rtol=1e-13)


def tensor_host(a, b):
    c = a * 2.0 + b  # array expressions in host code: parallel loops
    total = np.sum(c)
    d = np.dot(a, b)
    return c, total, d, a.max(), b.mean()


def test_tensor_expressions_in_host_code(space, rng):
    a, b = rng.random(300), rng.random(300)
    c, total, d, mx, mean = pk.jit(space=space)(tensor_host)(a, b)
    np.testing.assert_allclose(c, a * 2 + b)
    assert total == pytest.approx((a * 2 + b).sum()) and d == pytest.approx(a @ b)
    assert mx == a.max() and mean == pytest.approx(b.mean())


def overlapping(a):
    a[1:] = a[:-1] * 2.0  # NumPy evaluates the right side first: a temporary array
    return a


def test_overlapping_slices_follow_numpy(space):
    a = np.arange(6.0)
    np.testing.assert_array_equal(pk.jit(space=space)(overlapping)(a.copy()), np.r_[0.0, np.arange(5.0) * 2])
