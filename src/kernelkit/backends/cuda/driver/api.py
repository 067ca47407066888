"""libcuda through ctypes: loading it, the table of bound entry points, the ABI constants and CudaError.

libcuda is loaded and `cuInit` runs on first use (`available()`, `cu()`), never at import. `use_library`
swaps the library for another one (a fake driver in tests) and bumps `state.generation`: every object made
under an older generation (devices, streams, events, modules, cached blocks) never calls the driver again.

`cu()` is the one way Python reaches the driver, and it drains the native launch queue first
(runtime/native/cudaq.c, installed by the CUDA backend with `set_launch_queue`): every copy, synchronization,
event, free or capture comes after the `parallel_for` launches made before it, whichever thread made them.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Any

from kernelkit.errors import KernelRuntimeError, KernelValueError, SpaceUnavailable

LIBRARY = "libcuda.so.1"

# CUresult values used by name (the full set comes from cuGetErrorName).
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

# Names for when cuGetErrorName itself is unavailable or fails.
FALLBACK_NAMES = {
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
ATTR_MAX_THREADS_PER_BLOCK = 1
ATTR_MAX_BLOCK_DIM = (2, 3, 4)
ATTR_MAX_GRID_DIM = (5, 6, 7)
ATTR_MAX_SHARED_PER_BLOCK = 8
ATTR_WARP_SIZE = 10
ATTR_CLOCK_RATE = 13
ATTR_MULTIPROCESSOR_COUNT = 16
ATTR_PCI_BUS_ID = 33
ATTR_PCI_DEVICE_ID = 34
ATTR_MEMORY_CLOCK_RATE = 36
ATTR_MEMORY_BUS_WIDTH = 37
ATTR_L2_CACHE_SIZE = 38
ATTR_MAX_THREADS_PER_SM = 39
ATTR_UNIFIED_ADDRESSING = 41
ATTR_PCI_DOMAIN_ID = 50
ATTR_CC_MAJOR = 75
ATTR_CC_MINOR = 76
ATTR_MAX_SHARED_PER_SM = 81
ATTR_MANAGED_MEMORY = 83
ATTR_MAX_SHARED_PER_BLOCK_OPTIN = 97

# CUfunction_attribute
FUNC_MAX_THREADS_PER_BLOCK = 0
FUNC_SHARED_SIZE_BYTES = 1
FUNC_CONST_SIZE_BYTES = 2
FUNC_LOCAL_SIZE_BYTES = 3
FUNC_NUM_REGS = 4
FUNC_PTX_VERSION = 5
FUNC_BINARY_VERSION = 6
FUNC_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8

# CUjit_option
JIT_INFO_LOG_BUFFER = 3
JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4
JIT_ERROR_LOG_BUFFER = 5
JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6

# CUpointer_attribute, CUmemorytype
POINTER_MEMORY_TYPE = 2
POINTER_DEVICE_ORDINAL = 9
MEMORYTYPE_DEVICE = 2
MEMORYTYPE_UNIFIED = 4

# Flags
STREAM_NON_BLOCKING = 1
EVENT_BLOCKING_SYNC = 1
EVENT_DISABLE_TIMING = 2
MEM_ATTACH_GLOBAL = 1
MEMHOSTREGISTER_PORTABLE = 1

# CUstreamCaptureMode, CUstreamCaptureStatus
CAPTURE_MODE_GLOBAL = 0
CAPTURE_MODE_THREAD_LOCAL = 1
CAPTURE_MODE_RELAXED = 2
CAPTURE_STATUS_NONE = 0
CAPTURE_STATUS_ACTIVE = 1
CAPTURE_STATUS_INVALIDATED = 2

# Special stream handles
STREAM_LEGACY = 0x1
STREAM_PER_THREAD = 0x2


class CudaError(KernelRuntimeError):
    """A CUDA driver call failed. `code` is the CUresult, `call` the driver function's name."""

    def __init__(self, message: str, loc: Any = None, detail: str | None = None, code: int = -1, call: str = ""):
        self.code = code
        self.call = call
        super().__init__(message, loc, detail)

    def __reduce__(self):
        return (_rebuild_cuda_error, (self.message, self.detail, self.code, self.call))


def _rebuild_cuda_error(message: str, detail: str | None, code: int, call: str) -> CudaError:
    return CudaError(message, None, detail, code, call)


# ----------------------------------------------------------------------------------------------------
# The function table

_u = ctypes.c_uint
_i = ctypes.c_int
_sz = ctypes.c_size_t
_vp = ctypes.c_void_p
_dptr = ctypes.c_uint64
_P = ctypes.POINTER

