"""The buffers of PArray copies at places other than cpu(0), and the copies between places (tasks/data.py
decides what moves; this module only allocates and copies).

Every copy of a PArray root has the byte layout of the root View's host array (the same span and strides), so
a subarray is the same (byte offset, shape, strides) at every place: moving a subarray copies only its bytes.

- cpu(0): the root View's host array itself (no buffer here).
- a logical GPU backed by the host: a separate NumPy buffer (`HostBuffer`); copies are NumPy copies.
- a logical GPU on a physical GPU: device memory from kernelkit's caching allocator on that GPU
  (`DeviceBuffer`); `array()` is a CuPy array over it when CuPy is installed, else a `DeviceArray` (shape,
  dtype, strides, `__cuda_array_interface__`, `get()`), which kernelkit kernels and CuPy both accept. Copies
  are driver memcpys queued on the task's stream (one per contiguous run of the region), so dependents are
  ordered by the task's event like its kernels.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from kernelkit import _native
from kernelkit.errors import KernelMemoryError


def span(a: np.ndarray) -> tuple[int, int]:
    """(lowest byte offset from element 0, bytes spanned) of an array's elements."""
    if a.size == 0:
        return 0, 0
    low = high = 0
    for n, s in zip(a.shape, a.strides, strict=False):
        if s < 0:
            low += (n - 1) * s
        else:
            high += (n - 1) * s
    return low, high - low + a.itemsize


def address(a: np.ndarray) -> int:
    return int(a.__array_interface__["data"][0])


class Region:
    """Where a (sub)array lies in every copy of its root: `offset` bytes from the root's element 0, `shape` and
    `strides` (bytes), `nbytes` of elements."""

    __slots__ = ("offset", "shape", "strides", "dtype", "nbytes")

    def __init__(self, sub: np.ndarray, root: np.ndarray):
        self.offset = address(sub) - address(root)
        self.shape = sub.shape
        self.strides = sub.strides
        self.dtype = sub.dtype
        self.nbytes = int(sub.size) * sub.itemsize

    def runs(self) -> list[tuple[int, int]]:
        """(byte offset from the root's element 0, bytes) of each contiguous run of the region, in order."""
        if self.nbytes == 0:
            return []
        shape, strides = list(self.shape), list(self.strides)
        run = self.dtype.itemsize
        while shape and (shape[-1] == 1 or strides[-1] == run):  # collapse trailing dimensions contiguous in memory
            run *= shape[-1]
            shape.pop()
            strides.pop()
        if not shape:
            return [(self.offset, run)]
        out = []
        for idx in np.ndindex(*shape):
            out.append((self.offset + sum(i * s for i, s in zip(idx, strides, strict=False)), run))
        return out


class HostBuffer:
    """A copy in host memory other than the root's own array (a logical GPU backed by the host)."""

    device = -1  # no CUDA ordinal

    def __init__(self, root: np.ndarray, label: str):
        low, nbytes = span(root)
        try:
            raw = np.empty(nbytes + 64, dtype=np.uint8)
        except (MemoryError, ValueError):
            raise KernelMemoryError(
                f"cannot allocate {nbytes} bytes for a PArray copy on {label} (host memory backs it)"
            ) from None
        self._raw = raw
        self._start = -address(raw) % 64 - low  # the byte of element 0 in `raw` (64-byte aligned span)
        self.root = self._at(root.shape, root.strides, root.dtype, 0)

    def _at(self, shape: tuple, strides: tuple, dtype: np.dtype, offset: int) -> np.ndarray:
        return np.ndarray(shape, dtype, buffer=self._raw, offset=self._start + offset, strides=strides)

    def region(self, r: Region) -> np.ndarray:
        return self._at(r.shape, r.strides, r.dtype, r.offset)

    def array(self, r: Region) -> np.ndarray:
        return self.region(r)


class DeviceArray:
    """A kernelkit device array over a PArray copy on a GPU (when CuPy is not installed): what
    `__cuda_array_interface__` consumers (kernelkit kernels, PyTorch, Numba) need, and `get()` for a host copy."""

    __slots__ = ("ptr", "shape", "dtype", "strides", "device", "_owner", "__weakref__")

    def __init__(self, ptr: int, shape: tuple, dtype: np.dtype, strides: tuple, device: int, owner: Any):
        self.ptr = ptr
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.strides = tuple(strides)
        self.device = device
        self._owner = owner  # keeps the buffer alive

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        _native.cuda_queue_disable()  # a consumer may use it on work kernelkit never sees (cudaq.c)
        return {
            "shape": self.shape,
            "typestr": self.dtype.str,
            "data": (self.ptr, False),
            "strides": self.strides,
            "version": 3,
            "stream": None,  # the task's stream already orders the work (a blocking stream)
        }

    def get(self) -> np.ndarray:
        """A NumPy copy of the contents (waits for the work queued on the GPU before it)."""
        from kernelkit.backends.cuda import driver

        probe = np.lib.stride_tricks.as_strided(np.empty(1, self.dtype), self.shape, self.strides)
        low, nbytes = span(probe)
        raw = np.empty(nbytes + self.dtype.itemsize, np.uint8)
        pad = -address(raw) % self.dtype.itemsize
        out = np.ndarray(self.shape, self.dtype, buffer=raw, offset=pad - low, strides=self.strides)
        r = Region(out, out)
        with _Current(self.device):
            for off, n in r.runs():
                driver.memcpy_dtoh(address(out) + off, self.ptr + off, n)
        return np.ascontiguousarray(out)

    def set(self, values: Any) -> None:
        """Copy a host array of this shape into the device memory (as CuPy's `ndarray.set`)."""
        from kernelkit.backends.cuda import driver

        probe = np.lib.stride_tricks.as_strided(np.empty(1, self.dtype), self.shape, self.strides)
        low, nbytes = span(probe)
        raw = np.empty(nbytes + self.dtype.itemsize, np.uint8)
        pad = -address(raw) % self.dtype.itemsize
        tmp = np.ndarray(self.shape, self.dtype, buffer=raw, offset=pad - low, strides=self.strides)
        np.copyto(tmp, np.asarray(values, dtype=self.dtype))
        r = Region(tmp, tmp)
        with _Current(self.device):
            for off, n in r.runs():
                driver.memcpy_htod(self.ptr + off, address(tmp) + off, n)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        a = self.get()
        return a if dtype is None else a.astype(dtype)

    def __repr__(self) -> str:
        return f"DeviceArray(gpu {self.device}, shape={self.shape}, dtype={self.dtype})"


