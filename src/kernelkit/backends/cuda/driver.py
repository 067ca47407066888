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

Invariants:
- Devices use their primary context (the one CuPy, PyTorch and the runtime API share), retained once per
  process.
- A freed block goes back to the free list of the stream it was allocated for and is reused only by
  allocations on that stream, so stream order protects it (as in CuPy). Work queued on another stream must be
  synchronized before the block is freed.
- Managed (UVM) memory is only ever allocated by `alloc_managed`, on request.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kernelkit.errors import KernelRuntimeError, KernelTypeError, KernelValueError, SpaceUnavailable

__all__ = [
    "AllocatorStats",
    "CachingAllocator",
    "CudaError",
    "Device",
    "Event",
    "Function",
    "FunctionAttributes",
    "Module",
    "Stream",
    "alloc",
    "alloc_host",
    "alloc_managed",
    "available",
    "current_device",
    "device_count",
    "driver_version",
    "empty_cache",
    "entry_points",
    "free",
    "free_host",
    "host_register",
    "host_unregister",
    "launch",
    "launch_kernel_address",
    "mem_info",
    "memcpy_dtod",
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

LIBRARY = "libcuda.so.1"

# CUresult values used by name here (the full set comes from cuGetErrorName).
CUDA_SUCCESS = 0
CUDA_ERROR_INVALID_VALUE = 1
CUDA_ERROR_OUT_OF_MEMORY = 2
CUDA_ERROR_NOT_INITIALIZED = 3
CUDA_ERROR_DEINITIALIZED = 4
CUDA_ERROR_NO_DEVICE = 100
CUDA_ERROR_INVALID_IMAGE = 200
CUDA_ERROR_NO_BINARY_FOR_GPU = 209
CUDA_ERROR_INVALID_PTX = 218
CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222
CUDA_ERROR_NOT_FOUND = 500
CUDA_ERROR_NOT_READY = 600
CUDA_ERROR_ILLEGAL_ADDRESS = 700
CUDA_ERROR_LAUNCH_FAILED = 719

_FALLBACK_NAMES = {
    0: "CUDA_SUCCESS",
    1: "CUDA_ERROR_INVALID_VALUE",
    2: "CUDA_ERROR_OUT_OF_MEMORY",
    3: "CUDA_ERROR_NOT_INITIALIZED",
    4: "CUDA_ERROR_DEINITIALIZED",
    34: "CUDA_ERROR_STUB_LIBRARY",
    36: "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER",
    100: "CUDA_ERROR_NO_DEVICE",
    101: "CUDA_ERROR_INVALID_DEVICE",
    200: "CUDA_ERROR_INVALID_IMAGE",
    201: "CUDA_ERROR_INVALID_CONTEXT",
    209: "CUDA_ERROR_NO_BINARY_FOR_GPU",
    218: "CUDA_ERROR_INVALID_PTX",
    222: "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
    400: "CUDA_ERROR_INVALID_HANDLE",
    500: "CUDA_ERROR_NOT_FOUND",
    600: "CUDA_ERROR_NOT_READY",
    700: "CUDA_ERROR_ILLEGAL_ADDRESS",
    701: "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
    702: "CUDA_ERROR_LAUNCH_TIMEOUT",
    719: "CUDA_ERROR_LAUNCH_FAILED",
    999: "CUDA_ERROR_UNKNOWN",
}

# CUdevice_attribute
_ATTR_MAX_THREADS_PER_BLOCK = 1
_ATTR_MAX_BLOCK_DIM = (2, 3, 4)
_ATTR_MAX_GRID_DIM = (5, 6, 7)
_ATTR_MAX_SHARED_PER_BLOCK = 8
_ATTR_WARP_SIZE = 10
_ATTR_CLOCK_RATE = 13
_ATTR_MULTIPROCESSOR_COUNT = 16
_ATTR_MEMORY_CLOCK_RATE = 36
_ATTR_MEMORY_BUS_WIDTH = 37
_ATTR_L2_CACHE_SIZE = 38
_ATTR_MAX_THREADS_PER_SM = 39
_ATTR_UNIFIED_ADDRESSING = 41
_ATTR_PCI_BUS_ID = 33
_ATTR_PCI_DEVICE_ID = 34
_ATTR_PCI_DOMAIN_ID = 50
_ATTR_CC_MAJOR = 75
_ATTR_CC_MINOR = 76
_ATTR_MAX_SHARED_PER_SM = 81
_ATTR_MANAGED_MEMORY = 83
_ATTR_MAX_SHARED_PER_BLOCK_OPTIN = 97

# CUfunction_attribute
_FUNC_MAX_THREADS_PER_BLOCK = 0
_FUNC_SHARED_SIZE_BYTES = 1
_FUNC_CONST_SIZE_BYTES = 2
_FUNC_LOCAL_SIZE_BYTES = 3
_FUNC_NUM_REGS = 4
_FUNC_PTX_VERSION = 5
_FUNC_BINARY_VERSION = 6
_FUNC_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8

# CUjit_option
_JIT_INFO_LOG_BUFFER = 3
_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4
_JIT_ERROR_LOG_BUFFER = 5
_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6

# CUpointer_attribute, CUmemorytype
_POINTER_MEMORY_TYPE = 2
_POINTER_DEVICE_ORDINAL = 9
_MEMORYTYPE_DEVICE = 2
_MEMORYTYPE_UNIFIED = 4

_STREAM_NON_BLOCKING = 1
_EVENT_BLOCKING_SYNC = 1
_EVENT_DISABLE_TIMING = 2
_MEM_ATTACH_GLOBAL = 1
_MEMHOSTREGISTER_PORTABLE = 1

STREAM_LEGACY = 0x1
STREAM_PER_THREAD = 0x2


class CudaError(KernelRuntimeError):
    """A CUDA driver call failed. `code` is the CUresult, `call` the driver function's name."""

    def __init__(
        self, message: str, loc: Any = None, detail: str | None = None, code: int = -1, call: str = ""
    ):
        self.code = code
        self.call = call
        super().__init__(message, loc, detail)

    def __reduce__(self):
        return (_rebuild_cuda_error, (self.message, self.detail, self.code, self.call))


def _rebuild_cuda_error(message: str, detail: str | None, code: int, call: str) -> CudaError:
    return CudaError(message, None, detail, code, call)


# ----------------------------------------------------------------------------------------------------
# Loading and binding

_u = ctypes.c_uint
_i = ctypes.c_int
_sz = ctypes.c_size_t
_vp = ctypes.c_void_p
_dptr = ctypes.c_uint64
_P = ctypes.POINTER

# name -> (symbol candidates, best first; argtypes; required)
_PROTOTYPES: dict[str, tuple[tuple[str, ...], list, bool]] = {
    "cuInit": (("cuInit",), [_u], True),
    "cuDriverGetVersion": (("cuDriverGetVersion",), [_P(_i)], True),
    "cuGetErrorName": (("cuGetErrorName",), [_i, _P(ctypes.c_char_p)], True),
    "cuGetErrorString": (("cuGetErrorString",), [_i, _P(ctypes.c_char_p)], True),
    "cuDeviceGetCount": (("cuDeviceGetCount",), [_P(_i)], True),
    "cuDeviceGet": (("cuDeviceGet",), [_P(_i), _i], True),
    "cuDeviceGetName": (("cuDeviceGetName",), [ctypes.c_char_p, _i, _i], True),
    "cuDeviceGetAttribute": (("cuDeviceGetAttribute",), [_P(_i), _i, _i], True),
    "cuDeviceTotalMem": (("cuDeviceTotalMem_v2",), [_P(_sz), _i], True),
    "cuDevicePrimaryCtxRetain": (("cuDevicePrimaryCtxRetain",), [_P(_vp), _i], True),
    "cuDevicePrimaryCtxRelease": (("cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"), [_i], True),
    "cuCtxSetCurrent": (("cuCtxSetCurrent",), [_vp], True),
    "cuCtxGetCurrent": (("cuCtxGetCurrent",), [_P(_vp)], True),
    "cuCtxSynchronize": (("cuCtxSynchronize",), [], True),
    "cuMemGetInfo": (("cuMemGetInfo_v2",), [_P(_sz), _P(_sz)], True),
    "cuMemAlloc": (("cuMemAlloc_v2",), [_P(_dptr), _sz], True),
    "cuMemFree": (("cuMemFree_v2",), [_dptr], True),
    "cuMemAllocManaged": (("cuMemAllocManaged",), [_P(_dptr), _sz, _u], False),
    "cuMemAllocHost": (("cuMemAllocHost_v2",), [_P(_vp), _sz], True),
    "cuMemFreeHost": (("cuMemFreeHost",), [_vp], True),
    "cuMemHostRegister": (("cuMemHostRegister_v2",), [_vp, _sz, _u], False),
    "cuMemHostUnregister": (("cuMemHostUnregister",), [_vp], False),
    "cuMemcpyHtoD": (("cuMemcpyHtoD_v2",), [_dptr, _vp, _sz], True),
    "cuMemcpyDtoH": (("cuMemcpyDtoH_v2",), [_vp, _dptr, _sz], True),
    "cuMemcpyDtoD": (("cuMemcpyDtoD_v2",), [_dptr, _dptr, _sz], True),
    "cuMemcpyHtoDAsync": (("cuMemcpyHtoDAsync_v2",), [_dptr, _vp, _sz, _vp], True),
    "cuMemcpyDtoHAsync": (("cuMemcpyDtoHAsync_v2",), [_vp, _dptr, _sz, _vp], True),
    "cuMemcpyDtoDAsync": (("cuMemcpyDtoDAsync_v2",), [_dptr, _dptr, _sz, _vp], True),
    "cuMemsetD8": (("cuMemsetD8_v2",), [_dptr, ctypes.c_ubyte, _sz], True),
    "cuMemsetD8Async": (("cuMemsetD8Async",), [_dptr, ctypes.c_ubyte, _sz, _vp], True),
    "cuMemsetD32": (("cuMemsetD32_v2",), [_dptr, _u, _sz], True),
    "cuMemsetD32Async": (("cuMemsetD32Async",), [_dptr, _u, _sz, _vp], True),
    "cuPointerGetAttribute": (("cuPointerGetAttribute",), [_vp, _i, _dptr], True),
    "cuStreamCreate": (("cuStreamCreate",), [_P(_vp), _u], True),
    "cuStreamDestroy": (("cuStreamDestroy_v2",), [_vp], True),
    "cuStreamSynchronize": (("cuStreamSynchronize",), [_vp], True),
    "cuStreamQuery": (("cuStreamQuery",), [_vp], True),
    "cuStreamWaitEvent": (("cuStreamWaitEvent",), [_vp, _vp, _u], True),
    "cuEventCreate": (("cuEventCreate",), [_P(_vp), _u], True),
    "cuEventDestroy": (("cuEventDestroy_v2",), [_vp], True),
    "cuEventRecord": (("cuEventRecord",), [_vp, _vp], True),
    "cuEventSynchronize": (("cuEventSynchronize",), [_vp], True),
    "cuEventQuery": (("cuEventQuery",), [_vp], True),
    # _v2 (CUDA 12.8+) differs only for events recorded before a blocking sync; older drivers lack it.
    "cuEventElapsedTime": (
        ("cuEventElapsedTime_v2", "cuEventElapsedTime"),
        [_P(ctypes.c_float), _vp, _vp],
        True,
    ),
    "cuModuleLoadDataEx": (("cuModuleLoadDataEx",), [_P(_vp), _vp, _u, _P(_i), _P(_vp)], True),
    "cuModuleUnload": (("cuModuleUnload",), [_vp], True),
    "cuModuleGetFunction": (("cuModuleGetFunction",), [_P(_vp), _vp, ctypes.c_char_p], True),
    "cuModuleGetGlobal": (("cuModuleGetGlobal_v2",), [_P(_dptr), _P(_sz), _vp, ctypes.c_char_p], True),
    "cuFuncGetAttribute": (("cuFuncGetAttribute",), [_P(_i), _i, _vp], True),
    "cuFuncSetAttribute": (("cuFuncSetAttribute",), [_vp, _i, _i], True),
    "cuLaunchKernel": (("cuLaunchKernel",), [_vp, _u, _u, _u, _u, _u, _u, _u, _vp, _P(_vp), _P(_vp)], True),
    "cuOccupancyMaxPotentialBlockSize": (
        ("cuOccupancyMaxPotentialBlockSize",),
        [_P(_i), _P(_i), _vp, _vp, _sz, _i],
        False,
    ),
    "cuOccupancyMaxActiveBlocksPerMultiprocessor": (
        ("cuOccupancyMaxActiveBlocksPerMultiprocessor",),
        [_P(_i), _vp, _i, _sz],
        False,
    ),
}


class _Api:
    """libcuda with every prototype bound: `api.cuMemAlloc(...)` calls the `_v2` symbol."""

    def __init__(self, lib: ctypes.CDLL):
        self.lib = lib
        self.symbols: dict[str, str] = {}
        missing = []
        for name, (candidates, argtypes, required) in _PROTOTYPES.items():
            fn = None
            for symbol in candidates:
                try:
                    fn = getattr(lib, symbol)
                except AttributeError:
                    continue
                self.symbols[name] = symbol
                break
            if fn is None:
                if required:
                    missing.append(candidates[0])
                setattr(self, name, None)
                continue
            fn.restype = ctypes.c_int
            fn.argtypes = argtypes
            setattr(self, name, fn)
        if missing:
            raise OSError(f"the driver's libcuda lacks {', '.join(missing)} (driver too old)")

    def __getattr__(self, name: str) -> Any:  # only reached for names never bound
        raise AttributeError(name)


_lock = threading.RLock()
_library = LIBRARY
_api_obj: _Api | None = None
_state: tuple[bool, str] | None = None
_generation = 0  # bumped by use_library(); objects of an older generation never call the driver again
_tls = threading.local()


def use_library(path: str | None) -> None:
    """Load the driver from `path` instead of libcuda.so.1 (`None`: back to the default), forgetting every
    device, context, cached block and handle obtained so far. For tests and unusual installs."""
    global _library, _api_obj, _state, _generation
    with _lock:
        _library = path or LIBRARY
        _api_obj = None
        _state = None
        _generation += 1
        Device._instances.clear()
        _allocator.reset()
        _tls.__dict__.clear()


def _probe() -> tuple[bool, str]:
    global _api_obj
    try:
        lib = ctypes.CDLL(_library)
    except OSError as exc:
        return False, f"{_library} cannot be loaded (no NVIDIA driver here?): {exc}"
    try:
        api = _Api(lib)
    except OSError as exc:
        return False, str(exc)
    status = api.cuInit(0)
    if status != CUDA_SUCCESS:
        name, text = _error_text(api, status)
        return False, f"cuInit failed: {name}: {text}"
    count = ctypes.c_int()
    status = api.cuDeviceGetCount(ctypes.byref(count))
    if status != CUDA_SUCCESS:
        name, text = _error_text(api, status)
        return False, f"cuDeviceGetCount failed: {name}: {text}"
    _api_obj = api
    if count.value < 1:
        return False, "the NVIDIA driver reports no CUDA device (check CUDA_VISIBLE_DEVICES)"
    return True, f"{count.value} CUDA device(s)"


def available() -> tuple[bool, str]:
    """(True, "...") when libcuda loads, cuInit succeeds and there is at least one device, else (False, why).
    The first call loads the driver; the answer is cached."""
    global _state
    if _state is None:
        with _lock:
            if _state is None:
                _state = _probe()
    return _state


def _api() -> _Api:
    api = _api_obj
    if api is not None and _state is not None and _state[0]:
        return api
    ok, reason = available()
    if not ok:
        raise SpaceUnavailable(f"CUDA is not usable: {reason}")
    assert _api_obj is not None
    return _api_obj


def _error_text(api: _Api, status: int) -> tuple[str, str]:
    name = ctypes.c_char_p()
    text = ctypes.c_char_p()
    n = api.cuGetErrorName(status, ctypes.byref(name)) if api.cuGetErrorName else 1
    t = api.cuGetErrorString(status, ctypes.byref(text)) if api.cuGetErrorString else 1
    name_s = (
        name.value.decode() if n == 0 and name.value else _FALLBACK_NAMES.get(status, f"CUresult {status}")
    )
    text_s = text.value.decode() if t == 0 and text.value else "unrecognized error code"
    return name_s, text_s


def _error(status: int, call: str, context: str = "", detail: str | None = None) -> CudaError:
    name, text = _error_text(_api_obj, status) if _api_obj else (_FALLBACK_NAMES.get(status, str(status)), "")
    symbol = _api_obj.symbols.get(call, call) if _api_obj else call
    prefix = f"{context}: " if context else ""
    return CudaError(f"{prefix}CUDA error in {symbol}: {name} ({text})", None, detail, status, symbol)


def _check(status: int, call: str, context: str = "") -> None:
    if status != CUDA_SUCCESS:
        raise _error(status, call, context)


def driver_version() -> tuple[int, int]:
    """The CUDA version the installed driver supports, e.g. (12, 4)."""
    v = ctypes.c_int()
    _check(_api().cuDriverGetVersion(ctypes.byref(v)), "cuDriverGetVersion")
    return v.value // 1000, (v.value % 1000) // 10


def device_count() -> int:
    """Number of visible CUDA devices (0 when CUDA is not usable)."""
    ok, _ = available()
    if not ok:
        return 0
    count = ctypes.c_int()
    _check(_api().cuDeviceGetCount(ctypes.byref(count)), "cuDeviceGetCount")
    return count.value


def symbol_address(name: str) -> int:
    """The raw address of a driver entry point (e.g. "cuLaunchKernel", "cuMemcpyHtoDAsync_v2"), for native
    code that calls the driver directly with the same ABI."""
    api = _api()
    try:
        fn = getattr(api.lib, name)
    except AttributeError:
        raise KernelValueError(f"the CUDA driver exports no {name}") from None
    address = ctypes.cast(fn, ctypes.c_void_p).value
    assert address is not None
    return address


def launch_kernel_address() -> int:
    """The raw address of `cuLaunchKernel`."""
    return symbol_address("cuLaunchKernel")


def entry_points() -> dict[str, int]:
    """Raw addresses of the driver calls a native launcher needs, by exported symbol name."""
    names = (
        "cuLaunchKernel",
        "cuMemcpyHtoDAsync_v2",
        "cuMemcpyDtoHAsync_v2",
        "cuMemcpyDtoDAsync_v2",
        "cuStreamSynchronize",
        "cuCtxSetCurrent",
        "cuEventRecord",
        "cuGetErrorName",
        "cuGetErrorString",
    )
    return {name: symbol_address(name) for name in names}


# ----------------------------------------------------------------------------------------------------
# Devices and contexts


class Device:
    """A CUDA device and its primary context. `Device(i)` is one object per ordinal; attributes are read once.

    The context is retained on first use (`context`, `set_current`, any allocation or launch), never released:
    it lives as long as the process, like the runtime API's."""

    _instances: dict[int, Device] = {}

    ordinal: int
    handle: int
    name: str
    compute_capability: tuple[int, int]
    multiprocessor_count: int
    max_threads_per_block: int
    max_threads_per_multiprocessor: int
    max_shared_per_block: int
    max_shared_per_block_optin: int
    max_shared_per_multiprocessor: int
    max_block_dim: tuple[int, int, int]
    max_grid_dim: tuple[int, int, int]
    warp_size: int
    l2_cache_size: int
    total_memory: int
    pci_bus_id: str
    _context: int | None

    def __new__(cls, ordinal: int = 0) -> Device:
        ordinal = int(ordinal)
        dev = cls._instances.get(ordinal)
        if dev is not None:
            return dev
        with _lock:
            dev = cls._instances.get(ordinal)
            if dev is None:
                dev = super().__new__(cls)
                dev._init(ordinal)
                cls._instances[ordinal] = dev
        return dev

    def _init(self, ordinal: int) -> None:
        api = _api()
        count = device_count()
        if not 0 <= ordinal < count:
            raise KernelValueError(f"no CUDA device {ordinal}: {count} visible (ordinals 0..{count - 1})")
        handle = ctypes.c_int()
        _check(api.cuDeviceGet(ctypes.byref(handle), ordinal), "cuDeviceGet")
        self.ordinal = ordinal
        self.handle = handle.value
        buf = ctypes.create_string_buffer(256)
        _check(api.cuDeviceGetName(buf, 256, self.handle), "cuDeviceGetName")
        self.name = buf.value.decode(errors="replace")
        a = self.attribute
        self.compute_capability = (a(_ATTR_CC_MAJOR), a(_ATTR_CC_MINOR))
        self.multiprocessor_count = a(_ATTR_MULTIPROCESSOR_COUNT)
        self.max_threads_per_block = a(_ATTR_MAX_THREADS_PER_BLOCK)
        self.max_threads_per_multiprocessor = a(_ATTR_MAX_THREADS_PER_SM)
        self.max_shared_per_block = a(_ATTR_MAX_SHARED_PER_BLOCK)
        self.max_shared_per_block_optin = a(_ATTR_MAX_SHARED_PER_BLOCK_OPTIN)
        self.max_shared_per_multiprocessor = a(_ATTR_MAX_SHARED_PER_SM)
        self.max_block_dim = (a(_ATTR_MAX_BLOCK_DIM[0]), a(_ATTR_MAX_BLOCK_DIM[1]), a(_ATTR_MAX_BLOCK_DIM[2]))
        self.max_grid_dim = (a(_ATTR_MAX_GRID_DIM[0]), a(_ATTR_MAX_GRID_DIM[1]), a(_ATTR_MAX_GRID_DIM[2]))
        self.warp_size = a(_ATTR_WARP_SIZE)
        self.l2_cache_size = a(_ATTR_L2_CACHE_SIZE)
        self.pci_bus_id = (
            f"{a(_ATTR_PCI_DOMAIN_ID):04x}:{a(_ATTR_PCI_BUS_ID):02x}:{a(_ATTR_PCI_DEVICE_ID):02x}.0"
        )
        total = ctypes.c_size_t()
        _check(api.cuDeviceTotalMem(ctypes.byref(total), self.handle), "cuDeviceTotalMem")
        self.total_memory = total.value
        self._context = None
        self._generation = _generation

    def attribute(self, attr: int) -> int:
        """Any `CUdevice_attribute` by number."""
        value = ctypes.c_int()
        _check(_api().cuDeviceGetAttribute(ctypes.byref(value), attr, self.handle), "cuDeviceGetAttribute")
        return value.value

    @property
    def arch(self) -> str:
        """The architecture to compile for, "sm_XY" (e.g. "sm_90" on an H100)."""
        major, minor = self.compute_capability
        return f"sm_{major}{minor}"

    @property
    def context(self) -> int:
        """The primary context's handle (retained on first access)."""
        ctx = self._context
        if ctx is None:
            with _lock:
                if self._context is None:
                    handle = ctypes.c_void_p()
                    _check(
                        _api().cuDevicePrimaryCtxRetain(ctypes.byref(handle), self.handle),
                        "cuDevicePrimaryCtxRetain",
                        f"device {self.ordinal}",
                    )
                    self._context = handle.value
                ctx = self._context
        assert ctx is not None
        return ctx

    def set_current(self) -> None:
        """Make this device's primary context current on the calling thread (and this the thread's device)."""
        _check(_api().cuCtxSetCurrent(self.context), "cuCtxSetCurrent", f"device {self.ordinal}")
        _tls.device = self
        _tls.context = self._context

    def _activate(self) -> None:
        # Cheap when already current on this thread; other libraries share the primary context, so a context
        # they made current is this one whenever it belongs to this device.
        if getattr(_tls, "context", None) != self._context or self._context is None:
            self.set_current()

    def synchronize(self) -> None:
        """Wait for all work on this device (cuCtxSynchronize)."""
        self._activate()
        _check(_api().cuCtxSynchronize(), "cuCtxSynchronize", f"device {self.ordinal}")

    def mem_info(self) -> tuple[int, int]:
        """(free, total) bytes of device memory, as the driver sees them (other processes included)."""
        self._activate()
        free_b, total_b = ctypes.c_size_t(), ctypes.c_size_t()
        _check(_api().cuMemGetInfo(ctypes.byref(free_b), ctypes.byref(total_b)), "cuMemGetInfo")
        return free_b.value, total_b.value

    def __repr__(self) -> str:
        return f"<cuda.Device {self.ordinal}: {self.name}, {self.arch}, {self.multiprocessor_count} SMs>"


def current_device() -> Device:
    """The calling thread's device: the last one made current here, else device 0."""
    dev = getattr(_tls, "device", None)
    return dev if dev is not None else Device(0)


def _device(device: Device | int | None) -> Device:
    if device is None:
        return current_device()
    if isinstance(device, Device):
        return device
    return Device(device)


def _ensure_context() -> None:
    if getattr(_tls, "context", None) is None:
        current_device().set_current()


# ----------------------------------------------------------------------------------------------------
# Streams and events


def _stream_handle(stream: Any) -> int:
    if stream is None:
        return 0
    if isinstance(stream, Stream):
        return stream.handle
    if isinstance(stream, int):
        return stream
    return Stream.wrap(stream).handle  # a CuPy/PyTorch stream or anything with __cuda_stream__


class Stream:
    """A CUDA stream: `Stream()` creates one on the current device (blocking with respect to the legacy
    default stream unless `non_blocking`); `Stream.wrap(x)` adopts a stream owned elsewhere (an int handle, a
    CuPy or PyTorch stream, anything with `__cuda_stream__`) without taking ownership."""

    def __init__(self, device: Device | int | None = None, *, non_blocking: bool = False):
        self.device = _device(device)
        self.device._activate()
        handle = ctypes.c_void_p()
        flags = _STREAM_NON_BLOCKING if non_blocking else 0
        _check(_api().cuStreamCreate(ctypes.byref(handle), flags), "cuStreamCreate")
        self.handle: int = handle.value or 0
        self.owned = True
        self._generation = _generation

    @classmethod
    def wrap(cls, obj: Any, device: Device | int | None = None) -> Stream:
        """A Stream for an existing handle; never destroyed by kernelkit."""
        if isinstance(obj, Stream):
            return obj
        if hasattr(obj, "__cuda_stream__"):
            handle = obj.__cuda_stream__()[1]
        elif hasattr(obj, "cuda_stream"):  # torch.cuda.Stream
            handle = obj.cuda_stream
        elif hasattr(obj, "ptr"):  # cupy.cuda.Stream
            handle = obj.ptr
        elif isinstance(obj, ctypes.c_void_p):
            handle = obj.value
        elif isinstance(obj, int) or hasattr(obj, "__int__"):
            handle = int(obj)
        else:
            raise KernelTypeError(f"cannot use {type(obj).__name__} as a CUDA stream")
        self = cls.__new__(cls)
        self.device = _device(device)
        self.handle = int(handle or 0)
        self.owned = False
        self._generation = _generation
        return self

    @classmethod
    def legacy_default(cls, device: Device | int | None = None) -> Stream:
        """The legacy default stream (handle 0), which synchronizes with every blocking stream."""
        return cls.wrap(0, device)

    def synchronize(self) -> None:
        """Wait until all work queued on the stream has finished; raises a CudaError for a failed kernel."""
        self.device._activate()
        _check(_api().cuStreamSynchronize(self.handle), "cuStreamSynchronize")

    def query(self) -> bool:
        """True when all work queued on the stream has finished."""
        self.device._activate()
        status = _api().cuStreamQuery(self.handle)
        if status == CUDA_ERROR_NOT_READY:
            return False
        _check(status, "cuStreamQuery")
        return True

    def wait_event(self, event: Event) -> None:
        """Make later work on this stream wait for `event` (no host synchronization)."""
        _check(_api().cuStreamWaitEvent(self.handle, event.handle, 0), "cuStreamWaitEvent")

    def record(self, event: Event | None = None) -> Event:
        """Record an event (a new one by default) on this stream and return it."""
        event = event or Event(device=self.device)
        return event.record(self)

    def destroy(self) -> None:
        """Destroy the stream if kernelkit created it (pending work still completes)."""
        if self.owned and self.handle and self._generation == _generation:
            handle, self.handle, self.owned = self.handle, 0, False
            _check(_api().cuStreamDestroy(handle), "cuStreamDestroy")

    def __del__(self) -> None:
        try:
            self.destroy()
        except Exception:  # interpreter shutdown or a dead context: nothing useful to do
            pass

    def __int__(self) -> int:
        return self.handle

    def __cuda_stream__(self) -> tuple[int, int]:
        return (0, self.handle)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stream) and other.handle == self.handle

    def __hash__(self) -> int:
        return hash(self.handle)

    def __repr__(self) -> str:
        owner = "" if self.owned else ", wrapped"
        return f"<cuda.Stream {self.handle:#x} on device {self.device.ordinal}{owner}>"


