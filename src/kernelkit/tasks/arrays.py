"""Arrays in tasks without PArrays: `clone_here(a)` (a copy of `a` where the running task is: a NumPy array on
the host, a CuPy array on a GPU when CuPy is installed) and `copy(dst, src)` (a copy between any two of those).
As in Parla, `clone_here` of a NumPy array on the host returns the array itself (there is nothing to move)."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from kernelkit.tasks.environments import get_current_context

_cupy: list[Any] = []  # [module or None], filled on first use: importing CuPy costs a second


def cupy_module() -> Any:
    """The CuPy module, or None when it is not installed (imported on first use)."""
    if not _cupy:
        if importlib.util.find_spec("cupy") is None:
            _cupy.append(None)
        else:
            import cupy

            _cupy.append(cupy)
    return _cupy[0]


def cupy_enabled() -> bool:
    return cupy_module() is not None


def _is_cupy(a: Any) -> bool:
    cp = _cupy[0] if _cupy else None
    if cp is None:
        return False
    return isinstance(a, cp.ndarray)


def _host_array(a: Any) -> np.ndarray:
    """A NumPy array with the contents of `a` (a NumPy, CuPy or kernelkit array, or a PArray)."""
    from kernelkit.tasks.parray import PArray

    if isinstance(a, PArray):
        a = a.array
    if isinstance(a, np.ndarray):
        return a
    if type(a).__module__.startswith("cupy") and hasattr(a, "get"):
        return a.get()
    if hasattr(a, "__array__") or hasattr(a, "__array_interface__"):
        return np.asarray(a)
    raise TypeError(f"an array is required (NumPy, CuPy, a kernelkit View or a PArray), got {type(a).__name__}")


def clone_here(source: Any, kind: Any = None) -> Any:
    """A copy of `source` on the running task's device (it must run on exactly one)."""
    ctx = get_current_context()
    if ctx is None:
        raise ValueError("clone_here() needs a running task: outside tasks there is no 'here' to copy to")
    devices = ctx.devices
    if len(devices) != 1:
        raise ValueError(
            f"clone_here() in a task on {len(devices)} devices is ambiguous; index the "
            "environment (get_current_context()[i]) and copy explicitly"
        )
    device = devices[0]()
    cp = cupy_module() if device.physical is not None else None
    if cp is None:
        return _host_array(source)
    from kernelkit.tasks.parray import PArray

    if isinstance(source, PArray):
        source = source.array
    if isinstance(source, cp.ndarray) and source.device.id == device.physical:
        return source
    with cp.cuda.Device(device.physical):
        if isinstance(source, cp.ndarray):
            out = cp.empty_like(source)
            out[...] = source  # a device-to-device copy on the task's stream
            return out
        return cp.asarray(_host_array(source))


def copy(destination: Any, source: Any) -> None:
    """`destination[...] = source` across NumPy and CuPy arrays (and scalars)."""
    from kernelkit.tasks.parray import PArray

    if isinstance(destination, PArray):
        destination = destination.array
    if isinstance(source, PArray):
        source = source.array
    try:
        if isinstance(destination, np.ndarray):
            destination[...] = _host_array(source) if not np.isscalar(source) else source
        elif _is_cupy(destination):
            cp = _cupy[0]
            with cp.cuda.Device(destination.device.id):
                destination[...] = source if _is_cupy(source) or np.isscalar(source) else cp.asarray(source)
        else:
            destination[...] = source
    except ValueError as e:
        raise ValueError(
            f"copy() failed: cannot copy a {getattr(source, 'shape', type(source).__name__)} array "
            f"into a {getattr(destination, 'shape', type(destination).__name__)} array: {e}"
        ) from None
