"""Host/device coherence (kernelkit.runtime.coherence) and Views on the device.

Every test that needs a driver runs twice, like the driver tests in test_cuda_toolchain.py: against a fake
libcuda built here from C (host memory stands in for device memory, two "GPUs"), so the coherence logic is
checked on every machine, and against the real driver (`@pytest.mark.gpu`), skipped when no GPU is usable.
Device memory is inspected with plain driver copies, which the coherence counters (`memory.stats()`) do not
see; a kernel's write is simulated by writing device memory and setting HOST_STALE, as the launcher does.
"""

from __future__ import annotations

import ctypes
import gc
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kernelkit as pk
from kernelkit import _native
from kernelkit.backends.cuda import driver
from kernelkit.errors import KernelTypeError, KernelValueError
from kernelkit.interop import dlpack
from kernelkit.runtime import coherence as memory

HOST_STALE = _native.HOST_STALE
DEVICE_STALE = _native.DEVICE_STALE
HAS_DEVICE = _native.HAS_DEVICE
SHARED = _native.SHARED
DERIVED = _native.DERIVED

FAKE_LIBCUDA = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long dptr;
static size_t total_mem = (size_t)1 << 30, used_mem = 0;
struct blk { char* p; size_t n; int dev; struct blk* next; };
static struct blk* blocks = 0;
static long counts[4]; /* htod, dtoh, dtod, memset */
static void* current_ctx = 0;

void fake_counts(long* out) { memcpy(out, counts, sizeof counts); }
static int cur_dev(void) { return current_ctx ? (int)((uintptr_t)current_ctx - 0x1000) : -1; }
static struct blk* find(dptr p) {
    for (struct blk* b = blocks; b; b = b->next)
        if (p >= (dptr)b->p && p < (dptr)b->p + (b->n ? b->n : 1)) return b;
    return 0;
}

int cuInit(unsigned f) { return 0; }
int cuDriverGetVersion(int* v) { *v = 12040; return 0; }
int cuGetErrorName(int e, const char** s) { *s = e == 0 ? "CUDA_SUCCESS" : e == 2 ? "CUDA_ERROR_OUT_OF_MEMORY"
                                               : e == 1 ? "CUDA_ERROR_INVALID_VALUE" : 0; return *s ? 0 : 1; }
int cuGetErrorString(int e, const char** s) { *s = e == 2 ? "out of memory" : e == 1 ? "invalid argument" : 0;
                                              return *s ? 0 : 1; }