class Event:
    """A CUDA event: `record(stream)`, `synchronize()`, `query()`, `elapsed_time(end)` in milliseconds."""

    def __init__(
        self, *, timing: bool = True, blocking_sync: bool = False, device: Device | int | None = None
    ):
        self.device = _device(device)
        self.device._activate()
        flags = (0 if timing else _EVENT_DISABLE_TIMING) | (_EVENT_BLOCKING_SYNC if blocking_sync else 0)
        handle = ctypes.c_void_p()
        _check(_api().cuEventCreate(ctypes.byref(handle), flags), "cuEventCreate")
        self.handle: int = handle.value or 0
        self._generation = _generation

    def record(self, stream: Stream | int | None = None) -> Event:
        """Record the event on `stream` (the legacy default stream when None); returns self."""
        self.device._activate()  # handle 0 means the current context's default stream
        _check(_api().cuEventRecord(self.handle, _stream_handle(stream)), "cuEventRecord")
        return self

    def synchronize(self) -> None:
        """Wait until the work before the event's record has finished."""
        _check(_api().cuEventSynchronize(self.handle), "cuEventSynchronize")

    def query(self) -> bool:
        """True when the recorded work has finished."""
        status = _api().cuEventQuery(self.handle)
        if status == CUDA_ERROR_NOT_READY:
            return False
        _check(status, "cuEventQuery")
        return True

    def elapsed_time(self, end: Event) -> float:
        """Milliseconds from this event to `end` (both recorded and complete)."""
        ms = ctypes.c_float()
        _check(_api().cuEventElapsedTime(ctypes.byref(ms), self.handle, end.handle), "cuEventElapsedTime")
        return float(ms.value)

    def destroy(self) -> None:
        """Release the event."""
        if self.handle and self._generation == _generation:
            handle, self.handle = self.handle, 0
            _check(_api().cuEventDestroy(handle), "cuEventDestroy")

    def __del__(self) -> None:
        try:
            self.destroy()
        except Exception:  # interpreter shutdown or a dead context
            pass


