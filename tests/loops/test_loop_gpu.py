"""@pk.jit on a real GPU (skipped without one; CudaCheck compiles the same programs everywhere)."""

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.backends.base import space_report

pytestmark = pytest.mark.gpu

if not any(r["name"] == "cuda" and r["available"] for r in space_report()):
    pytest.skip("no usable CUDA device", allow_module_level=True)


def stats(a, b):
    c = np.empty_like(a)
    for i in pk.prange(a.shape[0]):
        c[i] = a[i] * b[i]
    s = 0.0
    m = -np.inf
    for i in pk.prange(a.shape[0]):
        s += c[i]
        m = max(m, c[i])
    c[0] = s  # a host statement on device data: a one-thread kernel
    return c, s, m


def scale(x, f):
    for i in pk.prange(x.shape[0]):
        x[i] *= f


def hist(keys, n):
    h = np.zeros(n, dtype=np.int64)
    for i in pk.prange(keys.shape[0]):
        h[keys[i]] += 1
    return h


def test_programs_run_and_reduce_on_the_gpu(rng):
    a, b = rng.random(100000), rng.random(100000)
    c, s, m = pk.jit(space=pk.Cuda)(stats)(a, b)
    ref = a * b
    assert s == pytest.approx(ref.sum(), rel=1e-10) and m == ref.max()
    assert c[0] == pytest.approx(ref.sum(), rel=1e-10)
    np.testing.assert_allclose(c[1:], ref[1:])
    keys = rng.integers(0, 50, 100000)
    np.testing.assert_array_equal(pk.jit(space=pk.Cuda)(hist)(keys, 50), np.bincount(keys, minlength=50))


def test_views_stay_on_the_device_across_calls():
    from kernelkit.runtime import coherence

    x = pk.View([1 << 20], pk.double, space=pk.CudaSpace)
    f = pk.jit(space=pk.Cuda)(scale)
    f(x, 2.0)
    coherence.reset_stats()
    for _ in range(5):
        f(x, 2.0)
    assert coherence.stats()["h2d"] == 0 and coherence.stats()["d2h"] == 0
    assert np.asarray(x)[0] == 0.0


def test_cupy_arrays_in_place_and_cupy_results(rng):
    cupy = pytest.importorskip("cupy")
    a = cupy.asarray(rng.random(1000))
    b = cupy.asarray(rng.random(1000))
    c, s, _ = pk.jit(space=pk.Cuda)(stats)(a, b)
    assert isinstance(c, cupy.ndarray)
    ref = (a * b).get()
    assert s == pytest.approx(ref.sum())
    x = cupy.ones(10)
    pk.jit(space=pk.Cuda)(scale)(x, 3.0)
    assert float(x.sum().get()) == 30.0