int cuDeviceGetCount(int* n) { *n = 2; return 0; }
int cuDeviceGet(int* d, int o) { if (o < 0 || o > 1) return 101; *d = o; return 0; }
int cuDeviceGetName(char* buf, int len, int d) { strncpy(buf, "Fake GPU", len); return 0; }
int cuDeviceGetAttribute(int* v, int a, int d) {
    switch (a) {
    case 75: *v = 9; break; case 76: *v = 0; break; case 16: *v = 132; break; case 1: *v = 1024; break;
    case 8: *v = 49152; break; case 97: *v = 232448; break; case 10: *v = 32; break;
    default: *v = 1;
    }
    return 0;
}
int cuDeviceTotalMem_v2(size_t* t, int d) { *t = total_mem; return 0; }
int cuDevicePrimaryCtxRetain(void** c, int d) { *c = (void*)(uintptr_t)(0x1000 + d); return 0; }
int cuDevicePrimaryCtxRelease_v2(int d) { return 0; }
int cuCtxSetCurrent(void* c) { current_ctx = c; return 0; }
int cuCtxGetCurrent(void** c) { *c = current_ctx; return 0; }
int cuCtxSynchronize(void) { return current_ctx ? 0 : 201; }
int cuMemGetInfo_v2(size_t* f, size_t* t) { *f = total_mem - used_mem; *t = total_mem; return 0; }
int cuMemAlloc_v2(dptr* p, size_t n) {
    if (!current_ctx) return 201;
    if (used_mem + n > total_mem) return 2;
    struct blk* b = malloc(sizeof *b);
    b->p = malloc(n ? n : 1); b->n = n; b->dev = cur_dev(); b->next = blocks; blocks = b;
    memset(b->p, 0xAB, n); /* garbage, so that a missing zero-fill shows */
    used_mem += n;
    *p = (dptr)b->p;
    return 0;
}
int cuMemAllocManaged(dptr* p, size_t n, unsigned f) { return cuMemAlloc_v2(p, n); }
int cuMemFree_v2(dptr p) {
    for (struct blk** b = &blocks; *b; b = &(*b)->next)
        if ((dptr)(*b)->p == p) {
            struct blk* dead = *b; *b = dead->next;
            used_mem -= dead->n; free(dead->p); free(dead);
            return 0;
        }
    return 1;
}
int cuMemAllocHost_v2(void** p, size_t n) { *p = malloc(n); return 0; }
int cuMemFreeHost(void* p) { free(p); return 0; }
int cuMemHostRegister_v2(void* p, size_t n, unsigned f) { return 0; }
int cuMemHostUnregister(void* p) { return 0; }
int cuMemcpyHtoD_v2(dptr d, const void* s, size_t n) {
    if (!find(d)) return 1;
    memcpy((void*)d, s, n); counts[0]++; return 0;
}
int cuMemcpyDtoH_v2(void* d, dptr s, size_t n) {
    if (!find(s)) return 1;
    memcpy(d, (void*)s, n); counts[1]++; return 0;
}
int cuMemcpyDtoD_v2(dptr d, dptr s, size_t n) {
    if (!find(d) || !find(s)) return 1;
    memmove((void*)d, (void*)s, n); counts[2]++; return 0;
}
int cuMemcpyHtoDAsync_v2(dptr d, const void* s, size_t n, void* st) { return cuMemcpyHtoD_v2(d, s, n); }
int cuMemcpyDtoHAsync_v2(void* d, dptr s, size_t n, void* st) { return cuMemcpyDtoH_v2(d, s, n); }
int cuMemcpyDtoDAsync_v2(dptr d, dptr s, size_t n, void* st) { return cuMemcpyDtoD_v2(d, s, n); }
int cuMemsetD8_v2(dptr d, unsigned char v, size_t n) {
    if (!find(d)) return 1;
    memset((void*)d, v, n); counts[3]++; return 0;
}
int cuMemsetD8Async(dptr d, unsigned char v, size_t n, void* st) { return cuMemsetD8_v2(d, v, n); }
int cuMemsetD32_v2(dptr d, unsigned v, size_t n) {
    if (!find(d)) return 1;
    for (size_t i = 0; i < n; i++) ((unsigned*)d)[i] = v;
    counts[3]++; return 0;
}
int cuMemsetD32Async(dptr d, unsigned v, size_t n, void* st) { return cuMemsetD32_v2(d, v, n); }
int cuPointerGetAttribute(void* data, int attr, dptr p) {
    struct blk* b = find(p);
    if (!b) return 1;
    if (attr == 2) *(unsigned*)data = 2; else if (attr == 9) *(int*)data = b->dev; else return 1;
    return 0;
}
int cuStreamCreate(void** s, unsigned f) { *s = malloc(8); return 0; }
int cuStreamDestroy_v2(void* s) { free(s); return 0; }
int cuStreamSynchronize(void* s) { return 0; }
int cuStreamQuery(void* s) { return 0; }
int cuStreamWaitEvent(void* s, void* e, unsigned f) { return 0; }
int cuEventCreate(void** e, unsigned f) { *e = malloc(8); return 0; }
int cuEventDestroy_v2(void* e) { free(e); return 0; }
int cuEventRecord(void* e, void* s) { return 0; }
int cuEventSynchronize(void* e) { return 0; }
int cuEventQuery(void* e) { return 0; }
int cuEventElapsedTime_v2(float* ms, void* a, void* b) { *ms = 1.0f; return 0; }
int cuModuleLoadDataEx(void** m, const char* img, unsigned n, int* opts, void** vals) { return 200; }
int cuModuleUnload(void* m) { return 0; }
int cuModuleGetFunction(void** f, void* m, const char* name) { return 500; }
int cuModuleGetGlobal_v2(dptr* p, size_t* n, void* m, const char* name) { return 500; }
int cuFuncGetAttribute(int* v, int a, void* f) { *v = 0; return 0; }
int cuFuncSetAttribute(void* f, int a, int v) { return 0; }
int cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned shared, void* stream, void** params, void** extra) { return 400; }
"""


@pytest.fixture(scope="session")
def fake_libcuda(tmp_path_factory) -> str:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler to build the fake libcuda")
    d = tmp_path_factory.mktemp("fakecuda_memory")
    src = d / "fake_cuda.c"
    src.write_text(FAKE_LIBCUDA)
    lib = d / "libfakecuda_memory.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(lib), str(src)], check=True)
    return str(lib)


class Env:
    """The driver a test runs on: the fake (with call counters) or the real GPU."""

    def __init__(self, fake: bool, lib: ctypes.CDLL | None = None):
        self.fake = fake
        self.lib = lib
        self.devices = driver.device_count()

    def driver_counts(self) -> dict[str, int]:
        """The fake driver's own count of copies and memsets (independent of memory.stats)."""
        assert self.lib is not None
        out = (ctypes.c_long * 4)()
        self.lib.fake_counts(out)
        return dict(zip(["h2d", "d2h", "d2d", "memset"], out, strict=True))


@pytest.fixture(params=["fake", pytest.param("gpu", marks=pytest.mark.gpu)])
def cuda(request, fake_libcuda):
    pk.get_default_space()  # decided before the fake driver appears, so no later View() defaults to CudaSpace
    if request.param == "fake":
        driver.use_library(fake_libcuda)
        try:
            memory.reset_stats()
            yield Env(True, ctypes.CDLL(fake_libcuda))
        finally:
            gc.collect()  # Views of this test free their blocks into this library's allocator
            driver.use_library(None)
    else:
        ok, reason = driver.available()
        if not ok:
            pytest.skip(f"no usable CUDA GPU: {reason}")
        memory.reset_stats()
        yield Env(False)
        gc.collect()


def read_device(ptr: int, shape: tuple[int, ...], dtype, strides: tuple[int, ...] | None = None) -> np.ndarray:
    """Device memory as a host array (a plain driver copy: not counted by memory.stats)."""
    dt = np.dtype(dtype)
    if strides is None:
        out = np.empty(shape, dtype=dt)
        driver.memcpy_dtoh(out, ptr, out.nbytes)
        return out
    low, nbytes = memory.span(shape, strides, dt.itemsize)
    raw = np.empty(nbytes, dtype=np.uint8)
    driver.memcpy_dtoh(raw, ptr + low, nbytes)
    return np.ndarray(shape, dt, buffer=raw, offset=-low, strides=strides).copy()