# ----------------------------------------------------------------------------------------------------
# Memory: the caching allocator

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


@dataclass
class _Block:
    device: int
    size: int
    stream: int
    requested: int


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

    def alloc(
        self, nbytes: int, device: Device | int | None = None, stream: Stream | int | None = None
    ) -> int:
        """A device pointer to at least `nbytes` bytes on `device`, for use on `stream`."""
        if nbytes < 0:
            raise KernelValueError(f"cannot allocate {nbytes} bytes")
        dev = _device(device)
        dev._activate()  # before taking the allocator lock: retaining a context takes the module lock
        size = size_class(nbytes)
        s = _stream_handle(stream)
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
        api = _api()
        ptr = ctypes.c_uint64()
        status = api.cuMemAlloc(ctypes.byref(ptr), size)
        if status == CUDA_ERROR_OUT_OF_MEMORY:
            self._release(dev, stats)
            status = api.cuMemAlloc(ctypes.byref(ptr), size)
        if status == CUDA_ERROR_OUT_OF_MEMORY:
            raise self._oom(dev, nbytes, size, stats, status)
        _check(status, "cuMemAlloc", f"allocating {nbytes} bytes on device {dev.ordinal}")
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
        err = _error(status, "cuMemAlloc")
        return CudaError(f"{message}. {err.message}", None, None, status, err.call)

    def _release(self, dev: Device, stats: AllocatorStats) -> int:
        # Caller holds the lock and made `dev` current. cuMemFree synchronizes, so blocks still used by queued
        # work are safe to free.
        api = _api()
        released = 0
        for key in [k for k in self._free if k[0] == dev.ordinal]:
            for ptr in self._free.pop(key):
                _check(api.cuMemFree(ptr), "cuMemFree")
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
                raise KernelValueError(
                    f"device pointer {ptr:#x} was not allocated by kernelkit (or freed twice)"
                )
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
        if _api_obj is None:
            return 0
        ordinals = [_device(device).ordinal] if device is not None else sorted({k[0] for k in self._free})
        released = 0
        for ordinal in ordinals:
            dev = Device(ordinal)
            dev._activate()
            with self._lock:
                released += self._release(dev, self._stat(ordinal))
        return released

    def stats(self, device: Device | int | None = None) -> AllocatorStats:
        """A copy of the counters of `device` (the current one by default)."""
        ordinal = _device(device).ordinal
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


