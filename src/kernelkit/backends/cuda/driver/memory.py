"""Device memory (a caching allocator), managed and pinned host memory, copies and memset.

Invariants:
- A freed block goes back to the free list of the stream it was allocated for and is reused only by
  allocations on that stream, so stream order protects it (as in CuPy). Work queued on another stream must be
  synchronized before the block is freed.
- Managed (UVM) memory is only ever allocated by `alloc_managed`, on request.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from typing import Any

from kernelkit.backends.cuda.driver import api
from kernelkit.backends.cuda.driver.api import CudaError, check, cu
from kernelkit.backends.cuda.driver.device import Device, as_device, current_device, ensure_context
from kernelkit.backends.cuda.driver.streams import Stream, stream_handle
from kernelkit.errors import KernelValueError, SpaceUnavailable

_SMALL_LIMIT = 1 << 20
_SMALL_GRANULE = 512


def size_class(nbytes: int) -> int:
    """The block size an allocation of `nbytes` gets: multiples of 512 B up to 1 MiB, then eight classes per
    power of two (at most 12.5% waste). Zero bytes still get a real 512-byte block."""
    if nbytes <= _SMALL_LIMIT:
        return max(_SMALL_GRANULE, -(-nbytes // _SMALL_GRANULE) * _SMALL_GRANULE)
    step = 1 << ((nbytes - 1).bit_length() - 4)
    return -(-nbytes // step) * step


@dataclass
class AllocatorStats:
    """Counters of one device's caching allocator (bytes are block sizes, i.e. after rounding)."""

    in_use_bytes: int = 0
    cached_bytes: int = 0
    peak_in_use_bytes: int = 0
    in_use_blocks: int = 0
    cached_blocks: int = 0
    allocs: int = 0
    frees: int = 0
    cache_hits: int = 0
    driver_allocs: int = 0
    driver_frees: int = 0
    requested_bytes: int = 0


class _Block:
    # a plain class, not a dataclass: building a dataclass costs ~0.3 ms of import time
    __slots__ = ("device", "size", "stream", "requested")

    def __init__(self, device: int, size: int, stream: int, requested: int):
        self.device = device
        self.size = size
        self.stream = stream
        self.requested = requested


