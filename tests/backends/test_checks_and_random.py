"""KERNELKIT_BOUNDS_CHECK=1 on the compiled host spaces, and random pools inside kernels on every space."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk
from kernelkit import config


@pk.workunit
def past_the_end(i, a):
    a[i + 1] = 1.0


@pk.workunit
def estimate(i, acc, pool):
    gen = pool.get_state()
    x = pk.rand(gen)
    y = gen.drand(-1.0, 1.0)
    if x * x + y * y <= 1.0:
        acc += 1.0
    pool.free_state(gen)


@pk.workunit
def draws(i, pool, u, k, z):
    gen = pool.get_state()
    u[i] = gen.drand()
    k[i] = gen.rand(3, 7)
    z[i] = gen.normal()


def test_bounds_check_names_kernel_view_index_and_extent(compiled_space):
    if compiled_space is pk.Debug:
        pytest.skip("Debug always checks")
    with config.override(bounds_check=True):
        with pytest.raises(pk.KernelRuntimeError) as e:
            pk.parallel_for(pk.RangePolicy(compiled_space, 0, 8), past_the_end, a=np.zeros(8))
    msg = str(e.value)
    assert "past_the_end" in msg and "'a'" in msg and "index 8" in msg and "extent 8" in msg
    assert __file__.split("/")[-1] in msg  # the launch line


def test_random_pool_streams(space):
    n = 4000 if space is pk.Debug else 200_000
    pool = pk.Random_XorShift64_Pool(2026)
    half_disk = pk.parallel_reduce(pk.RangePolicy(space, 0, n), estimate, pool=pool)
    assert abs(2 * half_disk / n - np.pi / 2) < 6 / np.sqrt(n)
    u, k, z = np.zeros(n), np.zeros(n, np.int64), np.zeros(n)
    pk.parallel_for(pk.RangePolicy(space, 0, n), draws, pool=pool, u=u, k=k, z=z)
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 6 * 0.29 / np.sqrt(n)
    assert set(np.unique(k)) == {3, 4, 5, 6}
    assert abs(z.mean()) < 6 / np.sqrt(n) and abs(z.std() - 1) < 0.05
    assert len(np.unique(u)) == n  # every claim is its own stream: no two threads share a state
    assert int(pool.data[1]) == 2 * n


def test_same_claims_same_numbers_on_every_space():
    out = {}
    for space in (pk.Debug, pk.Serial):
        pool = pk.Random_XorShift64_Pool(7)
        u, k, z = np.zeros(64), np.zeros(64, np.int64), np.zeros(64)
        pk.parallel_for(pk.RangePolicy(space, 0, 64), draws, pool=pool, u=u, k=k, z=z)
        out[space.name] = (np.sort(u), np.sort(k))
    assert np.array_equal(out["Debug"][0], out["Serial"][0]) and np.array_equal(out["Debug"][1], out["Serial"][1])