_allocator = CachingAllocator()


def alloc(nbytes: int, device: Device | int | None = None, stream: Stream | int | None = None) -> int:
    """Device memory from the caching allocator (see CachingAllocator); returns the device pointer."""
    return _allocator.alloc(nbytes, device, stream)


def free(ptr: int) -> None:
    """Return memory from `alloc` to the cache."""
    _allocator.free(ptr)


def empty_cache(device: Device | int | None = None) -> int:
    """Give cached device memory back to the driver; returns the bytes released."""
    return _allocator.empty_cache(device)


def memory_stats(device: Device | int | None = None) -> AllocatorStats:
    """The caching allocator's counters for `device`."""
    return _allocator.stats(device)


def mem_info(device: Device | int | None = None) -> tuple[int, int]:
    """(free, total) bytes on `device` according to the driver."""
    return _device(device).mem_info()


def alloc_managed(nbytes: int, device: Device | int | None = None) -> int:
    """Managed (UVM) memory, never larger than the device's free memory. Freed with `free_managed`."""
    dev = _device(device)
    free_b, _ = dev.mem_info()
    if nbytes > free_b:
        raise CudaError(
            f"managed allocation of {_fmt_bytes(nbytes)} ({nbytes} bytes) exceeds the {_fmt_bytes(free_b)} "
            f"({free_b} bytes) free on device {dev.ordinal}; kernelkit never oversubscribes device memory",
            code=CUDA_ERROR_OUT_OF_MEMORY,
            call="cuMemAllocManaged",
        )
    api = _api()
    if api.cuMemAllocManaged is None:
        raise SpaceUnavailable("this CUDA driver has no managed memory (cuMemAllocManaged)")
    ptr = ctypes.c_uint64()
    _check(
        api.cuMemAllocManaged(ctypes.byref(ptr), max(nbytes, 1), _MEM_ATTACH_GLOBAL),
        "cuMemAllocManaged",
        f"allocating {nbytes} managed bytes",
    )
    return ptr.value