def write_device(ptr: int, values: np.ndarray) -> None:
    """Simulate a kernel writing contiguous device memory."""
    values = np.ascontiguousarray(values)
    driver.memcpy_htod(ptr, values, values.nbytes)


def no_copies() -> dict[str, int]:
    return {"h2d": 0, "d2h": 0, "d2d": 0, "h2d_bytes": 0, "d2h_bytes": 0, "d2d_bytes": 0, "peer": 0, "staged": 0}


# --- ensure_device / sync_host ------------------------------------------------------------------------------


def test_ensure_device_uploads_once(cuda):
    v = pk.View([3, 4], pk.float64, space=pk.HostSpace)
    v[...] = np.arange(12.0).reshape(3, 4)
    memory.reset_stats()
    ptr = memory.ensure_device(v, 0)
    assert memory.stats()["h2d"] == 1 and memory.stats()["h2d_bytes"] == 96
    assert v._flags == HAS_DEVICE and v._dptr == ptr and v._dplace == 0
    assert (read_device(ptr, (3, 4), np.float64) == np.arange(12.0).reshape(3, 4)).all()
    before = memory.stats()
    assert memory.ensure_device(v, 0) == ptr
    assert memory.stats() == before
    _ = v[2, 3] + v[0, 0]  # element reads leave the device copy valid
    assert memory.ensure_device(v, 0) == ptr and memory.stats() == before
    if cuda.fake:
        assert cuda.driver_counts()["h2d"] == 1
    # with a device copy, np.asarray(view) is a read-only snapshot: no stale marking, no re-upload
    snap = np.asarray(v)
    assert not snap.flags.writeable and snap[2, 3] == 11.0
    assert memory.ensure_device(v, 0) == ptr and memory.stats() == before
    # writes go through the View (or .data), which marks the device copy stale: one upload follows
    v.data[0, 0] = 42.0
    assert memory.ensure_device(v, 0) == ptr and memory.stats()["h2d"] == before["h2d"] + 1
    assert read_device(ptr, (3, 4), np.float64)[0, 0] == 42.0


def test_host_read_after_device_write_downloads_once(cuda):
    v = pk.View([5], pk.int32, space=pk.HostSpace)
    ptr = memory.ensure_device(v, 0)
    write_device(ptr, np.array([1, 2, 3, 4, 5], dtype=np.int32))
    v._flags |= HOST_STALE  # what the launcher does after a kernel that writes v
    memory.reset_stats()
    assert v[4] == 5
    assert memory.stats()["d2h"] == 1 and memory.stats()["d2h_bytes"] == 20
    assert list(v) == [1, 2, 3, 4, 5] and str(v) == "[1 2 3 4 5]"
    assert memory.stats()["d2h"] == 1
    assert v._flags == HAS_DEVICE  # reads do not mark the device copy stale
    assert np.asarray(v).sum() == 15 and memory.stats()["d2h"] == 1
    write_device(ptr, np.full(5, 7, dtype=np.int32))
    v._flags |= HOST_STALE
    assert bytes(memoryview(v))[:4] == np.int32(7).tobytes()  # the native buffer protocol syncs too
    assert memory.stats()["d2h"] == 2 and memory.stats()["h2d"] == 0


def test_host_write_then_ensure_device_uploads_once(cuda):
    v = pk.View([4], pk.float32, space=pk.HostSpace)
    ptr = memory.ensure_device(v, 0)
    memory.reset_stats()
    v[1] = 2.5
    assert v._flags & DEVICE_STALE
    assert memory.ensure_device(v, 0) == ptr
    assert memory.stats()["h2d"] == 1 and not v._flags & DEVICE_STALE
    assert read_device(ptr, (4,), np.float32).tolist() == [0.0, 2.5, 0.0, 0.0]
    v.fill(1.5)
    pk.deep_copy(v, np.zeros(4, dtype=np.float32))
    np.asarray(v)  # (the native buffer protocol: marks nothing)
    v.data[3] = 4.0
    memory.ensure_device(v, 0)
    assert memory.stats()["h2d"] == 2
    assert read_device(ptr, (4,), np.float32).tolist() == [0.0, 0.0, 0.0, 4.0]


def test_a_loop_of_launches_moves_nothing(cuda):
    x = pk.View([1000], pk.float64, space=pk.CudaSpace)
    y = pk.View([1000], pk.float64, space=pk.HostSpace)
    y.fill(2.0)
    s = x[10:20]
    for arg in (x, y):
        memory.device_arg("arg", arg, 0, writes=True)
    memory.reset_stats()
    for _ in range(100):
        for name, arg, writes in (("x", x, True), ("y", y, False), ("s", s, True)):
            value, after = memory.device_arg(name, arg, 0, writes)
            if after is not None:
                after()
            elif writes:
                value._flags |= HOST_STALE  # the launcher marks the Views a kernel writes
    assert memory.stats() == no_copies()
    assert x[15] == 0.0 and memory.stats()["d2h"] == 1  # the first host access downloads, once
    assert y[999] == 2.0 and memory.stats()["d2h"] == 1


def test_sync_host_writes_in_place(cuda):
    v = pk.View([2, 3], pk.int64, space=pk.HostSpace)
    arr = v._array
    rows = v[1]
    ptr = memory.ensure_device(v, 0)
    write_device(ptr, np.arange(6, dtype=np.int64))
    memory.mark_device_written(v)
    memory.sync_host(v)
    assert v._array is arr and not v._flags & HOST_STALE
    assert rows._array.tolist() == [3, 4, 5]  # the subview's memory was updated by the same copy