class CachingAllocator:
    """Device memory in size classes with a free list per (device, stream, size class).

    `alloc` reuses a cached block of the same class on the same stream, else calls cuMemAlloc; on
    out-of-memory it returns this device's cached blocks to the driver and tries once more, then raises a
    CudaError saying how much was asked and how much is free. `free` only caches; `empty_cache` gives
    cached blocks back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: dict[tuple[int, int, int], list[int]] = {}
        self._live: dict[int, _Block] = {}
        self._stats: dict[int, AllocatorStats] = {}

    def reset(self) -> None:
        """Forget every block without calling the driver (after `use_library`)."""
        with self._lock:
            self._free.clear()
            self._live.clear()
            self._stats.clear()

    def _stat(self, device: int) -> AllocatorStats:
        stats = self._stats.get(device)
        if stats is None:
            stats = self._stats[device] = AllocatorStats()
        return stats

    def alloc(self, nbytes: int, device: Device | int | None = None, stream: Stream | int | None = None) -> int:
        """A device pointer to at least `nbytes` bytes on `device`, for use on `stream`."""
        if nbytes < 0:
            raise KernelValueError(f"cannot allocate {nbytes} bytes")
        dev = as_device(device)
        dev.activate()  # before taking the allocator lock: retaining a context takes the driver lock
        size = size_class(nbytes)
        s = stream_handle(stream)
        key = (dev.ordinal, s, size)
        with self._lock:
            stats = self._stat(dev.ordinal)
            bucket = self._free.get(key)
            if bucket:
                ptr = bucket.pop()
                stats.cache_hits += 1
                stats.cached_bytes -= size
                stats.cached_blocks -= 1
            else:
                ptr = self._driver_alloc(dev, size, nbytes, stats)
            self._live[ptr] = _Block(dev.ordinal, size, s, nbytes)
            stats.allocs += 1
            stats.in_use_bytes += size
            stats.in_use_blocks += 1
            stats.requested_bytes += nbytes
            stats.peak_in_use_bytes = max(stats.peak_in_use_bytes, stats.in_use_bytes)
        return ptr

    def _driver_alloc(self, dev: Device, size: int, nbytes: int, stats: AllocatorStats) -> int:
        table = cu()
        ptr = ctypes.c_uint64()
        status = table.cuMemAlloc(ctypes.byref(ptr), size)
        if status == api.CUDA_ERROR_OUT_OF_MEMORY:
            self._release(dev, stats)
            status = table.cuMemAlloc(ctypes.byref(ptr), size)
        if status == api.CUDA_ERROR_OUT_OF_MEMORY:
            raise self._oom(dev, nbytes, size, stats, status)
        check(status, "cuMemAlloc", f"allocating {nbytes} bytes on device {dev.ordinal}")
        stats.driver_allocs += 1
        return ptr.value

    def _oom(self, dev: Device, nbytes: int, size: int, stats: AllocatorStats, status: int) -> CudaError:
        try:
            free_b, total_b = dev.mem_info()
            where = f"{_fmt_bytes(free_b)} ({free_b} bytes) free of {_fmt_bytes(total_b)}"
        except CudaError:
            where = "free memory unknown"
        message = (
            f"CUDA out of memory on device {dev.ordinal} ({dev.name}): asked for {_fmt_bytes(nbytes)} "
            f"({nbytes} bytes, block of {size}); {where}; "
            f"kernelkit holds {_fmt_bytes(stats.in_use_bytes)} in use"
        )
        err = api.error(status, "cuMemAlloc")
        return CudaError(f"{message}. {err.message}", None, None, status, err.call)

    def _release(self, dev: Device, stats: AllocatorStats) -> int:
        # Caller holds the lock and made `dev` current. cuMemFree synchronizes, so blocks still used by queued
        # work are safe to free.
        table = cu()
        released = 0
        for key in [k for k in self._free if k[0] == dev.ordinal]:
            for ptr in self._free.pop(key):
                check(table.cuMemFree(ptr), "cuMemFree")
                released += key[2]
                stats.driver_frees += 1
                stats.cached_blocks -= 1
        stats.cached_bytes -= released
        return released

    def free(self, ptr: int) -> None:
        """Return a block from `alloc` to its free list (0 is ignored)."""
        if not ptr:
            return
        with self._lock:
            block = self._live.pop(ptr, None)
            if block is None:
                raise KernelValueError(f"device pointer {ptr:#x} was not allocated by kernelkit (or freed twice)")
            stats = self._stat(block.device)
            stats.frees += 1
            stats.in_use_bytes -= block.size
            stats.in_use_blocks -= 1
            stats.requested_bytes -= block.requested
            stats.cached_bytes += block.size
            stats.cached_blocks += 1
            self._free.setdefault((block.device, block.stream, block.size), []).append(ptr)

    def empty_cache(self, device: Device | int | None = None) -> int:
        """Give every cached block (of `device`, or of all devices) back to the driver; returns the bytes."""
        if api.state.table is None:
            return 0
        ordinals = [as_device(device).ordinal] if device is not None else sorted({k[0] for k in self._free})
        released = 0
        for ordinal in ordinals:
            dev = Device(ordinal)
            dev.activate()
            with self._lock:
                released += self._release(dev, self._stat(ordinal))
        return released

    def stats(self, device: Device | int | None = None) -> AllocatorStats:
        """A copy of the counters of `device` (the current one by default)."""
        ordinal = as_device(device).ordinal
        with self._lock:
            return AllocatorStats(**vars(self._stat(ordinal)))

    def owns(self, ptr: int) -> bool:
        """True when `ptr` is a live block of this allocator."""
        return ptr in self._live


def _fmt_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{n} B"
        value /= 1024
    return f"{n} B"


allocator = CachingAllocator()
api.on_reset(allocator.reset)


def alloc(nbytes: int, device: Device | int | None = None, stream: Stream | int | None = None) -> int:
    """Device memory from the caching allocator (see CachingAllocator); returns the device pointer."""
    return allocator.alloc(nbytes, device, stream)


def free(ptr: int) -> None:
    """Return memory from `alloc` to the cache."""
    allocator.free(ptr)


def empty_cache(device: Device | int | None = None) -> int:
    """Give cached device memory back to the driver; returns the bytes released."""
    return allocator.empty_cache(device)


def memory_stats(device: Device | int | None = None) -> AllocatorStats:
    """The caching allocator's counters for `device`."""
    return allocator.stats(device)


def mem_info(device: Device | int | None = None) -> tuple[int, int]:
    """(free, total) bytes on `device` according to the driver."""
    return as_device(device).mem_info()


# ----------------------------------------------------------------------------------------------------
# Managed and page-locked memory


def alloc_managed(nbytes: int, device: Device | int | None = None) -> int:
    """Managed (UVM) memory, never larger than the device's free memory. Freed with `free_managed`."""
    dev = as_device(device)
    free_b, _ = dev.mem_info()
    if nbytes > free_b:
        raise CudaError(
            f"managed allocation of {_fmt_bytes(nbytes)} ({nbytes} bytes) exceeds the {_fmt_bytes(free_b)} "
            f"({free_b} bytes) free on device {dev.ordinal}; kernelkit never oversubscribes device memory",
            code=api.CUDA_ERROR_OUT_OF_MEMORY,
            call="cuMemAllocManaged",
        )
    table = cu()
    if table.cuMemAllocManaged is None:
        raise SpaceUnavailable("this CUDA driver has no managed memory (cuMemAllocManaged)")
    ptr = ctypes.c_uint64()
    check(
        table.cuMemAllocManaged(ctypes.byref(ptr), max(nbytes, 1), api.MEM_ATTACH_GLOBAL),
        "cuMemAllocManaged",
        f"allocating {nbytes} managed bytes",
    )
    return ptr.value