def free_managed(ptr: int) -> None:
    """Free memory from `alloc_managed`."""
    if ptr:
        _ensure_context()
        _check(_api().cuMemFree(ptr), "cuMemFree")


def alloc_host(nbytes: int) -> int:
    """Page-locked host memory (for asynchronous copies); returns its address. Free with `free_host`."""
    _ensure_context()
    ptr = ctypes.c_void_p()
    _check(
        _api().cuMemAllocHost(ctypes.byref(ptr), max(nbytes, 1)),
        "cuMemAllocHost",
        f"allocating {nbytes} pinned host bytes",
    )
    return ptr.value or 0


def free_host(ptr: int) -> None:
    """Free memory from `alloc_host`."""
    if ptr:
        _ensure_context()
        _check(_api().cuMemFreeHost(ptr), "cuMemFreeHost")


def host_register(ptr: int, nbytes: int) -> None:
    """Page-lock existing host memory (e.g. a NumPy array's buffer) so copies from it can be asynchronous."""
    _ensure_context()
    api = _api()
    if api.cuMemHostRegister is None:
        raise SpaceUnavailable("this CUDA driver cannot register host memory")
    _check(api.cuMemHostRegister(ptr, nbytes, _MEMHOSTREGISTER_PORTABLE), "cuMemHostRegister")


