"""Parallel loops fork only when their inner loops' iterations pay for it (backends/openmp/work.py): the estimate
is rendered as the loop's OpenMP `if` clause where the inner bounds are invariant, not otherwise, and results do
not depend on whether the loop forked."""

import numpy as np
import pytest

import kernelkit as pk
from kernelkit import config
from kernelkit.backends.openmp import program as omp_program
from kernelkit.loops import Options, lower_program
from kernelkit.runtime.args import arg_type


def columns(A):  # cholesky by columns: one parallel loop per column, its inner bound invariant in the loop
    N = A.shape[0]
    for j in range(N):
        s = 0.0
        for k in range(j):
            s += A[j, k] * A[j, k]
        A[j, j] = np.sqrt(A[j, j] - s)
        for i in pk.prange(j + 1, N):
            s = 0.0
            for k in range(j):
                s += A[i, k] * A[j, k]
            A[i, j] = (A[i, j] - s) / A[j, j]


def triangle(C):  # the inner bound depends on the parallel variable: not estimated
    for i in pk.prange(C.shape[0]):
        for j in range(i + 1):
            C[i, j] += 1.0


def divided(C, m):  # a division in an inner bound could trap before the loop: not estimated
    for i in pk.prange(C.shape[0]):
        for j in range(C.shape[1] // m):
            C[i, j] += 1.0


def stepped(C, m):  # a variable step could be 0 before the loop: not estimated
    for i in pk.prange(C.shape[0]):
        for j in range(0, C.shape[1], m):
            C[i, j] += 1.0


def nested(C, n):  # nested and sibling loops, both branches of an if
    for i in pk.prange(C.shape[0]):
        for _r in range(n):
            for j in range(C.shape[1]):
                C[i, j] += 1.0
        if n > 2:
            for j in range(C.shape[1]):
                C[i, j] *= 0.5


def _source(fn, *args) -> str:
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    types = {n: arg_type(n, v, None, True)[0] for n, v in zip(names, args, strict=True)}
    return omp_program.render(lower_program(fn, types, Options())[0])


def test_the_estimate_is_the_loops_if_clause_where_bounds_are_invariant():
    A = np.eye(4)
    src = _source(columns, A)
    assert src.count("if(kk_w") == 1 and "KK_PAR_WORK" in src
    assert "if(kk_w" not in _source(triangle, A)
    assert "if(kk_w" not in _source(divided, A, 2)
    assert "if(kk_w" not in _source(stepped, A, 2)
    src = _source(nested, A, 3)
    assert "if(kk_w" in src and src.count("kk::trip(") >= 4


def _spd(n, rng):
    B = rng.random((n, n))
    return B @ B.T + n * np.eye(n)


@pytest.mark.parametrize("threshold", ["0", "1e300"])  # always fork, never fork
def test_results_do_not_depend_on_forking(threshold, rng):
    settings = config.get()
    saved = settings.cxxflags
    settings.cxxflags = f"{saved} -DKK_PAR_WORK={threshold}".strip()
    try:
        for n in (1, 2, 37, 130):
            A = _spd(n, rng)
            got = A.copy()
            pk.jit(space=pk.OpenMP)(columns)(got)
            np.testing.assert_allclose(np.tril(got), np.linalg.cholesky(A), rtol=1e-10, atol=1e-12)
        C = np.zeros((50, 7))
        pk.jit(space=pk.OpenMP)(nested)(C, 3)
        np.testing.assert_array_equal(C, np.full((50, 7), 1.5))
    finally:
        settings.cxxflags = saved


def test_every_space_agrees_with_the_debug_reference(space, rng):
    A = _spd(40, rng)
    ref = A.copy()
    pk.jit(space=pk.Debug)(columns)(ref)
    got = A.copy()
    pk.jit(space=space)(columns)(got)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