def test_cuda_space_is_zero_filled_on_the_device_and_never_shows_garbage(cuda):
    junk = driver.alloc(4096)  # leave garbage in the allocator's cache for the View to reuse
    write_device(junk, np.full(512, -1.0))
    driver.free(junk)
    v = pk.View([512], pk.float64, space=pk.CudaSpace)
    assert v._flags == HOST_STALE and v.layout is pk.LayoutLeft
    ptr = memory.ensure_device(v, 0)
    assert ptr == junk  # the cached block came back
    assert memory.stats()["h2d"] == 0 and (read_device(ptr, (512,), np.float64) == 0).all()
    assert v._flags == HAS_DEVICE  # both copies hold zeros
    assert not np.asarray(v).any() and memory.stats()["d2h"] == 0

    w = pk.View([3], pk.int32, space=pk.CudaSpace)
    assert not np.asarray(w).any()  # host access before any GPU use: zeros, no transfer
    w[0] = 3
    memory.ensure_device(w, 0)
    assert memory.stats()["h2d"] == 1 and read_device(w._dptr, (3,), np.int32).tolist() == [3, 0, 0]
    if cuda.fake:
        assert cuda.driver_counts()["memset"] == 1


def test_uvm_space_has_cuda_space_semantics(cuda):
    v = pk.View([4], pk.float64, space=pk.CudaUVMSpace)
    ptr = memory.ensure_device(v, 0)
    assert driver.pointer_device(ptr) == 0 and v._flags == HAS_DEVICE
    assert hasattr(v, "__cuda_array_interface__")


def test_device_memory_is_freed_with_the_view(cuda):
    v = pk.View([1 << 16], pk.float64, space=pk.CudaSpace)
    memory.ensure_device(v, 0)
    in_use = driver.memory_stats(0).in_use_blocks
    del v
    gc.collect()
    assert driver.memory_stats(0).in_use_blocks == in_use - 1


def test_release_downloads_a_newer_device_copy(cuda):
    v = pk.View([3], pk.int16, space=pk.CudaSpace)
    ptr = memory.ensure_device(v, 0)
    write_device(ptr, np.array([4, 5, 6], dtype=np.int16))
    memory.mark_device_written(v)
    memory.release(v)
    assert v._flags == 0 and v._dptr == 0 and list(v) == [4, 5, 6]
    assert memory.stats()["d2h"] == 1


def test_migration_between_gpus(cuda):
    if cuda.devices < 2:
        pytest.skip("needs two GPUs")
    v = pk.View([4], pk.float64, space=pk.CudaSpace)
    p0 = memory.ensure_device(v, 0)
    write_device(p0, np.arange(4.0))
    memory.mark_device_written(v)
    memory.reset_stats()
    p1 = memory.ensure_device(v, 1)
    assert v._dplace == 1 and driver.pointer_device(p1) == 1
    # one GPU-to-GPU copy (peer where the driver allows it, else staged); the host is not involved
    assert memory.stats()["d2d"] == 1 and memory.stats()["h2d"] == 0 and memory.stats()["d2h"] == 0
    assert memory.stats()["peer"] + memory.stats()["staged"] == 1
    assert read_device(p1, (4,), np.float64).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert driver.current_device().ordinal == 0  # the caller's device is left alone


def test_strided_wrapped_host_array_keeps_its_gaps(cuda):
    base = np.arange(12.0).reshape(3, 4)
    v = pk.asarray(base[:, 1])  # a root View over strided memory
    ptr = memory.ensure_device(v, 0)
    assert read_device(ptr, (3,), np.float64, strides=(32,)).tolist() == [1.0, 5.0, 9.0]
    write_device(ptr, np.array([-1.0]))
    write_device(ptr + 64, np.array([-9.0]))
    memory.mark_device_written(v)
    base[0, 2] = 100.0  # the host writes memory between the View's elements meanwhile
    assert list(v) == [-1.0, 5.0, -9.0]
    assert base[0, 2] == 100.0 and base[:, 1].tolist() == [-1.0, 5.0, -9.0]


# --- subviews -----------------------------------------------------------------------------------------------


def test_subviews_are_derived_and_sync_through_the_root(cuda):
    v = pk.View([4, 5], pk.float64, space=pk.HostSpace, layout=pk.LayoutRight)
    s = v[1:3, 2:5]
    assert s._flags == DERIVED and v._flags == 0
    ptr = memory.ensure_device(v, 0)
    t = s[1]
    assert t._flags == DERIVED  # a subview has no state of its own, whatever its root holds
    write_device(ptr, np.arange(20.0))
    memory.mark_device_written(v)
    assert s[0, 0] == 7.0 and memory.stats()["d2h"] == 1  # the root was synced once
    assert list(t) == [12.0, 13.0, 14.0] and memory.stats()["d2h"] == 1
    s[1, 1] = -1.0
    assert v._flags & DEVICE_STALE and v[2, 3] == -1.0