def host_unregister(ptr: int) -> None:
    """Undo `host_register`."""
    _ensure_context()
    api = _api()
    if api.cuMemHostUnregister is None:
        raise SpaceUnavailable("this CUDA driver cannot register host memory")
    _check(api.cuMemHostUnregister(ptr), "cuMemHostUnregister")


def pointer_device(ptr: int) -> int | None:
    """The ordinal of the device whose memory `ptr` points into (device or managed memory), else None."""
    api = _api()
    _ensure_context()
    mtype = ctypes.c_uint()
    if api.cuPointerGetAttribute(ctypes.addressof(mtype), _POINTER_MEMORY_TYPE, ptr) != CUDA_SUCCESS:
        return None
    if mtype.value not in (_MEMORYTYPE_DEVICE, _MEMORYTYPE_UNIFIED):
        return None
    ordinal = ctypes.c_int()
    if api.cuPointerGetAttribute(ctypes.addressof(ordinal), _POINTER_DEVICE_ORDINAL, ptr) != CUDA_SUCCESS:
        return None
    return ordinal.value


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
    _ensure_context()
    address, keep = _host_address(src)
    if stream is None:
        _check(_api().cuMemcpyHtoD(_device_address(dst), address, nbytes), "cuMemcpyHtoD")
    else:
        _check(
            _api().cuMemcpyHtoDAsync(_device_address(dst), address, nbytes, _stream_handle(stream)),
            "cuMemcpyHtoDAsync",
        )
    del keep


