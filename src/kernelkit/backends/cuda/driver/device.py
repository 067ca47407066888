"""Devices and their primary contexts, and which one is current on each thread.

Devices use their primary context (the one CuPy, PyTorch and the runtime API share), retained once per
process and never released.
"""

from __future__ import annotations

import ctypes
import threading

from kernelkit.backends.cuda.driver import api
from kernelkit.backends.cuda.driver.api import check, cu
from kernelkit.errors import KernelValueError

# The calling thread's device and the context kernelkit last made current on it (`set_current`).
current = threading.local()


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
        with api.state.lock:
            dev = cls._instances.get(ordinal)
            if dev is None:
                dev = super().__new__(cls)
                dev._init(ordinal)
                cls._instances[ordinal] = dev
        return dev

    def _init(self, ordinal: int) -> None:
        table = cu()
        count = api.device_count()
        if not 0 <= ordinal < count:
            raise KernelValueError(f"no CUDA device {ordinal}: {count} visible (ordinals 0..{count - 1})")
        handle = ctypes.c_int()
        check(table.cuDeviceGet(ctypes.byref(handle), ordinal), "cuDeviceGet")
        self.ordinal = ordinal
        self.handle = handle.value
        buf = ctypes.create_string_buffer(256)
        check(table.cuDeviceGetName(buf, 256, self.handle), "cuDeviceGetName")
        self.name = buf.value.decode(errors="replace")
        a = self.attribute
        self.compute_capability = (a(api.ATTR_CC_MAJOR), a(api.ATTR_CC_MINOR))
        self.multiprocessor_count = a(api.ATTR_MULTIPROCESSOR_COUNT)
        self.max_threads_per_block = a(api.ATTR_MAX_THREADS_PER_BLOCK)
        self.max_threads_per_multiprocessor = a(api.ATTR_MAX_THREADS_PER_SM)
        self.max_shared_per_block = a(api.ATTR_MAX_SHARED_PER_BLOCK)
        self.max_shared_per_block_optin = a(api.ATTR_MAX_SHARED_PER_BLOCK_OPTIN)
        self.max_shared_per_multiprocessor = a(api.ATTR_MAX_SHARED_PER_SM)
        bx, by, bz = (a(attr) for attr in api.ATTR_MAX_BLOCK_DIM)
        self.max_block_dim = (bx, by, bz)
        gx, gy, gz = (a(attr) for attr in api.ATTR_MAX_GRID_DIM)
        self.max_grid_dim = (gx, gy, gz)
        self.warp_size = a(api.ATTR_WARP_SIZE)
        self.l2_cache_size = a(api.ATTR_L2_CACHE_SIZE)
        domain, bus, slot = a(api.ATTR_PCI_DOMAIN_ID), a(api.ATTR_PCI_BUS_ID), a(api.ATTR_PCI_DEVICE_ID)
        self.pci_bus_id = f"{domain:04x}:{bus:02x}:{slot:02x}.0"
        total = ctypes.c_size_t()
        check(table.cuDeviceTotalMem(ctypes.byref(total), self.handle), "cuDeviceTotalMem")
        self.total_memory = total.value
        self._context = None
        self._generation = api.state.generation

    def attribute(self, attr: int) -> int:
        """Any `CUdevice_attribute` by number."""
        value = ctypes.c_int()
        check(cu().cuDeviceGetAttribute(ctypes.byref(value), attr, self.handle), "cuDeviceGetAttribute")
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
            with api.state.lock:
                if self._context is None:
                    handle = ctypes.c_void_p()
                    check(
                        cu().cuDevicePrimaryCtxRetain(ctypes.byref(handle), self.handle),
                        "cuDevicePrimaryCtxRetain",
                        f"device {self.ordinal}",
                    )
                    self._context = handle.value
                ctx = self._context
        assert ctx is not None
        return ctx

    def set_current(self) -> None:
        """Make this device's primary context current on the calling thread (and this the thread's device)."""
        check(cu().cuCtxSetCurrent(self.context), "cuCtxSetCurrent", f"device {self.ordinal}")
        current.device = self
        current.context = self._context

    def activate(self) -> None:
        """`set_current` unless this device's context is already current on the calling thread."""
        # Other libraries share the primary context, so a context they made current is this one whenever it
        # belongs to this device.
        if getattr(current, "context", None) != self._context or self._context is None:
            self.set_current()

    def synchronize(self) -> None:
        """Wait for all work on this device (cuCtxSynchronize)."""
        self.activate()
        api.queue_check()
        check(cu().cuCtxSynchronize(), "cuCtxSynchronize", f"device {self.ordinal}")

    def mem_info(self) -> tuple[int, int]:
        """(free, total) bytes of device memory, as the driver sees them (other processes included)."""
        self.activate()
        free_b, total_b = ctypes.c_size_t(), ctypes.c_size_t()
        check(cu().cuMemGetInfo(ctypes.byref(free_b), ctypes.byref(total_b)), "cuMemGetInfo")
        return free_b.value, total_b.value

    def __repr__(self) -> str:
        return f"<cuda.Device {self.ordinal}: {self.name}, {self.arch}, {self.multiprocessor_count} SMs>"


def current_device() -> Device:
    """The calling thread's device: the last one made current here, else device 0."""
    dev = getattr(current, "device", None)
    return dev if dev is not None else Device(0)


def as_device(device: Device | int | None) -> Device:
    """`device` as a Device: the calling thread's one for None, `Device(i)` for an ordinal."""
    if device is None:
        return current_device()
    if isinstance(device, Device):
        return device
    return Device(device)


def ensure_context() -> None:
    """Make sure some kernelkit device's context is current on this thread (the thread's device, else 0)."""
    if getattr(current, "context", None) is None:
        current_device().set_current()


def _forget() -> None:
    Device._instances.clear()
    current.__dict__.clear()  # the calling thread's record


api.on_reset(_forget)
