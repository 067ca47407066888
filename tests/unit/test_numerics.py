"""Numerics: the same answers on every space (docs/numerics.md), one test per rule of issue 17.

Each rule is checked on every available space (the `space` fixture) against NumPy or Python, bit for bit where
the rule promises it."""

from __future__ import annotations

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