def memcpy_dtoh(dst: Any, src: int, nbytes: int, stream: Stream | int | None = None) -> None:
    """Copy `nbytes` from device `src` to host `dst` (address, writable array or buffer); asynchronous on
    `stream` when given."""
    if nbytes <= 0:
        return
    _ensure_context()
    address, keep = _host_address(dst)
    if stream is None:
        _check(_api().cuMemcpyDtoH(address, _device_address(src), nbytes), "cuMemcpyDtoH")
    else:
        _check(
            _api().cuMemcpyDtoHAsync(address, _device_address(src), nbytes, _stream_handle(stream)),
            "cuMemcpyDtoHAsync",
        )
    del keep


def memcpy_dtod(dst: int, src: int, nbytes: int, stream: Stream | int | None = None) -> None:
    """Copy `nbytes` between device buffers; asynchronous on `stream` when given."""
    if nbytes <= 0:
        return
    _ensure_context()
    if stream is None:
        _check(_api().cuMemcpyDtoD(_device_address(dst), _device_address(src), nbytes), "cuMemcpyDtoD")
    else:
        _check(
            _api().cuMemcpyDtoDAsync(
                _device_address(dst), _device_address(src), nbytes, _stream_handle(stream)
            ),
            "cuMemcpyDtoDAsync",
        )


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
    _ensure_context()
    if stream is None:
        _check(_api().cuMemsetD8(_device_address(ptr), value & 0xFF, nbytes), "cuMemsetD8")
    else:
        _check(
            _api().cuMemsetD8Async(_device_address(ptr), value & 0xFF, nbytes, _stream_handle(stream)),
            "cuMemsetD8Async",
        )


def memset_d32(ptr: int, value: int, count: int, stream: Stream | int | None = None) -> None:
    """Set `count` 32-bit words at `ptr` (4-byte aligned) to `value`; asynchronous on `stream` when given."""
    if count <= 0:
        return
    _ensure_context()
    if stream is None:
        _check(_api().cuMemsetD32(_device_address(ptr), value & 0xFFFFFFFF, count), "cuMemsetD32")
    else:
        _check(
            _api().cuMemsetD32Async(_device_address(ptr), value & 0xFFFFFFFF, count, _stream_handle(stream)),
            "cuMemsetD32Async",
        )


# ----------------------------------------------------------------------------------------------------
# Modules, functions, launches


@dataclass(frozen=True)
class FunctionAttributes:
    """What the compiler decided for a kernel (cuFuncGetAttribute)."""

    num_regs: int
    shared_bytes: int
    const_bytes: int
    local_bytes: int
    max_threads_per_block: int
    max_dynamic_shared_bytes: int
    ptx_version: int
    binary_version: int


class Module:
    """A loaded cubin or PTX image on one device. `function(name)` looks kernels up (cached)."""

    def __init__(self, handle: int, device: Device):
        self.handle = handle
        self.device = device
        self._functions: dict[str, Function] = {}
        self._generation = _generation

    @classmethod
    def from_cubin(cls, image: bytes, device: Device | int | None = None) -> Module:
        """Load a cubin (ELF) from NVRTC onto `device` (the current one by default)."""
        if image[:4] != b"\x7fELF":
            raise KernelValueError(
                "Module.from_cubin: the image is not a cubin (no ELF header); use from_ptx"
            )
        return cls._load(image, _device(device), "cubin")

    @classmethod
    def from_ptx(cls, ptx: str | bytes, device: Device | int | None = None) -> Module:
        """JIT-compile and load PTX text onto `device`."""
        data = ptx.encode() if isinstance(ptx, str) else bytes(ptx)
        if not data.endswith(b"\0"):
            data += b"\0"
        return cls._load(data, _device(device), "PTX")

    @classmethod
    def load(cls, image: bytes, device: Device | int | None = None) -> Module:
        """Load a cubin or PTX, whichever `image` is."""
        if image[:4] == b"\x7fELF":
            return cls.from_cubin(image, device)
        return cls.from_ptx(image, device)

    @classmethod
    def _load(cls, data: bytes, dev: Device, kind: str) -> Module:
        api = _api()
        dev._activate()
        size = 16384
        err_log = ctypes.create_string_buffer(size)
        info_log = ctypes.create_string_buffer(size)
        opts = (ctypes.c_int * 4)(
            _JIT_ERROR_LOG_BUFFER,
            _JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
            _JIT_INFO_LOG_BUFFER,
            _JIT_INFO_LOG_BUFFER_SIZE_BYTES,
        )
        values = (ctypes.c_void_p * 4)(ctypes.addressof(err_log), size, ctypes.addressof(info_log), size)
        handle = ctypes.c_void_p()
        status = api.cuModuleLoadDataEx(ctypes.byref(handle), data, 4, opts, values)
        if status != CUDA_SUCCESS:
            context = f"loading a {kind} on device {dev.ordinal} ({dev.name}, {dev.arch})"
            version_related = (CUDA_ERROR_UNSUPPORTED_PTX_VERSION, CUDA_ERROR_NO_BINARY_FOR_GPU)
            if status in version_related or (kind == "cubin" and status == CUDA_ERROR_INVALID_IMAGE):
                major, minor = driver_version()
                context += (
                    f" (the driver supports CUDA {major}.{minor}: code from a newer NVRTC, or built for "
                    "another architecture, does not load)"
                )
            log = err_log.value.decode(errors="replace").strip()
            raise _error(status, "cuModuleLoadDataEx", context, detail=log or None)
        return cls(handle.value or 0, dev)

    def function(self, name: str) -> Function:
        """The kernel `name` (an extern "C" name or a lowered C++ name)."""
        fn = self._functions.get(name)
        if fn is None:
            handle = ctypes.c_void_p()
            _check(
                _api().cuModuleGetFunction(ctypes.byref(handle), self.handle, name.encode()),
                "cuModuleGetFunction",
                f"kernel {name!r}",
            )
            fn = self._functions[name] = Function(handle.value or 0, name, self)
        return fn

    def global_address(self, name: str) -> tuple[int, int]:
        """(device pointer, size) of a `__device__` or `__constant__` variable of the module."""
        ptr, size = ctypes.c_uint64(), ctypes.c_size_t()
        _check(
            _api().cuModuleGetGlobal(ctypes.byref(ptr), ctypes.byref(size), self.handle, name.encode()),
            "cuModuleGetGlobal",
            f"global {name!r}",
        )
        return ptr.value, size.value

    def unload(self) -> None:
        """Unload the module; its functions become invalid."""
        if self.handle and self._generation == _generation:
            handle, self.handle = self.handle, 0
            self._functions.clear()
            self.device._activate()
            _check(_api().cuModuleUnload(handle), "cuModuleUnload")