def free_managed(ptr: int) -> None:
    """Free memory from `alloc_managed`."""
    if ptr:
        ensure_context()
        check(cu().cuMemFree(ptr), "cuMemFree")


def alloc_host(nbytes: int) -> int:
    """Page-locked host memory (for asynchronous copies); returns its address. Free with `free_host`."""
    ensure_context()
    ptr = ctypes.c_void_p()
    check(
        cu().cuMemAllocHost(ctypes.byref(ptr), max(nbytes, 1)),
        "cuMemAllocHost",
        f"allocating {nbytes} pinned host bytes",
    )
    return ptr.value or 0


def free_host(ptr: int) -> None:
    """Free memory from `alloc_host`."""
    if ptr:
        ensure_context()
        check(cu().cuMemFreeHost(ptr), "cuMemFreeHost")


def host_register(ptr: int, nbytes: int) -> None:
    """Page-lock existing host memory (e.g. a NumPy array's buffer) so copies from it can be asynchronous."""
    ensure_context()
    table = cu()
    if table.cuMemHostRegister is None:
        raise SpaceUnavailable("this CUDA driver cannot register host memory")
    check(table.cuMemHostRegister(ptr, nbytes, api.MEMHOSTREGISTER_PORTABLE), "cuMemHostRegister")


def host_unregister(ptr: int) -> None:
    """Undo `host_register`."""
    ensure_context()
    table = cu()
    if table.cuMemHostUnregister is None:
        raise SpaceUnavailable("this CUDA driver cannot register host memory")
    check(table.cuMemHostUnregister(ptr), "cuMemHostUnregister")


def pointer_device(ptr: int) -> int | None:
    """The ordinal of the device whose memory `ptr` points into (device or managed memory), else None."""
    table = cu()
    ensure_context()
    mtype = ctypes.c_uint()
    if table.cuPointerGetAttribute(ctypes.addressof(mtype), api.POINTER_MEMORY_TYPE, ptr) != api.CUDA_SUCCESS:
        return None
    if mtype.value not in (api.MEMORYTYPE_DEVICE, api.MEMORYTYPE_UNIFIED):
        return None
    ordinal = ctypes.c_int()
    if table.cuPointerGetAttribute(ctypes.addressof(ordinal), api.POINTER_DEVICE_ORDINAL, ptr) != api.CUDA_SUCCESS:
        return None
    return ordinal.value


# ----------------------------------------------------------------------------------------------------
# Copies and memset


def _host_address(obj: Any) -> tuple[int, Any]:
    """(address, object to keep alive) of host memory: an int, an array, a ctypes object or a buffer."""
    if isinstance(obj, int):
        return obj, None
    iface = getattr(obj, "__array_interface__", None)
    if iface is not None:
        return int(iface["data"][0]), obj
    if isinstance(obj, (ctypes.Array, ctypes.Structure, ctypes.Union, ctypes._SimpleCData)):
        return ctypes.addressof(obj), obj
    if isinstance(obj, ctypes.c_void_p):
        return obj.value or 0, obj
    view = memoryview(obj)
    if view.readonly:
        keep = ctypes.create_string_buffer(view.tobytes(), view.nbytes)
        return ctypes.addressof(keep), keep
    buf = (ctypes.c_char * view.nbytes).from_buffer(view)
    return ctypes.addressof(buf), (buf, view)


def _device_address(obj: Any) -> int:
    if isinstance(obj, int):
        return obj
    iface = getattr(obj, "__cuda_array_interface__", None)
    if iface is not None:
        return int(iface["data"][0])
    return int(obj)


def memcpy_htod(dst: int, src: Any, nbytes: int, stream: Stream | int | None = None) -> None:
    """Copy `nbytes` from host `src` (address, array or buffer) to device `dst`; asynchronous on `stream` when
    given (then `src` must stay alive, and be pinned for a truly asynchronous copy)."""
    if nbytes <= 0:
        return
    ensure_context()
    address, keep = _host_address(src)
    if stream is None:
        check(cu().cuMemcpyHtoD(_device_address(dst), address, nbytes), "cuMemcpyHtoD")
    else:
        status = cu().cuMemcpyHtoDAsync(_device_address(dst), address, nbytes, stream_handle(stream))
        check(status, "cuMemcpyHtoDAsync")
    del keep


