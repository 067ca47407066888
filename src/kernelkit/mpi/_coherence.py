"""The one adapter between kernelkit.mpi and the View coherence layer (host/device copies and their flags).

Everything kernelkit.mpi needs to know about where a View's current data lives, and every transfer it makes,
goes through these functions, so that a change of the coherence core changes only this file. Internals used
today: `View._host(write)`, `View._wrap` (a subview without a host sync), `View._device_home()`, `View._root()`
and `View._flags` (0 means "a root with no copy elsewhere": nothing to sync), kernelkit.runtime.coherence's
`where`, `gpu_place`, `address_at` and `mark_written`, and the CUDA driver's pinned allocations and synchronous
copies (`driver.alloc_host`, `free_host`, `memcpy_htod`, `memcpy_dtoh`, `Device.synchronize`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernelkit import _native

__all__ = [
    "is_view",
    "on_device",
    "host_array",
    "region",
    "host_buffer",
    "device_buffer",
    "device_written",
    "synchronize",
    "cuda_space",
    "PinnedBuffer",
    "copy_to_host",
    "copy_to_device",
]


def is_view(obj: Any) -> bool:
    """True for a kernelkit View (or subview)."""
    return isinstance(obj, _native.ViewBase) and hasattr(obj, "_host")


def on_device(view: Any) -> bool:
    """True when the View's data lives on a GPU (a CudaSpace View with a usable GPU): MPI then works on its
    device copy, not on its host array."""
    return is_view(view) and bool(view._device_home())


def host_array(obj: Any) -> np.ndarray:
    """The host NumPy array of a View (not synchronized: for its geometry) or the array itself."""
    if is_view(obj):
        arr = obj._array
        return arr if arr is not None else obj._host(write=False)
    return np.asarray(obj)


def region(view: Any, key: tuple[slice, ...]) -> Any:
    """The subview `view[key]` without synchronizing the host copy (slicing a View reads its host array;
    a device View's halo planes must not download it)."""
    return type(view)._wrap(view._array[key], view._dtype, view._space, view._trait, parent=view)


def host_buffer(view: Any, write: bool) -> np.ndarray:
    """The View's host array, current (downloaded from a newer device copy); `write=True` marks an existing
    device copy stale, since MPI will write the host memory. For a subview the root is synchronized."""
    if not is_view(view):
        return view
    root = view._root()
    if root._flags:
        root._host(write=write)
    return view._array


def device_buffer(view: Any) -> tuple[int, int]:
    """(GPU ordinal, device address of element 0) of the View's device copy, made current first."""
    from kernelkit.runtime import coherence

    here = coherence.where(view._root())
    place = here[0] if here is not None and not here[0].host_backed else coherence.gpu_place(cuda_space().device_id)
    return place.device, coherence.address_at(view, place)


def device_written(view: Any) -> None:
    """Record that MPI (or a kernel on a subview) wrote the View's device copy: its host copy is stale."""
    from kernelkit.runtime import coherence

    coherence.mark_device_written(view)


def synchronize(device: int) -> None:
    """Wait for every kernel and copy queued on GPU `device` (before MPI reads device memory itself)."""
    from kernelkit.backends.cuda import driver

    driver.Device(device).synchronize()


def cuda_space() -> Any:
    """The CUDA execution space of this rank: the default space when it is pk.Cuda(n) (init() binds one per
    node-local rank), else pk.Cuda."""
    from kernelkit.api import spaces

    space = spaces.get_default_space()
    return space if space.backend_name == "cuda" else spaces.Cuda


class PinnedBuffer:
    """Page-locked host memory of `nbytes` for staging device data through a non-CUDA-aware MPI."""

    def __init__(self, nbytes: int):
        from kernelkit.backends.cuda import driver

        self._driver = driver
        self.nbytes = nbytes
        self.address = driver.alloc_host(nbytes)

    def free(self) -> None:
        if self.address:
            self._driver.free_host(self.address)
            self.address = 0

    def __del__(self) -> None:
        try:
            self.free()
        except Exception:  # a dead context at interpreter shutdown: the memory goes with the process
            pass


def copy_to_host(host_address: int, device_address: int, nbytes: int) -> None:
    """Synchronous device-to-host copy (ordered after the work queued on the legacy default stream)."""
    from kernelkit.backends.cuda import driver

    driver.memcpy_dtoh(host_address, device_address, nbytes)


def copy_to_device(device_address: int, host_address: int, nbytes: int) -> None:
    """Synchronous host-to-device copy."""
    from kernelkit.backends.cuda import driver

    driver.memcpy_htod(device_address, host_address, nbytes)