class _Current:
    """Make CUDA device `device` current for a block (restoring the caller's)."""

    def __init__(self, device: int):
        self.device = device
        self.previous: Any = None

    def __enter__(self) -> None:
        from kernelkit.backends.cuda import driver

        cur = driver.current_device()
        if cur.ordinal != self.device:
            self.previous = cur
            driver.Device(self.device).set_current()

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            self.previous.set_current()


class DeviceBuffer:
    """A copy on a physical GPU: one block of device memory with the root's byte layout."""

    def __init__(self, root: np.ndarray, device: int, label: str):
        from kernelkit.backends.cuda import driver

        low, nbytes = span(root)
        with _Current(device):
            self._base = driver.alloc(max(nbytes, 1), device)
        self.device = device
        self.nbytes = nbytes
        self.start = self._base - low  # the address of element 0
        self._fin = weakref.finalize(self, _free, self._base)
        self._fin.atexit = False
        self._root = Region(root, root)
        self._cache: dict[tuple, Any] = {}

    def array(self, r: Region) -> Any:
        """The region as a CuPy array (CuPy installed) or a DeviceArray."""
        from kernelkit.tasks.arrays import cupy_module

        key = (r.offset, r.shape, r.strides, r.dtype.str)
        a = self._cache.get(key)
        if a is not None:
            return a
        cp = cupy_module()
        if cp is not None:
            # CuPy may use this memory on work kernelkit never sees: CUDA launches are made on their caller's
            # thread from here on, in order with CuPy's (runtime/native/cudaq.c)
            _native.cuda_queue_disable()
            mem = cp.cuda.UnownedMemory(self._base, self.nbytes, self, self.device)
            ptr = cp.cuda.MemoryPointer(mem, self.start + r.offset - self._base)
            with cp.cuda.Device(self.device):
                a = cp.ndarray(r.shape, r.dtype, ptr, strides=r.strides)
        else:
            a = DeviceArray(self.start + r.offset, r.shape, r.dtype, r.strides, self.device, self)
        if len(self._cache) < 64:
            self._cache[key] = a
        return a


def _free(ptr: int) -> None:
    try:
        from kernelkit.backends.cuda import driver

        driver.free(ptr)
    except Exception:  # a finalizer at shutdown or after the driver went away: nothing useful to do
        pass


def copy(dst: Any, src: Any, r: Region, here: np.ndarray, stream: Any) -> None:
    """Copy region `r` from `src` to `dst`; each is None (the root View's host memory, where the region is the
    array `here`), a HostBuffer or a DeviceBuffer. Copies involving a GPU are queued on `stream` (None:
    synchronous); a copy to host memory is synchronous (the host reads it next)."""
    dst_dev = isinstance(dst, DeviceBuffer)
    src_dev = isinstance(src, DeviceBuffer)
    if not dst_dev and not src_dev:
        np.copyto(here if dst is None else dst.region(r), here if src is None else src.region(r))
        return
    from kernelkit.backends.cuda import driver

    if dst_dev and src_dev:
        if dst.device == src.device:
            with _Current(dst.device):
                for off, n in r.runs():
                    if stream is not None:
                        driver.memcpy_dtod_async(dst.start + off, src.start + off, n, stream)
                    else:
                        driver.memcpy_dtod(dst.start + off, src.start + off, n)
        else:
            for off, n in r.runs():
                driver.memcpy_peer(dst.start + off, dst.device, src.start + off, src.device, n)
        return
    h = here if (src if dst_dev else dst) is None else (src if dst_dev else dst).region(r)
    base = address(h) - r.offset  # the host address of the root's element 0, as far as this region goes
    if dst_dev:
        with _Current(dst.device):
            for off, n in r.runs():
                if stream is not None:
                    driver.memcpy_htod_async(dst.start + off, base + off, n, stream)
                else:
                    driver.memcpy_htod(dst.start + off, base + off, n)
        return
    with _Current(src.device):
        for off, n in r.runs():
            driver.memcpy_dtoh(base + off, src.start + off, n)
