"""@pk.jit programs follow the numerics rules of workunits (docs/numerics.md): IEEE by default, fast math opt-in."""

import numpy as np
import pytest

import kernelkit as pk


def _fma_prone(a, b, c, out):
    for i in pk.prange(a.shape[0]):
        out[i] = a[i] * b[i] + c[i]


@pytest.mark.parametrize("host", [pk.Serial, pk.OpenMP])
def test_jit_default_is_ieee(host):
    rng = np.random.default_rng(7)
    a, b, c = (rng.standard_normal(1001) for _ in range(3))
    out = np.empty_like(a)
    pk.jit(space=host)(_fma_prone)(a, b, c, out)
    np.testing.assert_array_equal(out, a * b + c)  # bit for bit: no contraction into fused multiply-adds


def test_jit_fast_math_is_a_separate_specialization():
    rng = np.random.default_rng(8)
    a, b, c = (rng.standard_normal(257) for _ in range(3))
    out = np.empty_like(a)
    fast = pk.jit(space=pk.OpenMP, fast_math=True)(_fma_prone)
    fast(a, b, c, out)
    np.testing.assert_allclose(out, a * b + c, rtol=1e-12, atol=1e-12)
    assert fast.options.key() != pk.jit(_fma_prone).options.key()