def test_subview_device_arg_offsets_and_marking(cuda):
    v = pk.View([4, 5], pk.float64, space=pk.HostSpace, layout=pk.LayoutRight)
    s = v[1:3, 2:5]
    vb, after = memory.device_arg("s", s, 0, writes=True)
    assert type(vb) is _native.ViewBase and vb._flags == HAS_DEVICE  # not DERIVED: the launcher takes it
    root_ptr = v._dptr
    assert root_ptr and vb._dptr == root_ptr + (1 * 5 + 2) * 8 and vb._dplace == 0
    write_device(vb._dptr, np.array([42.0]))
    assert not v._flags & HOST_STALE
    after()
    assert v._flags & HOST_STALE and s._flags == DERIVED
    assert np.asarray(v)[1, 2] == 42.0 and s[0, 0] == 42.0
    assert memoryview(s).tobytes()[:8] == np.float64(42.0).tobytes()

    assert memory.device_arg("s", vb, 0, writes=True) == (vb, None)  # a bare description passes as is

    col = v[:, 3]  # strided
    vb, after = memory.device_arg("col", col, 0, writes=False)
    assert after is None and vb._dptr == v._dptr + 3 * 8
    memory.reset_stats()
    left = pk.View([3, 4], pk.int32, space=pk.HostSpace, layout=pk.LayoutLeft)
    left[...] = np.arange(12).reshape(3, 4)
    sub = pk.subview(left, pk.ALL, 2)
    vb, _ = memory.device_arg("sub", sub, 0, writes=False)
    assert read_device(vb._dptr, (3,), np.int32).tolist() == [2, 6, 10]


# --- NumPy arguments ----------------------------------------------------------------------------------------


