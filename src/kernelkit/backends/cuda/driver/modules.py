"""Modules (loaded cubins and PTX), their kernels, and launches from Python.

kernelkit's own kernels are launched by the C extension, which calls cuLaunchKernel through the address from
`entry_points()`; `launch` here serves hand-written kernels (tests, reference kernels of the benchmarks).
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kernelkit.backends.cuda.driver import api
from kernelkit.backends.cuda.driver.api import check, cu
from kernelkit.backends.cuda.driver.device import Device, as_device, current
from kernelkit.backends.cuda.driver.streams import Stream, stream_handle
from kernelkit.errors import KernelTypeError, KernelValueError, SpaceUnavailable

_LOG_BYTES = 16384


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
        self._generation = api.state.generation

    @classmethod
    def from_cubin(cls, image: bytes, device: Device | int | None = None) -> Module:
        """Load a cubin (ELF) from NVRTC onto `device` (the current one by default)."""
        if image[:4] != b"\x7fELF":
            raise KernelValueError("Module.from_cubin: the image is not a cubin (no ELF header); use from_ptx")
        return cls._load(image, as_device(device), "cubin")

    @classmethod
    def from_ptx(cls, ptx: str | bytes, device: Device | int | None = None) -> Module:
        """JIT-compile and load PTX text onto `device`."""
        data = ptx.encode() if isinstance(ptx, str) else bytes(ptx)
        if not data.endswith(b"\0"):
            data += b"\0"
        return cls._load(data, as_device(device), "PTX")

    @classmethod
    def load(cls, image: bytes, device: Device | int | None = None) -> Module:
        """Load a cubin or PTX, whichever `image` is."""
        if image[:4] == b"\x7fELF":
            return cls.from_cubin(image, device)
        return cls.from_ptx(image, device)

    @classmethod
    def _load(cls, data: bytes, dev: Device, kind: str) -> Module:
        table = cu()
        dev.activate()
        err_log = ctypes.create_string_buffer(_LOG_BYTES)
        info_log = ctypes.create_string_buffer(_LOG_BYTES)
        opts = (ctypes.c_int * 4)(
            api.JIT_ERROR_LOG_BUFFER,
            api.JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
            api.JIT_INFO_LOG_BUFFER,
            api.JIT_INFO_LOG_BUFFER_SIZE_BYTES,
        )
        values = (ctypes.c_void_p * 4)(ctypes.addressof(err_log), _LOG_BYTES, ctypes.addressof(info_log), _LOG_BYTES)
        handle = ctypes.c_void_p()
        status = table.cuModuleLoadDataEx(ctypes.byref(handle), data, 4, opts, values)
        if status != api.CUDA_SUCCESS:
            context = f"loading a {kind} on device {dev.ordinal} ({dev.name}, {dev.arch})"
            version_related = (api.CUDA_ERROR_UNSUPPORTED_PTX_VERSION, api.CUDA_ERROR_NO_BINARY_FOR_GPU)
            if status in version_related or (kind == "cubin" and status == api.CUDA_ERROR_INVALID_IMAGE):
                major, minor = api.driver_version()
                context += (
                    f" (the driver supports CUDA {major}.{minor}: code from a newer NVRTC, or built for "
                    "another architecture, does not load)"
                )
            log = err_log.value.decode(errors="replace").strip()
            raise api.error(status, "cuModuleLoadDataEx", context, detail=log or None)
        return cls(handle.value or 0, dev)

    def function(self, name: str) -> Function:
        """The kernel `name` (an extern "C" name or a lowered C++ name)."""
        fn = self._functions.get(name)
        if fn is None:
            handle = ctypes.c_void_p()
            check(
                cu().cuModuleGetFunction(ctypes.byref(handle), self.handle, name.encode()),
                "cuModuleGetFunction",
                f"kernel {name!r}",
            )
            fn = self._functions[name] = Function(handle.value or 0, name, self)
        return fn

    def global_address(self, name: str) -> tuple[int, int]:
        """(device pointer, size) of a `__device__` or `__constant__` variable of the module."""
        ptr, size = ctypes.c_uint64(), ctypes.c_size_t()
        check(
            cu().cuModuleGetGlobal(ctypes.byref(ptr), ctypes.byref(size), self.handle, name.encode()),
            "cuModuleGetGlobal",
            f"global {name!r}",
        )
        return ptr.value, size.value

    def unload(self) -> None:
        """Unload the module; its functions become invalid."""
        if self.handle and self._generation == api.state.generation:
            handle, self.handle = self.handle, 0
            self._functions.clear()
            self.device.activate()
            check(cu().cuModuleUnload(handle), "cuModuleUnload")


class Function:
    """A kernel of a loaded Module."""

    def __init__(self, handle: int, name: str, module: Module):
        self.handle = handle
        self.name = name
        self.module = module

    def attribute(self, attr: int) -> int:
        """Any `CUfunction_attribute` by number."""
        value = ctypes.c_int()
        check(cu().cuFuncGetAttribute(ctypes.byref(value), attr, self.handle), "cuFuncGetAttribute")
        return value.value

    @property
    def attributes(self) -> FunctionAttributes:
        """Registers, static shared/const/local bytes, thread and dynamic-shared limits, PTX/SASS versions."""
        a = self.attribute
        return FunctionAttributes(
            num_regs=a(api.FUNC_NUM_REGS),
            shared_bytes=a(api.FUNC_SHARED_SIZE_BYTES),
            const_bytes=a(api.FUNC_CONST_SIZE_BYTES),
            local_bytes=a(api.FUNC_LOCAL_SIZE_BYTES),
            max_threads_per_block=a(api.FUNC_MAX_THREADS_PER_BLOCK),
            max_dynamic_shared_bytes=a(api.FUNC_MAX_DYNAMIC_SHARED_SIZE_BYTES),
            ptx_version=a(api.FUNC_PTX_VERSION),
            binary_version=a(api.FUNC_BINARY_VERSION),
        )

    def set_max_dynamic_shared(self, nbytes: int) -> None:
        """Allow launches with up to `nbytes` of dynamic shared memory (needed above 48 KiB)."""
        limit = self.module.device.max_shared_per_block_optin
        if nbytes > limit:
            raise KernelValueError(
                f"kernel {self.name!r}: {nbytes} bytes of dynamic shared memory exceed the device's {limit}"
            )
        check(
            cu().cuFuncSetAttribute(self.handle, api.FUNC_MAX_DYNAMIC_SHARED_SIZE_BYTES, nbytes),
            "cuFuncSetAttribute",
            f"kernel {self.name!r}",
        )

    def occupancy_max_block_size(self, dynamic_shared: int = 0, block_size_limit: int = 0) -> tuple[int, int]:
        """(minimum grid size for full occupancy, block size) from cuOccupancyMaxPotentialBlockSize."""
        table = cu()
        if table.cuOccupancyMaxPotentialBlockSize is None:
            return self.module.device.multiprocessor_count, min(256, self.attributes.max_threads_per_block)
        grid, block = ctypes.c_int(), ctypes.c_int()
        check(
            table.cuOccupancyMaxPotentialBlockSize(
                ctypes.byref(grid), ctypes.byref(block), self.handle, None, dynamic_shared, block_size_limit
            ),
            "cuOccupancyMaxPotentialBlockSize",
            f"kernel {self.name!r}",
        )
        return grid.value, block.value

    def max_active_blocks_per_multiprocessor(self, block_size: int, dynamic_shared: int = 0) -> int:
        """How many blocks of `block_size` threads fit on one SM at once."""
        table = cu()
        if table.cuOccupancyMaxActiveBlocksPerMultiprocessor is None:
            raise SpaceUnavailable("this CUDA driver has no occupancy calculator")
        n = ctypes.c_int()
        check(
            table.cuOccupancyMaxActiveBlocksPerMultiprocessor(ctypes.byref(n), self.handle, block_size, dynamic_shared),
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
_CTYPES_DATA = (ctypes._SimpleCData, ctypes.Structure, ctypes.Union, ctypes.Array)


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
        bad = next((i for i, a in enumerate(args) if not isinstance(a, _CTYPES_DATA)), None)
        if bad is None:
            raise
        raise KernelTypeError(
            f"launch of {function.name!r}: argument {bad} is a {type(args[bad]).__name__}, not a ctypes object "
            "(wrap it: ctypes.c_double(x), ctypes.c_int64(n), ctypes.c_void_p(ptr))"
        ) from None
    device = function.module.device
    if getattr(current, "context", None) != device._context or device._context is None:
        device.set_current()
    table = cu()  # after the launches queued before this one (runtime/native/cudaq.c)
    handle = 0 if stream is None else stream.handle if type(stream) is Stream else stream_handle(stream)
    status = table.cuLaunchKernel(function.handle, gx, gy, gz, bx, by, bz, shared_bytes, handle, params, None)
    if status != api.CUDA_SUCCESS:
        what = f"kernel {label!r} ({function.name})" if label else f"kernel {function.name!r}"
        raise api.error(
            status,
            "cuLaunchKernel",
            f"{what} with grid {(gx, gy, gz)}, block {(bx, by, bz)}, {shared_bytes} B shared",
        )