class Function:
    """A kernel of a loaded Module."""

    def __init__(self, handle: int, name: str, module: Module):
        self.handle = handle
        self.name = name
        self.module = module

    def attribute(self, attr: int) -> int:
        """Any `CUfunction_attribute` by number."""
        value = ctypes.c_int()
        _check(_api().cuFuncGetAttribute(ctypes.byref(value), attr, self.handle), "cuFuncGetAttribute")
        return value.value

    @property
    def attributes(self) -> FunctionAttributes:
        """Registers, static shared/const/local bytes, thread and dynamic-shared limits, PTX/SASS versions."""
        a = self.attribute
        return FunctionAttributes(
            num_regs=a(_FUNC_NUM_REGS),
            shared_bytes=a(_FUNC_SHARED_SIZE_BYTES),
            const_bytes=a(_FUNC_CONST_SIZE_BYTES),
            local_bytes=a(_FUNC_LOCAL_SIZE_BYTES),
            max_threads_per_block=a(_FUNC_MAX_THREADS_PER_BLOCK),
            max_dynamic_shared_bytes=a(_FUNC_MAX_DYNAMIC_SHARED_SIZE_BYTES),
            ptx_version=a(_FUNC_PTX_VERSION),
            binary_version=a(_FUNC_BINARY_VERSION),
        )

    def set_max_dynamic_shared(self, nbytes: int) -> None:
        """Allow launches with up to `nbytes` of dynamic shared memory (needed above 48 KiB)."""
        limit = self.module.device.max_shared_per_block_optin
        if nbytes > limit:
            raise KernelValueError(
                f"kernel {self.name!r}: {nbytes} bytes of dynamic shared memory exceed the device's {limit}"
            )
        _check(
            _api().cuFuncSetAttribute(self.handle, _FUNC_MAX_DYNAMIC_SHARED_SIZE_BYTES, nbytes),
            "cuFuncSetAttribute",
            f"kernel {self.name!r}",
        )

    def occupancy_max_block_size(self, dynamic_shared: int = 0, block_size_limit: int = 0) -> tuple[int, int]:
        """(minimum grid size for full occupancy, block size) from cuOccupancyMaxPotentialBlockSize."""
        api = _api()
        if api.cuOccupancyMaxPotentialBlockSize is None:
            return self.module.device.multiprocessor_count, min(256, self.attributes.max_threads_per_block)
        grid, block = ctypes.c_int(), ctypes.c_int()
        _check(
            api.cuOccupancyMaxPotentialBlockSize(
                ctypes.byref(grid), ctypes.byref(block), self.handle, None, dynamic_shared, block_size_limit
            ),
            "cuOccupancyMaxPotentialBlockSize",
            f"kernel {self.name!r}",
        )
        return grid.value, block.value

    def max_active_blocks_per_multiprocessor(self, block_size: int, dynamic_shared: int = 0) -> int:
        """How many blocks of `block_size` threads fit on one SM at once."""
        api = _api()
        if api.cuOccupancyMaxActiveBlocksPerMultiprocessor is None:
            raise SpaceUnavailable("this CUDA driver has no occupancy calculator")
        n = ctypes.c_int()
        _check(
            api.cuOccupancyMaxActiveBlocksPerMultiprocessor(
                ctypes.byref(n), self.handle, block_size, dynamic_shared
            ),
            "cuOccupancyMaxActiveBlocksPerMultiprocessor",
            f"kernel {self.name!r}",
        )
        return n.value

    def __repr__(self) -> str:
        return f"<cuda.Function {self.name!r} on device {self.module.device.ordinal}>"


def _dims(value: int | Sequence[int], what: str) -> tuple[int, int, int]:
    if type(value) is int and value > 0:
        return (value, 1, 1)
    dims = (int(value),) if isinstance(value, int) else tuple(int(v) for v in value)
    if not 1 <= len(dims) <= 3 or any(d < 1 for d in dims):
        raise KernelValueError(f"{what} must be 1 to 3 positive extents, got {value!r}")
    return (dims + (1, 1))[:3]  # type: ignore[return-value]


_PARAM_ARRAYS = [ctypes.c_void_p * max(n, 1) for n in range(33)]
_addressof = ctypes.addressof


def launch(
    function: Function,
    grid: int | Sequence[int],
    block: int | Sequence[int],
    shared_bytes: int = 0,
    stream: Stream | int | None = None,
    args: Sequence[Any] = (),
    *,
    label: str | None = None,
) -> None:
    """Queue `function` on `stream` (the legacy default stream when None) with cuLaunchKernel. `args` are
    ctypes objects in the kernel's parameter order (`c_double(a)`, `c_void_p(ptr)`, a ctypes Structure, ...);
    the driver copies them before returning. `label` names the kernel in error messages."""
    gx, gy, gz = _dims(grid, "grid")
    bx, by, bz = _dims(block, "block")
    n = len(args)
    array_type = _PARAM_ARRAYS[n] if n < 33 else ctypes.c_void_p * n
    try:
        params = array_type(*map(_addressof, args))
    except TypeError:
        bad = next(
            i
            for i, a in enumerate(args)
            if not isinstance(a, ctypes._SimpleCData | ctypes.Structure | ctypes.Union | ctypes.Array)
        )
        raise KernelTypeError(
            f"launch of {function.name!r}: argument {bad} is a {type(args[bad]).__name__}, "
            "not a ctypes object "
            "(wrap it: ctypes.c_double(x), ctypes.c_int64(n), ctypes.c_void_p(ptr))"
        ) from None
    device = function.module.device
    if getattr(_tls, "context", None) != device._context or device._context is None:
        device.set_current()
    api = _api_obj if _api_obj is not None else _api()
    handle = 0 if stream is None else stream.handle if type(stream) is Stream else _stream_handle(stream)
    status = api.cuLaunchKernel(function.handle, gx, gy, gz, bx, by, bz, shared_bytes, handle, params, None)
    if status != CUDA_SUCCESS:
        what = f"kernel {label!r} ({function.name})" if label else f"kernel {function.name!r}"
        raise _error(
            status,
            "cuLaunchKernel",
            f"{what} with grid {(gx, gy, gz)}, block {(bx, by, bz)}, {shared_bytes} B shared",
        )
