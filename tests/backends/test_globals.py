"""Numeric module globals and closure constants are baked into the compiled kernel, and a change is seen by
the next call (it recompiles) -- exactly as if the kernel ran as Python. Workunits may be defined anywhere."""

from __future__ import annotations

import numpy as np

import kernelkit as pk

SCALE = 3.0
N_ITER = 4
USE_OFFSET = True


@pk.workunit
def scaled(i, x, out):
    out[i] = SCALE * x[i]


@pk.workunit
def loop_global(i, out):
    t = 0
    for k in range(N_ITER):
        t += k
    out[i] = t + (100 if USE_OFFSET else 0) + i


@pk.function
def scale_fn(x):
    return SCALE * x


@pk.workunit
def scaled_via_function(i, x, out):
    out[i] = scale_fn(x[i])


@pk.workunit
def scaled_sum(i, acc, x):
    acc += SCALE * x[i]


def test_global_constant(space):
    x = np.arange(5, dtype=np.float64)
    out = np.zeros(5)
    pk.parallel_for(pk.RangePolicy(space, 0, 5), scaled, x=x, out=out)
    np.testing.assert_array_equal(out, SCALE * x)


def test_changing_a_global_is_seen_by_the_next_call(space):
    global SCALE
    old = SCALE
    x = np.arange(5, dtype=np.float64)
    out = np.zeros(5)
    try:
        for value in (3.0, 5.0, -0.5, 3.0, 2):  # the last one even changes the type
            SCALE = value
            pk.parallel_for(pk.RangePolicy(space, 0, 5), scaled, x=x, out=out)
            np.testing.assert_array_equal(out, value * x)
            pk.parallel_for(pk.RangePolicy(space, 0, 5), scaled_via_function, x=x, out=out)
            np.testing.assert_array_equal(out, value * x)
            assert pk.parallel_reduce(pk.RangePolicy(space, 0, 5), scaled_sum, x=x) == value * 10.0
    finally:
        SCALE = old


def test_int_and_bool_globals(space):
    global N_ITER, USE_OFFSET
    old = (N_ITER, USE_OFFSET)
    out = np.zeros(3, dtype=np.int64)
    try:
        for n_iter, use in ((4, True), (10, True), (10, False), (0, True)):
            N_ITER, USE_OFFSET = n_iter, use
            pk.parallel_for(pk.RangePolicy(space, 0, 3), loop_global, out=out)
            np.testing.assert_array_equal(out, sum(range(n_iter)) + (100 if use else 0) + np.arange(3))
    finally:
        N_ITER, USE_OFFSET = old


def make_scaler(c):
    @pk.workunit
    def scale_by(i, x, out):
        out[i] = c * x[i]

    return scale_by


def test_closures_with_different_constants(space):
    x = np.arange(4, dtype=np.float64)
    k2, k5, k_int = make_scaler(2.0), make_scaler(5.0), make_scaler(7)
    out = np.zeros(4)
    for wu, c in ((k2, 2.0), (k5, 5.0), (k2, 2.0), (k_int, 7), (k5, 5.0)):
        pk.parallel_for(pk.RangePolicy(space, 0, 4), wu, x=x, out=out)
        np.testing.assert_array_equal(out, c * x)


def test_changed_closure_cell_is_seen(space):
    c = 1.0

    @pk.workunit
    def read_c(i, out):
        out[i] = c + i

    out = np.zeros(3)
    pk.parallel_for(pk.RangePolicy(space, 0, 3), read_c, out=out)
    np.testing.assert_array_equal(out, 1.0 + np.arange(3))
    c = 7.5
    pk.parallel_for(pk.RangePolicy(space, 0, 3), read_c, out=out)
    np.testing.assert_array_equal(out, 7.5 + np.arange(3))


def test_kernel_defined_in_a_loop(space):
    out = np.zeros(4)
    for c in range(3):

        @pk.workunit
        def k(i, out):
            out[i] = c * 10 + i  # noqa: B023  (each iteration's kernel is launched in that iteration)

        pk.parallel_for(pk.RangePolicy(space, 0, 4), k, out=out)
        np.testing.assert_array_equal(out, c * 10 + np.arange(4))


def test_nested_closure_levels(space):
    def outer(a):
        def middle(b):
            @pk.workunit
            def k(i, out):
                out[i] = a * 100 + b * 10 + i

            return k

        return middle

    out = np.zeros(3, dtype=np.int64)
    pk.parallel_for(pk.RangePolicy(space, 0, 3), outer(4)(2), out=out)
    np.testing.assert_array_equal(out, 420 + np.arange(3))
    pk.parallel_for(pk.RangePolicy(space, 0, 3), outer(1)(9), out=out)
    np.testing.assert_array_equal(out, 190 + np.arange(3))