def test_numpy_argument_round_trip_through_a_temporary(cuda):
    a = np.arange(10.0)
    in_use = driver.memory_stats(0).in_use_blocks
    vb, after = memory.device_arg("a", a, 0, writes=True)
    assert memory.stats()["h2d"] == 1 and driver.memory_stats(0).in_use_blocks == in_use + 1
    assert read_device(vb._dptr, (10,), np.float64).tolist() == a.tolist()
    write_device(vb._dptr, np.arange(10.0) * 2)
    after()
    assert a.tolist() == (np.arange(10.0) * 2).tolist() and memory.stats()["d2h"] == 1
    assert driver.memory_stats(0).in_use_blocks == in_use

    ro = np.ones(3)
    vb, after = memory.device_arg("ro", ro, 0, writes=False)
    write_device(vb._dptr, np.zeros(3))
    after()
    assert ro.tolist() == [1.0, 1.0, 1.0] and memory.stats()["d2h"] == 1

    grid = np.arange(12, dtype=np.int64).reshape(3, 4)
    vb, after = memory.device_arg("g", grid[:, ::2], 0, writes=True)
    write_device(vb._dptr, np.array([-5], dtype=np.int64))
    after()
    assert grid.tolist() == [[-5, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


def test_numpy_argument_errors(cuda):
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(KernelValueError, match="the kernel writes argument 'f', but that array is read-only"):
        memory.device_arg("f", frozen, 0, writes=True)
    with pytest.raises(KernelTypeError, match="argument 'c' has dtype complex128, which kernels cannot use"):
        memory.device_arg("c", np.zeros(2, dtype=complex), 0, writes=False)
    with pytest.raises(KernelTypeError, match="argument 'b' has dtype >f8.*byte-swapped"):
        memory.device_arg("b", np.zeros(2, dtype=">f8"), 0, writes=False)
    with pytest.raises(KernelValueError, match="argument 'z' has 0 dimensions"):
        memory.device_arg("z", np.zeros(()), 0, writes=False)
    with pytest.raises(KernelTypeError, match="argument 'n' of type dict is not an array"):
        memory.device_arg("n", {}, 0, writes=False)
    assert memory.stats() == no_copies()


# --- foreign GPU arrays -------------------------------------------------------------------------------------


class FakeGpuArray:
    """What CuPy, PyTorch or Numba expose: __cuda_array_interface__ over device memory they own."""

    def __init__(self, values: np.ndarray, strides: tuple[int, ...] | None = None, typestr: str | None = None):
        self.ptr = driver.alloc(max(values.nbytes, 1))
        write_device(self.ptr, values)
        self.shape = values.shape
        self.dtype = values.dtype
        self.strides = strides
        self.typestr = typestr or values.dtype.str
        self.readonly = False

    @property
    def __cuda_array_interface__(self) -> dict:
        return {
            "shape": self.shape,
            "typestr": self.typestr,
            "data": (self.ptr, self.readonly),
            "strides": self.strides,
            "version": 3,
            "stream": 1,
        }

    def values(self) -> np.ndarray:
        return read_device(self.ptr, self.shape, self.dtype, self.strides)

    def free(self) -> None:
        driver.free(self.ptr)


def test_cuda_array_interface_arguments_are_zero_copy(cuda):
    g = FakeGpuArray(np.arange(6, dtype=np.float32).reshape(2, 3))
    vb, after = memory.device_arg("g", g, 0, writes=True)
    assert after is None and vb._dptr == g.ptr and vb._dplace == 0
    assert memory.stats() == no_copies()
    t = FakeGpuArray(np.arange(6, dtype=np.float32).reshape(2, 3), strides=(4, 8))  # transposed layout
    vb, _ = memory.device_arg("t", t, 0, writes=False)
    assert vb._dptr == t.ptr

    bad = FakeGpuArray(np.zeros(4, dtype=np.float64), strides=(12,))
    with pytest.raises(KernelValueError, match=r"argument 'bad' has strides \(12,\) that are not multiples"):
        memory.device_arg("bad", bad, 0, writes=False)
    cplx = FakeGpuArray(np.zeros(2, dtype=np.complex64))
    with pytest.raises(KernelTypeError, match="argument 'cplx' has dtype complex64, which kernels cannot use"):
        memory.device_arg("cplx", cplx, 0, writes=False)
    g.readonly = True
    with pytest.raises(KernelValueError, match="the kernel writes argument 'g', but that GPU array is read-only"):
        memory.device_arg("g", g, 0, writes=True)
    if cuda.devices > 1:
        with pytest.raises(KernelValueError, match="argument 'g' is in the memory of GPU 0, but the kernel runs"):
            memory.device_arg("g", g, 1, writes=False)
    for a in (g, t, bad, cplx):
        a.free()


def test_other_device_types_are_rejected(cuda):
    class OpenClArray:
        def __dlpack__(self, stream=None):
            raise AssertionError("never exported")

        def __dlpack_device__(self):
            return (4, 0)  # kDLOpenCL

    with pytest.raises(KernelTypeError, match="argument 'q' .* DLPack device type 4, which a CUDA kernel"):
        memory.device_arg("q", OpenClArray(), 0, writes=False)


def test_asarray_wraps_gpu_memory_without_copying(cuda):
    g = FakeGpuArray(np.arange(8, dtype=np.int64).reshape(2, 4))
    in_use = driver.memory_stats(0).in_use_blocks
    w = pk.asarray(g)
    assert w.space is pk.CudaSpace and w.trait is pk.Unmanaged and w.layout is pk.LayoutRight
    assert w.shape == (2, 4) and w.dtype is pk.int64 and w._dptr == g.ptr
    # another library's memory: SHARED, so its CUDA launches are made in order with that library's work
    assert w._flags == HAS_DEVICE | HOST_STALE | SHARED and memory.stats() == no_copies()
    assert w[1, 3] == 7 and memory.stats()["d2h"] == 1  # the host shadow is filled on first access
    w[0, 0] = -3
    assert memory.ensure_device(w, 0) == g.ptr and memory.stats()["h2d"] == 1
    assert g.values()[0, 0] == -3  # the host write reached the library's memory
    vb, after = memory.device_arg("w", w, 0, writes=True)
    assert vb is w and after is None
    if cuda.devices > 1:
        with pytest.raises(KernelValueError, match="argument 'w' wraps memory of GPU 0"):
            memory.device_arg("w", w, 1, writes=False)
    del w, vb
    gc.collect()
    assert driver.memory_stats(0).in_use_blocks == in_use  # never freed by kernelkit
    assert driver._allocator.owns(g.ptr)
    g.free()


def test_views_export_cuda_array_interface(cuda):
    v = pk.View([3, 4], pk.float32, space=pk.CudaSpace, layout=pk.LayoutRight)
    v[2, 1] = 9.0
    cai = v.__cuda_array_interface__
    assert cai["version"] == 3 and cai["shape"] == (3, 4) and cai["typestr"] == "<f4"
    assert cai["strides"] is None and cai["data"] == (v._dptr, False)
    assert v._flags == HAS_DEVICE | HOST_STALE | SHARED  # the consumer may write, and may use it later
    assert read_device(v._dptr, (3, 4), np.float32)[2, 1] == 9.0
    s = v[:, 1]
    sc = s.__cuda_array_interface__
    assert sc["data"][0] == v._dptr + 4 and sc["strides"] == (16,) and sc["shape"] == (3,)
    w = pk.asarray(s)  # round trip: a View of the subview's device memory
    assert w is s
    h = pk.View([3], space=pk.HostSpace)
    assert not hasattr(h, "__cuda_array_interface__")
    assert h.__dlpack_device__() == (1, 0)


def test_dlpack_device_export_round_trip(cuda):
    v = pk.View([2, 3], pk.int32, space=pk.CudaSpace)
    v[...] = np.arange(6, dtype=np.int32).reshape(2, 3)
    assert v.__dlpack_device__() == (2, 0)

    class Holder:  # a consumer that only speaks DLPack
        def __init__(self, capsule):
            self.capsule = capsule

        def __dlpack__(self, stream=None):
            return self.capsule

        def __dlpack_device__(self):
            return (2, 0)

    exports = len(dlpack._EXPORTS)
    capsule = v.__dlpack__()
    assert len(dlpack._EXPORTS) == exports + 1 and v._flags & HOST_STALE
    w = pk.asarray(Holder(capsule))
    del capsule
    assert w._dptr == v._dptr and w.layout is pk.LayoutLeft and w.shape == (2, 3)
    assert np.asarray(w).tolist() == [[0, 1, 2], [3, 4, 5]]
    w[1, 2] = 50
    memory.ensure_device(w, 0)
    assert v[1, 2] == 50  # the same device memory
    del w
    gc.collect()
    assert len(dlpack._EXPORTS) == exports  # the unconsumed capsule died: its destructor released the export

    # a consumer that takes ownership renames the capsule and calls the deleter itself
    capsule = v.__dlpack__(stream=None)
    name = ctypes.c_char_p(b"used_dltensor")  # kept alive: the capsule stores the pointer
    get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
        ("PyCapsule_GetPointer", ctypes.pythonapi)
    )
    set_name = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_char_p)(
        ("PyCapsule_SetName", ctypes.pythonapi)
    )
    address = get_pointer(capsule, b"dltensor")
    assert set_name(capsule, name) == 0
    managed = dlpack._DLManagedTensor.from_address(address)
    assert managed.dl_tensor.device.device_type == 2 and managed.dl_tensor.ndim == 2
    assert [managed.dl_tensor.strides[k] for k in range(2)] == [1, 2]
    managed.deleter(address)
    assert len(dlpack._EXPORTS) == exports
    del capsule, managed
    gc.collect()
    del name

    h = pk.View([3], pk.float64, space=pk.HostSpace)
    h[0] = 1.5
    assert np.from_dlpack(h)[0] == 1.5  # host Views still export host memory
    assert np.from_dlpack(v, device="cpu").tolist() == [[0, 1, 2], [3, 4, 50]]  # dl_device=(kDLCPU, 0)


