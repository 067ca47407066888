"""Descriptions of GPU memory owned by other libraries (CUDA Array Interface v0-v3, DLPack)."""

from __future__ import annotations

from typing import Any

import numpy as np

from kernelkit.errors import KernelTypeError, KernelValueError
from kernelkit.ir import types as _types

KDL_CPU = 1
KDL_CUDA = 2
KDL_CUDA_MANAGED = 13


class Foreign:
    """Device memory owned by another library: element 0 at `ptr`, strides in bytes; `device` None means
    "ask the driver"; `stream` is the CUDA Array Interface v3 stream to synchronize before use; `keep` holds
    what keeps the memory alive."""

    __slots__ = ("ptr", "shape", "strides", "dtype", "readonly", "device", "stream", "keep")

    def __init__(
        self,
        ptr: int,
        shape: tuple[int, ...],
        strides: tuple[int, ...],
        dtype: np.dtype,
        readonly: bool,
        device: int | None,
        stream: int | None,
        keep: tuple[Any, ...],
    ):
        self.ptr = ptr
        self.shape = shape
        self.strides = strides
        self.dtype = dtype
        self.readonly = readonly
        self.device = device
        self.stream = stream
        self.keep = keep

    @property
    def elem_strides(self) -> tuple[int, ...]:
        return tuple(s // self.dtype.itemsize for s in self.strides)


def checked_dtype(dt: np.dtype, what: str) -> np.dtype:
    if _types.from_numpy(dt) is None:
        hint = (
            "byte-swapped data cannot be used"
            if dt.kind in "biuf" and not dt.isnative
            else "supported: bool, int8..int64, uint8..uint64, float32, float64"
        )
        raise KernelTypeError(f"{what} has dtype {dt}, which kernels cannot use ({hint})")
    return dt


def checked_geometry(
    shape: tuple[int, ...], strides: tuple[int, ...] | None, itemsize: int, what: str
) -> tuple[int, ...]:
    """Byte strides of a valid array description (C-contiguous ones when `strides` is None)."""
    if not 1 <= len(shape) <= 8:
        raise KernelValueError(f"{what} has {len(shape)} dimensions; Views have rank 1 to 8")
    if strides is None:
        out, acc = [], itemsize
        for n in reversed(shape):
            out.append(acc)
            acc *= max(n, 1)
        return tuple(reversed(out))
    if len(strides) != len(shape):
        raise KernelValueError(f"{what}: {len(strides)} strides for {len(shape)} dimensions")
    if any(s % itemsize for s in strides):
        raise KernelValueError(
            f"{what} has strides {tuple(strides)} that are not multiples of its item size {itemsize}"
        )
    return tuple(strides)


def cuda_array_interface(obj: Any) -> dict[str, Any] | None:
    """`obj.__cuda_array_interface__`, or None when it has none (e.g. a PyTorch CPU tensor)."""
    try:
        iface = obj.__cuda_array_interface__
    except AttributeError:
        return None
    return iface if isinstance(iface, dict) else None


def describe_cai(iface: dict[str, Any], keep: Any, what: str) -> Foreign:
    """A Foreign description from a CUDA Array Interface dict (versions 0 to 3)."""
    if iface.get("mask") is not None:
        raise KernelTypeError(f"{what} is a masked GPU array; Views have no mask")
    try:
        dt = np.dtype(iface["typestr"])
    except (KeyError, TypeError) as e:
        raise KernelTypeError(f"{what}: bad __cuda_array_interface__ typestr ({e})") from None
    checked_dtype(dt, what)
    shape = tuple(int(n) for n in iface["shape"])
    raw = iface.get("strides")
    strides = checked_geometry(shape, None if raw is None else tuple(int(s) for s in raw), dt.itemsize, what)
    ptr, readonly = iface["data"]
    stream = iface.get("stream") if int(iface.get("version", 0)) >= 3 else None
    return Foreign(int(ptr or 0), shape, strides, dt, bool(readonly), None, stream, (keep,))


def dlpack_device(obj: Any) -> tuple[int, int] | None:
    """`obj.__dlpack_device__()` as ints, or None for objects that do not speak DLPack."""
    fn = getattr(obj, "__dlpack_device__", None)
    if fn is None or not hasattr(obj, "__dlpack__"):
        return None
    dev = fn()
    return int(dev[0]), int(dev[1])


def foreign(obj: Any, what: str) -> Foreign | None:
    """Describe `obj` if it is a GPU array (`__cuda_array_interface__`, or a CUDA `__dlpack__`), else None."""
    iface = cuda_array_interface(obj)
    if iface is not None:
        return describe_cai(iface, obj, what)
    dev = dlpack_device(obj)
    if dev is not None and dev[0] in (KDL_CUDA, KDL_CUDA_MANAGED):
        from kernelkit.interop import dlpack

        return dlpack.describe(obj.__dlpack__(stream=None), obj, what)
    return None


def is_gpu_array(obj: object) -> bool:
    """True for another library's GPU array (`__cuda_array_interface__`, or a CUDA/managed `__dlpack__`)."""
    if hasattr(obj, "__cuda_array_interface__"):  # False for a PyTorch CPU tensor (the property raises)
        return True
    device = getattr(obj, "__dlpack_device__", None)
    if device is None or not hasattr(obj, "__dlpack__"):
        return False
    try:
        return int(device()[0]) in (2, 13)  # kDLCUDA, kDLCUDAManaged
    except Exception:  # a broken __dlpack_device__: let the host path report the problem
        return False
