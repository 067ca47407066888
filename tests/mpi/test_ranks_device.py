"""Halo exchange of device Views, and Views whose current copy is on a GPU in mpi4py calls.

`test_device_plan_*` run everywhere: they replace the coherence adapter (kernelkit.mpi._coherence) with one
whose "device memory" is host memory and whose "GPU" kernels run on OpenMP, so that the device path's control
flow (in-place slabs, pack and unpack kernels for strided slabs, pinned staging or CUDA-aware buffers, marking
what was written) is exercised by CI, which has no GPU. The `gpu` tests need a usable GPU (the lead's GPU run:
tools/device/mpi_gpu.sh)."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from test_ranks_cart import CASES, make_block

import kernelkit as pk
from kernelkit import mpi as kkmpi
from kernelkit.mpi import _coherence as co

GPU = pk.Cuda.available()


class HostPinned:
    def __init__(self, nbytes: int):
        self.buf = np.zeros(max(nbytes, 1), dtype=np.uint8)
        self.address = self.buf.ctypes.data
        self.nbytes = nbytes

    def free(self) -> None:
        self.address = 0


@pytest.fixture
def fake_device(monkeypatch):
    """The device path on host memory: records which Views were marked written."""
    written = []
    monkeypatch.setattr(co, "on_device", lambda v: co.is_view(v))
    monkeypatch.setattr(co, "device_buffer", lambda v: (0, int(v._array.__array_interface__["data"][0])))
    monkeypatch.setattr(co, "device_written", lambda v: written.append(v.shape))
    monkeypatch.setattr(co, "synchronize", lambda device: None)
    monkeypatch.setattr(co, "cuda_space", lambda: pk.OpenMP)
    monkeypatch.setattr(co, "PinnedBuffer", HostPinned)
    monkeypatch.setattr(co, "copy_to_host", lambda dst, src, n: ctypes.memmove(dst, src, n))
    monkeypatch.setattr(co, "copy_to_device", lambda dst, src, n: ctypes.memmove(dst, src, n))
    return written


@pytest.mark.parametrize("aware", [False, True], ids=["staged", "cuda-aware"])
@pytest.mark.parametrize("dims,periods,global_shape,widths", CASES)
def test_device_plan_matches_global_picture(comm, agree, fake_device, aware, dims, periods, global_shape, widths):
    kkmpi.set_cuda_aware(aware)
    try:
        cart = kkmpi.Cart(dims, periods=periods)
        v, ref = make_block(cart, global_shape, widths)
        kkmpi.reset_stats()
        cart.halo_exchange(v, widths)
        st = kkmpi.stats()
    finally:
        kkmpi.set_cuda_aware(None)
    assert agree(np.array_equal(np.asarray(v), ref))
    plan = next(iter(cart._plans.values()))
    assert type(plan).__name__ == "_DevicePlan"
    slabs = sum(4 for _ in plan.steps)
    assert st["staged_d2h"] == (0 if aware else slabs // 2)
    strided = any(s.packed is not None for step in plan.steps for s in step[3])
    assert (st["packs"] > 0) == strided
    assert fake_device  # every received halo marked the device copy written


def test_pack_kernels_compile_for_cuda(comm):
    """The pack kernels of strided device slabs, compiled for CUDA by NVRTC (CudaCheck: runs on OpenMP)."""
    from kernelkit.api.spaces import CudaCheck
    from kernelkit.mpi import _buffers

    if not CudaCheck.available():
        pytest.skip("NVRTC is not installed")
    src = pk.View([6, 5, 4], pk.double)
    np.asarray(src)[...] = np.arange(120.0).reshape(6, 5, 4)
    for key in [(slice(None), slice(1, 3)), (slice(None), slice(None), slice(0, 1)), (slice(2, 4),)]:
        sub = src[key]
        dst = pk.View(list(sub.shape), pk.double)
        n = len(sub.shape)
        policy = pk.MDRangePolicy(CudaCheck, [0] * n, list(sub.shape))
        pk.parallel_for(policy, _buffers._pack3 if n == 3 else _buffers._pack2, src=sub, dst=dst)
        assert np.array_equal(np.asarray(dst), np.asarray(sub))


gpu = pytest.mark.skipif(not GPU, reason="needs a usable CUDA GPU")


@gpu
@pytest.mark.parametrize("aware", [False, True], ids=["staged", "cuda-aware"])
@pytest.mark.parametrize("dims,periods,global_shape,widths", CASES)
def test_gpu_halo_exchange(comm, agree, aware, dims, periods, global_shape, widths):
    if aware and not kkmpi.cuda_aware():
        pytest.skip("this MPI library is not CUDA-aware")
    from kernelkit.runtime import coherence as memory

    cart = kkmpi.Cart(dims, periods=periods)
    host, ref = make_block(cart, global_shape, widths)
    v = pk.View(list(host.shape), pk.double, space=pk.CudaSpace)
    pk.deep_copy(v, host)
    memory.ensure_device(v, co.cuda_space().device_id)  # the data lives on the GPU now
    kkmpi.set_cuda_aware(aware)
    try:
        memory.reset_stats()
        cart.halo_exchange(v, widths)
        moved = memory.stats()
    finally:
        kkmpi.set_cuda_aware(None)
    assert moved["h2d"] == 0 and moved["d2h"] == 0  # no whole-View copy: halo planes only
    assert agree(np.array_equal(np.asarray(v), ref))


@gpu
def test_gpu_views_in_mpi4py_calls(comm, agree):
    """A View whose newest copy is on the GPU sends the right data; receiving into a View makes a kernel
    read the received values (its device copy was marked stale)."""
    r, n = comm.Get_rank(), comm.Get_size()
    right, left = (r + 1) % n, (r - 1) % n

    @pk.workunit
    def fill(i, x, value):
        x[i] = value + i

    @pk.workunit
    def total(i, acc, x):
        acc += x[i]

    out = pk.View([100], pk.double, space=pk.CudaSpace)
    got = pk.View([100], pk.double, space=pk.CudaSpace)
    pk.parallel_for(pk.RangePolicy(co.cuda_space(), 0, 100), fill, x=out, value=float(r))
    pk.parallel_for(pk.RangePolicy(co.cuda_space(), 0, 100), fill, x=got, value=-1.0)  # got: on the device
    comm.Sendrecv(out, right, recvbuf=got, source=left)
    s = pk.parallel_reduce(pk.RangePolicy(co.cuda_space(), 0, 100), total, x=got)
    ok = s == 100 * left + 4950
    got2 = pk.View([100], pk.double, space=pk.CudaSpace)
    comm.Sendrecv(kkmpi.message(out), right, 5, kkmpi.message(got2, write=True), left, 5)
    ok &= pk.parallel_reduce(pk.RangePolicy(co.cuda_space(), 0, 100), total, x=got2) == 100 * left + 4950
    assert agree(ok)


@gpu
def test_init_binds_a_gpu_per_local_rank(comm):
    from kernelkit.backends.cuda import driver

    local, _ = kkmpi.local_rank()
    space = pk.get_default_space()
    if space.backend_name == "cuda":
        assert space.device_id == local % driver.device_count()