# --- deep_copy, mirrors, fill -------------------------------------------------------------------------------


def test_deep_copy_across_spaces(cuda):
    h = pk.View([4, 3], pk.float64, space=pk.HostSpace, layout=pk.LayoutLeft)
    h[...] = np.arange(12.0).reshape(4, 3)
    d = pk.View([4, 3], pk.float64, space=pk.CudaSpace)  # LayoutLeft too
    memory.reset_stats()
    pk.deep_copy(d, h)  # host to device, straight into the device copy
    assert memory.stats()["h2d"] == 1 and d._flags == HAS_DEVICE | HOST_STALE
    e = pk.View([4, 3], pk.float64, space=pk.CudaSpace)
    pk.deep_copy(e, d)  # device to device
    assert memory.stats()["d2d"] == 1 and memory.stats()["d2h"] == 0 and memory.stats()["h2d"] == 1
    assert (read_device(e._dptr, (4, 3), np.float64, strides=(8, 32)) == np.arange(12.0).reshape(4, 3)).all()
    m = pk.create_mirror_view(e)  # device to host, straight into the mirror
    assert m is not e and m.space is pk.HostSpace and memory.stats()["d2h"] == 1
    assert np.asarray(m).tolist() == np.arange(12.0).reshape(4, 3).tolist()
    assert e._flags & HOST_STALE  # the mirror copy left e's own host array alone
    r = pk.View([4, 3], pk.float64, space=pk.CudaSpace, layout=pk.LayoutRight)
    pk.deep_copy(r, e)  # different layouts: through the host
    assert np.asarray(r).tolist() == np.arange(12.0).reshape(4, 3).tolist()
    out = np.zeros((4, 3), order="F")
    pk.deep_copy(out, e)
    assert out.tolist() == np.arange(12.0).reshape(4, 3).tolist()
    pk.deep_copy(e[1:3], h[0:2])  # into a region of a device View: the root is kept coherent
    assert np.asarray(e)[1:3].tolist() == np.arange(6.0).reshape(2, 3).tolist()
    assert np.asarray(e)[3].tolist() == [9.0, 10.0, 11.0]
    with pytest.raises(KernelValueError, match="shapes differ"):
        pk.deep_copy(d, pk.View([3, 4], space=pk.CudaSpace))


def test_fill_on_the_device(cuda):
    d = pk.View([6], pk.float32, space=pk.CudaSpace)
    memory.ensure_device(d, 0)
    memory.reset_stats()
    d.fill(1.0)  # a 4-byte pattern: cuMemsetD32
    pk.deep_copy(d, 1.0)
    assert memory.stats() == no_copies() and d._flags == HAS_DEVICE | HOST_STALE
    assert read_device(d._dptr, (6,), np.float32).tolist() == [1.0] * 6
    assert list(d) == [1.0] * 6 and memory.stats()["d2h"] == 1
    i = pk.View([5], pk.int64, space=pk.CudaSpace)
    i.fill(-1)  # a byte pattern, on a View never used on the GPU yet
    assert read_device(i._dptr, (5,), np.int64).tolist() == [-1] * 5 and memory.stats()["h2d"] == 0
    i.fill(3)  # no memset pattern: written on the host
    assert i._flags & DEVICE_STALE and list(i) == [3] * 5
    with pytest.raises(KernelTypeError, match="not an integer value"):
        i.fill(0.5)


def test_generation_change_forgets_old_device_copies(cuda, fake_libcuda):
    if not cuda.fake:
        pytest.skip("reloads the fake driver")
    v = pk.View([3], pk.float64, space=pk.HostSpace)
    v[0] = 1.0
    memory.ensure_device(v, 0)
    driver.use_library(fake_libcuda)  # forgets every block of the previous library
    memory.reset_stats()
    memory.ensure_device(v, 0)
    assert memory.stats()["h2d"] == 1 and read_device(v._dptr, (3,), np.float64).tolist() == [1.0, 0.0, 0.0]


# --- without a GPU ------------------------------------------------------------------------------------------


@pytest.mark.skipif(driver.available()[0], reason="checks the behaviour without a usable GPU")
def test_cuda_space_lives_on_the_host_without_a_gpu():
    v = pk.View([3, 2], pk.int32, space=pk.CudaSpace)
    assert not np.asarray(v).any() and v._flags == 0
    v[1, 1] = 4
    v.fill(2)
    pk.deep_copy(v, np.ones((3, 2), dtype=np.int32))
    assert np.asarray(v).sum() == 6
    assert not hasattr(v, "__cuda_array_interface__") and v.__dlpack_device__() == (1, 0)
    assert pk.create_mirror_view(v) is v