# name -> (symbol candidates, best first; argtypes; required)
PROTOTYPES: dict[str, tuple[tuple[str, ...], list, bool]] = {
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
    "cuMemcpyPeer": (("cuMemcpyPeer",), [_dptr, _vp, _dptr, _vp, _sz], False),
    "cuDeviceCanAccessPeer": (("cuDeviceCanAccessPeer",), [_P(_i), _i, _i], False),
    "cuCtxEnablePeerAccess": (("cuCtxEnablePeerAccess",), [_vp, _u], False),
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
    "cuEventElapsedTime": (("cuEventElapsedTime_v2", "cuEventElapsedTime"), [_P(ctypes.c_float), _vp, _vp], True),
    "cuModuleLoadDataEx": (("cuModuleLoadDataEx",), [_P(_vp), _vp, _u, _P(_i), _P(_vp)], True),
    "cuModuleUnload": (("cuModuleUnload",), [_vp], True),
    "cuModuleGetFunction": (("cuModuleGetFunction",), [_P(_vp), _vp, ctypes.c_char_p], True),
    "cuModuleGetGlobal": (("cuModuleGetGlobal_v2",), [_P(_dptr), _P(_sz), _vp, ctypes.c_char_p], True),
    "cuFuncGetAttribute": (("cuFuncGetAttribute",), [_P(_i), _i, _vp], True),
    "cuFuncSetAttribute": (("cuFuncSetAttribute",), [_vp, _i, _i], True),
    "cuLaunchKernel": (("cuLaunchKernel",), [_vp, _u, _u, _u, _u, _u, _u, _u, _vp, _P(_vp), _P(_vp)], True),
    # Graphs (CUDA 11.4+ for cuGraphInstantiateWithFlags); optional: a driver without them has no pk.graph on GPUs.
    "cuStreamBeginCapture": (("cuStreamBeginCapture_v2", "cuStreamBeginCapture"), [_vp, _i], False),
    "cuStreamEndCapture": (("cuStreamEndCapture",), [_vp, _P(_vp)], False),
    "cuStreamIsCapturing": (("cuStreamIsCapturing",), [_vp, _P(_i)], False),
    "cuGraphInstantiateWithFlags": (("cuGraphInstantiateWithFlags",), [_P(_vp), _vp, ctypes.c_ulonglong], False),
    "cuGraphLaunch": (("cuGraphLaunch",), [_vp, _vp], False),
    "cuGraphGetNodes": (("cuGraphGetNodes",), [_vp, _P(_vp), _P(_sz)], False),
    "cuGraphExecDestroy": (("cuGraphExecDestroy",), [_vp], False),
    "cuGraphDestroy": (("cuGraphDestroy",), [_vp], False),
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

# The driver calls a native launcher makes itself, by exported symbol name (see `entry_points`).
NATIVE_ENTRY_POINTS = (
    "cuLaunchKernel",
    "cuMemcpyHtoDAsync_v2",
    "cuMemcpyDtoHAsync_v2",
    "cuMemcpyDtoDAsync_v2",
    "cuStreamSynchronize",
    "cuStreamQuery",
    "cuCtxSetCurrent",
    "cuEventRecord",
    "cuGetErrorName",
    "cuGetErrorString",
)


class Table:
    """libcuda with every prototype bound: `table.cuMemAlloc(...)` calls the `_v2` symbol. An optional entry
    point the driver lacks is None; a missing required one makes the library unusable (OSError)."""

    def __init__(self, lib: ctypes.CDLL):
        self.lib = lib
        self.symbols: dict[str, str] = {}
        missing = []
        for name, (candidates, argtypes, required) in PROTOTYPES.items():
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


class State:
    """The process's view of the driver: which library, its table once loaded, the probe's answer."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.library = LIBRARY
        self.table: Table | None = None
        self.probe: tuple[bool, str] | None = None
        self.generation = 0  # bumped by use_library()


state = State()
_reset_hooks: list[Callable[[], None]] = []


def on_reset(hook: Callable[[], None]) -> None:
    """Call `hook` (under the driver lock) whenever `use_library` forgets the current library."""
    _reset_hooks.append(hook)


def use_library(path: str | None) -> None:
    """Load the driver from `path` instead of libcuda.so.1 (`None`: back to the default), forgetting every
    device, context, cached block and handle obtained so far. For tests and unusual installs."""
    with state.lock:
        _drain()
        state.library = path or LIBRARY
        state.table = None
        state.probe = None
        state.generation += 1
        for hook in _reset_hooks:
            hook()


def _probe() -> tuple[bool, str]:
    try:
        lib = ctypes.CDLL(state.library)
    except OSError as exc:
        return False, f"{state.library} cannot be loaded (no NVIDIA driver here?): {exc}"
    try:
        table = Table(lib)
    except OSError as exc:
        return False, str(exc)
    status = table.cuInit(0)
    if status != CUDA_SUCCESS:
        name, text = _error_text(table, status)
        return False, f"cuInit failed: {name}: {text}"
    count = ctypes.c_int()
    status = table.cuDeviceGetCount(ctypes.byref(count))
    if status != CUDA_SUCCESS:
        name, text = _error_text(table, status)
        return False, f"cuDeviceGetCount failed: {name}: {text}"
    state.table = table
    if count.value < 1:
        return False, "the NVIDIA driver reports no CUDA device (check CUDA_VISIBLE_DEVICES)"
    return True, f"{count.value} CUDA device(s)"


def available() -> tuple[bool, str]:
    """(True, "...") when libcuda loads, cuInit succeeds and there is at least one device, else (False, why).
    The first call loads the driver; the answer is cached."""
    probe = state.probe
    if probe is None:
        with state.lock:
            if state.probe is None:
                state.probe = _probe()
            probe = state.probe
    return probe


def _nothing_queued() -> None:
    pass


_drain: Callable[[], None] = _nothing_queued
_queue_check: Callable[[], None] = _nothing_queued


def set_launch_queue(drain: Callable[[], None], check_failure: Callable[[], None]) -> None:
    """Install the launch queue's `drain` (wait until every queued launch has been made), called by `cu()`, and
    `check_failure` (drain, then raise the failure of a queued launch), called by `queue_check()`."""
    global _drain, _queue_check
    _drain, _queue_check = drain, check_failure


def queue_check() -> None:
    """Before a synchronization: every queued launch made, and a failed one raised (a KernelRuntimeError
    naming its kernel)."""
    _queue_check()


def cu() -> Table:
    """The bound driver, once every queued launch has been made; raises SpaceUnavailable (with the reason) when
    CUDA is not usable."""
    table = state.table
    probe = state.probe
    if table is not None and probe is not None and probe[0]:
        _drain()
        return table
    ok, reason = available()
    if not ok:
        raise SpaceUnavailable(f"CUDA is not usable: {reason}")
    assert state.table is not None
    return state.table


def _error_text(table: Table, status: int) -> tuple[str, str]:
    name = ctypes.c_char_p()
    text = ctypes.c_char_p()
    n = table.cuGetErrorName(status, ctypes.byref(name)) if table.cuGetErrorName else 1
    t = table.cuGetErrorString(status, ctypes.byref(text)) if table.cuGetErrorString else 1
    name_s = name.value.decode() if n == 0 and name.value else FALLBACK_NAMES.get(status, f"CUresult {status}")
    text_s = text.value.decode() if t == 0 and text.value else "unrecognized error code"
    return name_s, text_s


def error(status: int, call: str, context: str = "", detail: str | None = None) -> CudaError:
    """The CudaError for `status` returned by `call` (a table name such as "cuMemAlloc"), naming the exported
    symbol, the driver's error name and text, and `context` ("allocating 8 bytes on device 0")."""
    table = state.table
    name, text = _error_text(table, status) if table else (FALLBACK_NAMES.get(status, str(status)), "")
    symbol = table.symbols.get(call, call) if table else call
    prefix = f"{context}: " if context else ""
    return CudaError(f"{prefix}CUDA error in {symbol}: {name} ({text})", None, detail, status, symbol)


def check(status: int, call: str, context: str = "") -> None:
    """Raise `error(status, call, context)` unless `status` is CUDA_SUCCESS."""
    if status != CUDA_SUCCESS:
        raise error(status, call, context)


# ----------------------------------------------------------------------------------------------------
# Queries that need no device or context


def driver_version() -> tuple[int, int]:
    """The CUDA version the installed driver supports, e.g. (12, 4)."""
    v = ctypes.c_int()
    check(cu().cuDriverGetVersion(ctypes.byref(v)), "cuDriverGetVersion")
    return v.value // 1000, (v.value % 1000) // 10


def device_count() -> int:
    """Number of visible CUDA devices (0 when CUDA is not usable)."""
    ok, _ = available()
    if not ok:
        return 0
    count = ctypes.c_int()
    check(cu().cuDeviceGetCount(ctypes.byref(count)), "cuDeviceGetCount")
    return count.value


def symbol_address(name: str) -> int:
    """The raw address of a driver entry point (e.g. "cuLaunchKernel", "cuMemcpyHtoDAsync_v2"), for native
    code that calls the driver directly with the same ABI."""
    table = cu()
    try:
        fn = getattr(table.lib, name)
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
    return {name: symbol_address(name) for name in NATIVE_ENTRY_POINTS}