def memcpy_dtoh(dst: Any, src: int, nbytes: int, stream: Stream | int | None = None) -> None:
    """Copy `nbytes` from device `src` to host `dst` (address, writable array or buffer); asynchronous on
    `stream` when given."""
    if nbytes <= 0:
        return
    ensure_context()
    address, keep = _host_address(dst)
    if stream is None:
        check(cu().cuMemcpyDtoH(address, _device_address(src), nbytes), "cuMemcpyDtoH")
    else:
        status = cu().cuMemcpyDtoHAsync(address, _device_address(src), nbytes, stream_handle(stream))
        check(status, "cuMemcpyDtoHAsync")
    del keep


def memcpy_dtod(dst: int, src: int, nbytes: int, stream: Stream | int | None = None) -> None:
    """Copy `nbytes` between device buffers; asynchronous on `stream` when given."""
    if nbytes <= 0:
        return
    ensure_context()
    d, s = _device_address(dst), _device_address(src)
    if stream is None:
        check(cu().cuMemcpyDtoD(d, s, nbytes), "cuMemcpyDtoD")
    else:
        check(cu().cuMemcpyDtoDAsync(d, s, nbytes, stream_handle(stream)), "cuMemcpyDtoDAsync")


_peer: dict[tuple[int, int], bool] = {}  # (to, from) -> peer access usable (enabled once)
CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED = 704


def can_access_peer(device: int, peer: int) -> bool:
    """True when GPU `device` can read and write GPU `peer`'s memory directly; peer access is enabled (from
    `device`'s context) the first time. False where the driver or the hardware cannot (copies are then staged)."""
    key = (device, peer)
    hit = _peer.get(key)
    if hit is not None:
        return hit
    api = cu()
    ok = False
    if device != peer and api.cuDeviceCanAccessPeer is not None and api.cuCtxEnablePeerAccess is not None:
        flag = ctypes.c_int(0)
        if api.cuDeviceCanAccessPeer(ctypes.byref(flag), device, peer) == 0 and flag.value:
            dev, other = Device(device), Device(peer)
            previous = current_device()
            dev.set_current()
            try:
                rc = api.cuCtxEnablePeerAccess(other.context, 0)
            finally:
                previous.set_current()
            ok = rc in (0, CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED)
    _peer[key] = ok
    return ok


def memcpy_peer(dst: int, dst_device: int, src: int, src_device: int, nbytes: int) -> None:
    """Copy `nbytes` from GPU `src_device`'s memory to GPU `dst_device`'s (synchronous with both devices' legacy
    default streams)."""
    if nbytes <= 0:
        return
    check(cu().cuMemcpyPeer(dst, Device(dst_device).context, src, Device(src_device).context, nbytes), "cuMemcpyPeer")


def memcpy_htod_async(dst: int, src: Any, nbytes: int, stream: Stream | int) -> None:
    """`memcpy_htod` queued on `stream`."""
    memcpy_htod(dst, src, nbytes, stream if stream is not None else 0)


def memcpy_dtoh_async(dst: Any, src: int, nbytes: int, stream: Stream | int) -> None:
    """`memcpy_dtoh` queued on `stream`."""
    memcpy_dtoh(dst, src, nbytes, stream if stream is not None else 0)


def memcpy_dtod_async(dst: int, src: int, nbytes: int, stream: Stream | int) -> None:
    """`memcpy_dtod` queued on `stream`."""
    memcpy_dtod(dst, src, nbytes, stream if stream is not None else 0)


def memset_d8(ptr: int, value: int, nbytes: int, stream: Stream | int | None = None) -> None:
    """Set `nbytes` bytes at `ptr` to `value`; asynchronous on `stream` when given."""
    if nbytes <= 0:
        return
    ensure_context()
    p = _device_address(ptr)
    if stream is None:
        check(cu().cuMemsetD8(p, value & 0xFF, nbytes), "cuMemsetD8")
    else:
        check(cu().cuMemsetD8Async(p, value & 0xFF, nbytes, stream_handle(stream)), "cuMemsetD8Async")


def memset_d32(ptr: int, value: int, count: int, stream: Stream | int | None = None) -> None:
    """Set `count` 32-bit words at `ptr` (4-byte aligned) to `value`; asynchronous on `stream` when given."""
    if count <= 0:
        return
    ensure_context()
    p = _device_address(ptr)
    if stream is None:
        check(cu().cuMemsetD32(p, value & 0xFFFFFFFF, count), "cuMemsetD32")
    else:
        check(cu().cuMemsetD32Async(p, value & 0xFFFFFFFF, count, stream_handle(stream)), "cuMemsetD32Async")