def test_import_and_host_views_load_no_cuda_library():
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import kernelkit as pk
        v = pk.View([4], space=pk.HostSpace)
        v[1] = 2.0
        pk.deep_copy(v, np.arange(4.0)); pk.create_mirror_view(v); v[1:].fill(1.0)
        assert np.asarray(v).sum() == 3.0
        # kernelkit's CUDA modules are plain Python imported with kernelkit (a cached GPU kernel's first launch
        # must not pay for them); host-only use must never load the driver or NVRTC, or make a context
        maps = open("/proc/self/maps").read()
        assert "libcuda" not in maps and "libnvrtc" not in maps
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- real GPU interop ---------------------------------------------------------------------------------------


@pytest.fixture
def gpu():
    ok, reason = driver.available()
    if not ok:
        pytest.skip(f"no usable CUDA GPU: {reason}")
    memory.reset_stats()
    yield
    gc.collect()


@pytest.mark.gpu
def test_cupy_interop(gpu):
    cp = pytest.importorskip("cupy")
    a = cp.arange(10, dtype=cp.float64)
    vb, after = memory.device_arg("a", a, 0, writes=True)
    assert vb._dptr == a.data.ptr and after is None and memory.stats() == no_copies()
    w = pk.asarray(a)
    assert list(w) == list(range(10))
    v = pk.View([5], pk.float64, space=pk.CudaSpace)
    v[...] = np.arange(5.0)
    c = cp.asarray(v)  # __cuda_array_interface__: zero copy
    assert c.data.ptr == v._dptr
    c *= 2
    cp.cuda.runtime.deviceSynchronize()
    assert list(v) == [0.0, 2.0, 4.0, 6.0, 8.0]
    d = cp.from_dlpack(v)
    assert d.data.ptr == v._dptr


@pytest.mark.gpu
def test_torch_interop(gpu):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch without CUDA")
    t = torch.arange(6, dtype=torch.float32, device="cuda").reshape(2, 3)
    vb, after = memory.device_arg("t", t, 0, writes=False)
    assert vb._dptr == t.data_ptr() and after is None
    w = pk.asarray(t)
    assert np.asarray(w).tolist() == [[0, 1, 2], [3, 4, 5]]
    v = pk.View([4], pk.float32, space=pk.CudaSpace)
    v.fill(1.0)
    u = torch.from_dlpack(v)
    assert u.data_ptr() == v._dptr and u.device.type == "cuda"
    u += 1
    torch.cuda.synchronize()
    assert list(v) == [2.0] * 4
    h = pk.View([3], pk.float32, space=pk.HostSpace)
    assert torch.as_tensor(h).device.type == "cpu"  # host Views have no __cuda_array_interface__


@pk.workunit
def _axpy(i, a, x, y):
    y[i] += a * x[i]


@pk.workunit
def _scale(i, a, x):
    x[i] *= a


@pytest.mark.gpu
def test_kernel_loop_on_the_gpu_moves_no_data(gpu):
    if not pk.Cuda.available():
        pytest.skip("pk.Cuda is not available")
    n = 1 << 16
    x = pk.View([n], pk.float64, space=pk.CudaSpace)
    y = pk.View([n], pk.float64, space=pk.CudaSpace)
    x.fill(1.0)
    policy = pk.RangePolicy(pk.Cuda, 0, n)
    pk.parallel_for(policy, _axpy, a=2.0, x=x, y=y)  # first launch: compiles, allocates, zero-fills y
    memory.reset_stats()
    for _ in range(100):
        pk.parallel_for(policy, _axpy, a=2.0, x=x, y=y)
    pk.fence()
    assert memory.stats() == no_copies()
    assert y[0] == 202.0 and y[n - 1] == 202.0 and memory.stats()["d2h"] == 1
    assert x._flags == HAS_DEVICE  # read only by the kernels: the host copy never went stale

    h = pk.View([n], pk.float64, space=pk.HostSpace)  # host Views and subviews work on the GPU too
    h[...] = np.arange(n, dtype=np.float64)
    pk.parallel_for(policy, _scale, a=3.0, x=h)
    s = h[10:20]
    pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, 10), _scale, a=-1.0, x=s)
    pk.fence()
    assert h[5] == 15.0 and h[10] == -30.0 and list(s)[-1] == -57.0
    a = np.ones(8)
    pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, 8), _scale, a=4.0, x=a)  # NumPy: a temporary, copied back
    pk.fence()
    assert a.tolist() == [4.0] * 8
    pk.parallel_for(pk.RangePolicy(pk.OpenMP, 0, n), _scale, a=0.5, x=y)  # host kernel: syncs y first
    assert y[1] == 101.0
    pk.parallel_for(policy, _scale, a=2.0, x=y)  # and uploads the host's newer copy before the next
    pk.fence()
    assert y[2] == 202.0


def test_deep_copy_between_gpus_stays_on_the_devices(cuda):
    if cuda.devices < 2:
        pytest.skip("needs two GPUs")
    a = pk.View([6], pk.float64, space=pk.CudaSpace)
    b = pk.View([6], pk.float64, space=pk.CudaSpace)
    pa = memory.ensure_device(a, 1)
    write_device(pa, np.arange(6.0))
    memory.mark_device_written(a)
    memory.ensure_device(b, 0)
    memory.reset_stats()
    pk.deep_copy(b, a)  # GPU 1 -> GPU 0: peer-to-peer where the driver allows it, else staged; never via b's host
    st = memory.stats()
    assert st["d2d"] == 1 and st["h2d"] == 0 and st["peer"] + st["staged"] == 1
    assert b._dplace == 0 and b._flags & memory.HOST_STALE
    assert b[5] == 5.0 and a._dplace == 1
