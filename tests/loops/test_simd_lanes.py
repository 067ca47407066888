"""Parallel loops with `#pragma simd` loops inside: a warp per iteration on pk.Cuda, the simd loops across its
lanes (backends/cuda/lanes.py). The same programs on every space against NumPy; which loops qualify."""

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.backends.cuda import program as cuda_program
from kernelkit.loops import Options, lower_program
from kernelkit.runtime.args import arg_type


@pytest.fixture(autouse=True)
def simd_warps():
    """The warp mapping is on by default (KERNELKIT_CUDA_SIMD_WARPS=0 turns it off): these tests turn it on
    whatever the environment says, so CudaCheck compiles it."""
    from kernelkit import config

    settings = config.get()
    saved, settings.cuda_simd_warps = settings.cuda_simd_warps, True
    yield
    settings.cuda_simd_warps = saved


def rows(A, x, y, out):
    M, N = A.shape
    tot = 0.0
    top = -np.inf
    for i in pk.prange(M):
        s = 0.0
        # pragma simd
        for j in range(N):
            s += A[i, j] * x[j]
        m = -np.inf
        # pragma simd
        for j in range(N):
            m = max(m, A[i, j])
        y[i] = s + m
        tot += s
        top = max(top, m)
        k = 0
        while k + 2 <= N:  # a sequential loop around a simd loop, reading what lane 0 stored
            # pragma simd
            for j in range(k, k + 2):
                out[i, j] = A[i, j] * y[i]
            k += 2
        # pragma simd
        for j in range(k, N):
            out[i, j] = A[i, j] * y[i]
    return tot, top


def strided(A, out):
    M, N = A.shape
    for i in pk.prange(M):
        last = 0.0
        # pragma simd
        for j in range(N - 1, -1, -3):  # a negative step; `last` keeps the sequentially last iteration's value
            last = A[i, j] * 2.0
            out[i, j] = last
        out[i, 0] = last + 1.0


def atomic_outside(A, h):
    M, N = A.shape
    for i in pk.prange(M):
        s = 0.0
        # pragma simd
        for j in range(N):
            s += A[i, j]
        k = pk.atomic_fetch_add(h, [0], 1)
        h[1 + i] = s + k * 0


def cholesky(A):
    # no parallel loop: on pk.Cuda one device block, run by a warp with its simd loops across the lanes
    A[0, 0] = np.sqrt(A[0, 0])
    for i in range(1, A.shape[0]):
        for j in range(i):
            s = 0.0
            # pragma simd
            for k in range(j):
                s += A[i, k] * A[j, k]
            A[i, j] = (A[i, j] - s) / A[j, j]
        s = 0.0
        # pragma simd
        for k in range(i):
            s += A[i, k] * A[i, k]
        A[i, i] = np.sqrt(A[i, i] - s)
    t = 0.0
    # pragma simd
    for k in range(A.shape[0]):
        t += A[k, k]
    return t


def reference_rows(A, x):
    s = A @ x
    m = A.max(axis=1, initial=-np.inf)
    y = s + m
    return y, A * y[:, None], s.sum(), (m.max() if m.size else -np.inf)


@pytest.mark.parametrize("shape", [(0, 5), (1, 1), (3, 0), (7, 31), (5, 33), (40, 65), (9, 200)])
def test_rows_match_numpy(space, shape, rng):
    A = rng.standard_normal(shape)
    x = rng.standard_normal(shape[1])
    y = np.zeros(shape[0])
    out = np.zeros(shape)
    tot, top = pk.jit(space=space)(rows)(A, x, y, out)
    ry, rout, rtot, rtop = reference_rows(A, x)
    np.testing.assert_allclose(y, ry, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out, rout, rtol=1e-12, atol=1e-12)
    assert tot == pytest.approx(rtot, rel=1e-12, abs=1e-12)
    assert top == rtop


@pytest.mark.parametrize("shape", [(1, 1), (4, 2), (6, 40), (3, 97)])
def test_negative_steps_and_last_values(space, shape, rng):
    A = rng.standard_normal(shape)
    out = np.zeros(shape)
    pk.jit(space=space)(strided)(A, out)
    ref = np.zeros(shape)
    cols = list(range(shape[1] - 1, -1, -3))
    ref[:, cols] = A[:, cols] * 2.0
    ref[:, 0] = A[:, cols[-1]] * 2.0 + 1.0
    np.testing.assert_array_equal(out, ref)


def test_atomics_outside_simd_loops_run_once_per_iteration(space, rng):
    A = rng.standard_normal((50, 70))
    h = np.zeros(51, dtype=np.int64)
    pk.jit(space=space)(atomic_outside)(A, h)
    assert h[0] == 50


@pytest.mark.parametrize("n", [1, 2, 33, 70])
def test_sequential_code_with_simd_loops(space, n, rng):
    B = rng.standard_normal((n, n))
    A = B @ B.T + n * np.eye(n)
    L = np.linalg.cholesky(A)
    work = A.copy()
    t = pk.jit(space=space)(cholesky)(work)
    np.testing.assert_allclose(np.tril(work), L, rtol=1e-10, atol=1e-12)
    assert t == pytest.approx(np.trace(L), rel=1e-12)


def _program(fn, *args):
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    types = {n: arg_type(n, v, None, True)[0] for n, v in zip(names, args, strict=True)}
    return lower_program(fn, types, Options())[0]


def _warps(fn, *args) -> list[bool]:
    return [k.warp for k in cuda_program.plan(_program(fn, *args)).kernels if k.name.startswith("kk_loop")]


def test_which_loops_run_a_warp_per_iteration():
    from kernelkit import config

    A = np.zeros((4, 5))
    config.get().cuda_simd_warps = False  # KERNELKIT_CUDA_SIMD_WARPS=0: one thread per iteration
    assert _warps(rows, A, np.zeros(5), np.zeros(4), A.copy()) == [False]
    config.get().cuda_simd_warps = True
    assert _warps(rows, A, np.zeros(5), np.zeros(4), A.copy()) == [True]
    assert _warps(strided, A, A.copy()) == [True]
    # an atomic whose old value every lane would fetch: one thread per iteration
    assert _warps(atomic_outside, A, np.zeros(5, dtype=np.int64)) == [False]
    blocks = [k.warp for k in cuda_program.plan(_program(cholesky, A)).kernels if k.name.startswith("kk_block")]
    assert blocks and all(blocks)
    source = cuda_program.render_device(_program(rows, A, np.zeros(5), np.zeros(4), A.copy()))
    assert "kk::cu::warp_all<kk::Sum, double>" in source and "kk::cu::warp_all<kk::Max, double>" in source
    assert "if (kk_lane == 0)" in source and "kk::cu::lane_bcast" in source
