"""The CUDA driver API through ctypes on libcuda.so.1: devices, primary contexts, memory (a caching
allocator), streams, events, modules and kernel launches. Thin: one Python call per driver call, no hidden
synchronization.

libcuda is loaded and `cuInit` runs on first use, never at import. Every failing call raises `CudaError` (a
`KernelRuntimeError`) naming the call and the driver's error name and text.

    >>> from kernelkit.backends.cuda import driver, nvrtc
    >>> dev = driver.Device(0)
    >>> mod = driver.Module.from_cubin(nvrtc.compile(SOURCE, "k.cu", dev.arch))
    >>> x = driver.alloc(8 * n)
    >>> driver.launch(mod.function("k"), (blocks,), (256,), 0, None, [ctypes.c_void_p(x), ctypes.c_int64(n)])
    >>> dev.synchronize(); driver.free(x)

By concern: `api` (loading libcuda, the function table, ABI constants, CudaError), `device` (devices and
contexts), `memory` (the caching allocator, pinned and managed memory, copies, memset), `streams` (streams and
events), `modules` (modules, kernels, launches), `graphs` (stream capture, CUDA graphs). This package imports
only `kernelkit.errors` and the standard library. Why ctypes rather than NVIDIA's cuda-bindings:
docs/cuda-driver.md.
"""

from __future__ import annotations

from typing import Any

from kernelkit.backends.cuda.driver import api
from kernelkit.backends.cuda.driver.api import (
    CUDA_ERROR_DEINITIALIZED,
    CUDA_ERROR_ILLEGAL_ADDRESS,
    CUDA_ERROR_INVALID_IMAGE,
    CUDA_ERROR_INVALID_PTX,
    CUDA_ERROR_INVALID_VALUE,
    CUDA_ERROR_LAUNCH_FAILED,
    CUDA_ERROR_NO_BINARY_FOR_GPU,
    CUDA_ERROR_NO_DEVICE,
    CUDA_ERROR_NOT_FOUND,
    CUDA_ERROR_NOT_INITIALIZED,
    CUDA_ERROR_NOT_READY,
    CUDA_ERROR_OUT_OF_MEMORY,
    CUDA_ERROR_UNSUPPORTED_PTX_VERSION,
    CUDA_SUCCESS,
    LIBRARY,
    STREAM_LEGACY,
    STREAM_PER_THREAD,
    CudaError,
    available,
    device_count,
    driver_version,
    entry_points,
    launch_kernel_address,
    symbol_address,
    use_library,
)
from kernelkit.backends.cuda.driver.device import Device, current_device
from kernelkit.backends.cuda.driver.graphs import Graph, GraphExec, begin_capture, capture_status, end_capture
from kernelkit.backends.cuda.driver.memory import (
    AllocatorStats,
    CachingAllocator,
    alloc,
    alloc_host,
    alloc_managed,
    can_access_peer,
    empty_cache,
    free,
    free_host,
    free_managed,
    host_register,
    host_unregister,
    mem_info,
    memcpy_dtod,
    memcpy_dtod_async,
    memcpy_dtoh,
    memcpy_dtoh_async,
    memcpy_htod,
    memcpy_htod_async,
    memcpy_peer,
    memory_stats,
    memset_d8,
    memset_d32,
    pointer_device,
    size_class,
)
from kernelkit.backends.cuda.driver.memory import allocator as _allocator  # noqa: F401 (tests inspect it)
from kernelkit.backends.cuda.driver.modules import Function, FunctionAttributes, Module, launch
from kernelkit.backends.cuda.driver.streams import Event, Stream

__all__ = [
    "CUDA_ERROR_DEINITIALIZED",
    "CUDA_ERROR_ILLEGAL_ADDRESS",
    "CUDA_ERROR_INVALID_IMAGE",
    "CUDA_ERROR_INVALID_PTX",
    "CUDA_ERROR_INVALID_VALUE",
    "CUDA_ERROR_LAUNCH_FAILED",
    "CUDA_ERROR_NOT_FOUND",
    "CUDA_ERROR_NOT_INITIALIZED",
    "CUDA_ERROR_NOT_READY",
    "CUDA_ERROR_NO_BINARY_FOR_GPU",
    "CUDA_ERROR_NO_DEVICE",
    "CUDA_ERROR_OUT_OF_MEMORY",
    "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
    "CUDA_SUCCESS",
    "LIBRARY",
    "STREAM_LEGACY",
    "STREAM_PER_THREAD",
    "AllocatorStats",
    "CachingAllocator",
    "CudaError",
    "Device",
    "Event",
    "Function",
    "FunctionAttributes",
    "Graph",
    "GraphExec",
    "Module",
    "Stream",
    "alloc",
    "alloc_host",
    "alloc_managed",
    "available",
    "begin_capture",
    "capture_status",
    "current_device",
    "device_count",
    "driver_version",
    "empty_cache",
    "end_capture",
    "entry_points",
    "free",
    "free_host",
    "free_managed",
    "generation",
    "host_register",
    "host_unregister",
    "launch",
    "launch_kernel_address",
    "mem_info",
    "memcpy_dtod",
    "memcpy_peer",
    "can_access_peer",
    "memcpy_dtod_async",
    "memcpy_dtoh",
    "memcpy_dtoh_async",
    "memcpy_htod",
    "memcpy_htod_async",
    "memory_stats",
    "memset_d8",
    "memset_d32",
    "pointer_device",
    "size_class",
    "symbol_address",
    "use_library",
]


def generation() -> int:
    """How many times `use_library` has swapped the driver: objects made under an older value are dead."""
    return api.state.generation


def __getattr__(name: str) -> Any:
    # `driver._generation` was a module global before the split; it must read the live value.
    if name == "_generation":
        return api.state.generation
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
