"""tasks/places.py and the GPU paths of tasks/data.py on CPU-only CI: the CUDA driver's allocation and copy
calls are replaced by host-memory fakes, so device buffers, their region copies (only a subarray's runs move),
DeviceArray and the coherence between a "physical" GPU place and the host run without a GPU."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from kernelkit.backends.cuda import driver
from kernelkit.tasks import data as _data
from kernelkit.tasks import parray, places
from kernelkit.tasks.devices import Device, gpu


class _FakeDevice:
    def __init__(self, ordinal=0):
        self.ordinal = ordinal

    def set_current(self):
        pass


@pytest.fixture
def fake_gpu(monkeypatch):
    """Device memory in host RAM: alloc/free and the memcpy calls, each call logged."""
    blocks: dict[int, ctypes.Array] = {}
    log: list[tuple[str, int]] = []

    def alloc(nbytes, device=None, stream=None):
        b = (ctypes.c_uint8 * (nbytes + 256))()
        ptr = ctypes.addressof(b) + 128
        blocks[ptr] = b
        return ptr

    def mv(kind):
        def f(dst, src, n, stream=None):
            log.append((kind, n))
            ctypes.memmove(dst, src, n)

        return f

    monkeypatch.setattr(driver, "alloc", alloc)
    monkeypatch.setattr(driver, "free", lambda ptr: blocks.pop(ptr, None))
    for kind in ("htod", "dtoh", "dtod"):
        monkeypatch.setattr(driver, f"memcpy_{kind}", mv(kind))
        monkeypatch.setattr(driver, f"memcpy_{kind}_async", mv(kind + "_async"))

    def peer(dst, dd, src, sd, n):
        log.append(("peer", n))
        ctypes.memmove(dst, src, n)

    monkeypatch.setattr(driver, "memcpy_peer", peer)
    monkeypatch.setattr(driver, "current_device", lambda: _FakeDevice(0))
    monkeypatch.setattr(driver, "Device", _FakeDevice)
    monkeypatch.setattr("kernelkit.tasks.arrays._cupy", [None])  # the DeviceArray path, CuPy or not
    return log


def test_region_runs_cover_only_the_subarray():
    root = np.zeros((6, 8))
    assert places.Region(root, root).runs() == [(0, 6 * 8 * 8)]
    r = places.Region(root[1:4, 2:5], root)
    assert r.runs() == [(8 * (8 * k + 2), 24) for k in (1, 2, 3)] and r.nbytes == 72
    col = places.Region(root[:, 3], root)
    assert len(col.runs()) == 6 and col.nbytes == 48
    assert places.Region(root[2:4], root).runs() == [(2 * 64, 128)]  # whole rows: one run


def test_device_buffer_copies_move_only_the_region(fake_gpu):
    root = np.arange(48.0).reshape(6, 8)
    sub = root[1:4, 2:5]
    r = places.Region(sub, root)
    d0 = places.DeviceBuffer(root, 0, "gpu(0)")
    d1 = places.DeviceBuffer(root, 1, "gpu(1)")
    places.copy(d0, None, r, sub, stream=object())
    assert fake_gpu == [("htod_async", 24)] * 3
    a = d0.array(r)
    assert isinstance(a, places.DeviceArray) and a.__cuda_array_interface__["shape"] == (3, 3)
    assert np.array_equal(a.get(), sub)
    places.copy(d1, d0, r, sub, stream=None)  # another GPU: peer copies
    out = np.zeros_like(root)
    places.copy(None, d1, r, out[1:4, 2:5], stream=None)
    assert np.array_equal(out[1:4, 2:5], sub) and out.sum() == sub.sum()  # nothing outside the region written
    h = places.HostBuffer(root, "gpu(2)")
    places.copy(h, d1, r, sub, stream=None)
    assert np.array_equal(h.region(r), sub)


def test_parray_coherence_with_a_physical_gpu_place(fake_gpu):
    a = np.arange(10.0)
    A = parray.asarray(a)
    dev = Device(gpu, 1, physical=0)
    _data.prefetch([A[2:6]], dev, _data.AccessMode.INOUT)
    assert fake_gpu == [("htod", 32)]
    x = _data.array_on(A[2:6], dev)
    assert isinstance(x, places.DeviceArray) and np.array_equal(x.get(), a[2:6])
    ctypes.memmove(x.ptr, np.full(4, -1.0).ctypes.data, 32)  # "a kernel" writes the device copy
    assert _data.states(A[2:6]) == {2: _data.Coherence.MODIFIED}
    assert np.array_equal(A.array, [0, 1, -1, -1, -1, -1, 6, 7, 8, 9])  # outside tasks: copied back, 32 bytes
    assert fake_gpu[-1] == ("dtoh", 32) and np.shares_memory(A.array, a)
    assert _data.states(A) == {0: _data.Coherence.MODIFIED}


def test_operators_and_elements_on_a_gpu_copy_without_cupy(fake_gpu, monkeypatch):
    """On a physical GPU without CuPy, `A.array` is a DeviceArray: operators compute on a host copy (`a[s] @ b[s]`
    of the inner product), in-place operators upload the result, elements read the device copy."""
    from kernelkit.tasks import parray as parray_module

    dev = Device(gpu, 0, physical=0)
    monkeypatch.setattr(parray_module, "get_active_device", lambda: dev)
    x, y = parray.asarray(np.arange(8.0)), parray.asarray(np.ones(8))
    _data.prefetch([x[0:4], y[0:4]], dev, _data.AccessMode.IN)
    dot = x[0:4] @ y[0:4]
    assert dot == 6.0 and isinstance(dot, np.floating)
    _data.prefetch([x], dev, _data.AccessMode.INOUT)
    x += 1.0
    assert isinstance(x.array, places.DeviceArray) and x[7] == 8.0 and x[0:2][1] == 2.0
    monkeypatch.setattr(parray_module, "get_active_device", lambda: None)
    assert np.array_equal(np.asarray(x), np.arange(8.0) + 1.0)  # outside tasks: copied back
