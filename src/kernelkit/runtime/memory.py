"""Host/device coherence for Views: one host array, at most one device copy, flags that say which is current.

A root View (no `_parent`) owns its host array `_array`; a device copy, when it has one, mirrors the byte
layout of that array (the bytes it spans, same strides), so a subview's device address is the root's plus the
subview's host byte offset. The state lives in the native `_flags` bits, which the launchers read from C:

    flags                          host array              device copy
    0                              current                 none
    HOST_STALE (no HAS_DEVICE)     zeros, never touched    none (a CudaSpace View before its first use)
    HAS_DEVICE                     current                 current
    HAS_DEVICE | DEVICE_STALE      newer (a host write)    stale
    HAS_DEVICE | HOST_STALE        stale                   newer (a kernel or a zero-copy consumer wrote)

Data moves only here: `ensure_device` uploads when the host is newer, `sync_host` downloads when the device is
newer, `device_arg` copies NumPy arguments through temporary buffers, `copy` serves `pk.deep_copy`. `stats()`
counts every transfer, so tests can prove that a loop of launches moves nothing.

Copies are synchronous on the legacy default stream, which orders them after work queued on blocking streams;
work on non-blocking streams must be synchronized by whoever queued it before the host reads a View.
Device memory comes from the caching allocator (`driver.alloc`) and goes back to it when the root View is
garbage-collected. Memory wrapped from other libraries (CuPy, PyTorch, DLPack) is never freed here.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from kernelkit import _native
from kernelkit.backends.cuda import driver
from kernelkit.errors import KernelTypeError, KernelValueError
from kernelkit.ir import types as _types

__all__ = [
    "device_arg",
    "ensure_device",
    "sync_host",
    "mark_device_written",
    "release",
    "copy",
    "fill",
    "stats",
    "reset_stats",
]

HOST_STALE = _native.HOST_STALE
DEVICE_STALE = _native.DEVICE_STALE
HAS_DEVICE = _native.HAS_DEVICE
DERIVED = _native.DERIVED

KDL_CPU = 1
KDL_CUDA = 2
KDL_CUDA_MANAGED = 13

_lock = threading.RLock()  # state transitions of one View must not interleave (driver calls release the GIL)
_stats = {"h2d": 0, "d2h": 0, "d2d": 0, "h2d_bytes": 0, "d2h_bytes": 0, "d2d_bytes": 0}


def stats() -> dict[str, int]:
    """Transfers since the last `reset_stats()`: counts `h2d`, `d2h`, `d2d` and their `*_bytes`.

    >>> from kernelkit.runtime import memory
    >>> memory.reset_stats(); memory.stats()["h2d"]
    0
    """
    return dict(_stats)


def reset_stats() -> None:
    """Zero the transfer counters."""
    for k in _stats:
        _stats[k] = 0


def _count(kind: str, nbytes: int) -> None:
    _stats[kind] += 1
    _stats[kind + "_bytes"] += nbytes


# --- layouts ------------------------------------------------------------------------------------------------


def _span(shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int) -> tuple[int, int]:
    """(offset of the lowest byte relative to element 0 (<= 0), bytes spanned) of a strided array."""
    if any(n == 0 for n in shape):
        return 0, 0
    low = sum(min(0, (n - 1) * s) for n, s in zip(shape, strides, strict=True))
    high = sum(max(0, (n - 1) * s) for n, s in zip(shape, strides, strict=True))
    return low, high - low + itemsize


def _array_span(a: np.ndarray) -> tuple[int, int]:
    return _span(a.shape, a.strides, a.itemsize)


def _address(a: np.ndarray) -> int:
    return int(a.__array_interface__["data"][0])


def _contiguous(a: np.ndarray) -> bool:
    return bool(a.flags.c_contiguous or a.flags.f_contiguous)


def dtcode(dt: np.dtype) -> int:
    """The launcher's dtype code: `(ord(kind) << 8) | itemsize`."""
    return (ord(dt.kind) << 8) | dt.itemsize


def _elem_strides(a: np.ndarray) -> tuple[int, ...]:
    return tuple(s // a.itemsize for s in a.strides)


def _root(view: Any) -> Any:
    while True:
        parent = getattr(view, "_parent", None)
        if parent is None:
            return view
        view = parent


# --- device copies ------------------------------------------------------------------------------------------


class _DeviceCopy:
    """The device copy of a root View: `base` is the span's first byte, element 0 is at `base + offset`."""

    __slots__ = ("base", "offset", "nbytes", "device", "generation", "owned", "finalizer", "keep")

    def __init__(
        self, base: int, offset: int, nbytes: int, device: int, generation: int, owned: bool, keep: Any = None
    ):
        self.base = base
        self.offset = offset
        self.nbytes = nbytes
        self.device = device
        self.generation = generation
        self.owned = owned  # False for memory wrapped from another library: never freed here
        self.finalizer: weakref.finalize | None = None
        self.keep = keep  # the foreign object (and DLPack capsule) whose memory this is

    @property
    def ptr(self) -> int:
        return self.base + self.offset


def _generation() -> int:
    return getattr(driver, "_generation", 0)


def _free_block(ptr: int, generation: int) -> None:
    # Runs from a finalizer: after driver.use_library() the block belongs to a forgotten allocator.
    if generation != _generation():
        return
    try:
        driver.free(ptr)
    except Exception:  # interpreter shutdown or a dead context: nothing useful to do in a finalizer
        pass


def _record(view: Any) -> _DeviceCopy | None:
    """The live device copy of a root View, dropping one left over from another driver library."""
    rec: _DeviceCopy | None = view.__dict__.get("_dmem")
    if rec is not None and rec.generation != _generation():
        _forget(view, rec)
        view._flags &= ~(HOST_STALE | DEVICE_STALE | HAS_DEVICE)
        return None
    return rec


def _forget(view: Any, rec: _DeviceCopy) -> None:
    if rec.finalizer is not None:
        rec.finalizer()  # frees the block once
    view._dmem = None
    arr = view._array
    view._set_device(0, 0, arr.shape, _elem_strides(arr), dtcode(arr.dtype))


class _on_device:
    """Make `device` current for the copies in a block, restoring the caller's device afterwards."""

    def __init__(self, device: int):
        self.device = device
        self.previous: driver.Device | None = None

    def __enter__(self) -> None:
        cur = driver.current_device()
        if cur.ordinal != self.device:
            self.previous = cur
            driver.Device(self.device).set_current()

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            self.previous.set_current()


def _upload(arr: np.ndarray, base: int, device: int) -> None:
    low, nbytes = _array_span(arr)
    if nbytes == 0:
        return
    with _on_device(device):
        # the span's gaps (a strided host array) travel too: harmless on the device, cheaper than packing
        driver.memcpy_htod(base, arr if _contiguous(arr) else _address(arr) + low, nbytes)
    _count("h2d", nbytes)


def _download(arr: np.ndarray, base: int, device: int) -> None:
    low, nbytes = _array_span(arr)
    if nbytes == 0:
        return
    with _on_device(device):
        if _contiguous(arr):
            driver.memcpy_dtoh(arr, base, nbytes)
        else:
            # never write the gaps of a strided host array: they may be another array's memory
            tmp = np.empty(nbytes, dtype=np.uint8)
            driver.memcpy_dtoh(tmp, base, nbytes)
            np.copyto(arr, np.ndarray(arr.shape, arr.dtype, buffer=tmp, offset=-low, strides=arr.strides))
    _count("d2h", nbytes)


def _allocate(view: Any, device: int) -> _DeviceCopy:
    arr = view._array
    low, nbytes = _array_span(arr)
    with _on_device(device):  # the allocator makes its device current: keep the caller's
        base = driver.alloc(nbytes, device)
    gen = _generation()
    rec = _DeviceCopy(base, -low, nbytes, device, gen, True)
    rec.finalizer = weakref.finalize(view, _free_block, base, gen)
    rec.finalizer.atexit = False
    view._dmem = rec
    view._set_device(rec.ptr, device, arr.shape, _elem_strides(arr), dtcode(arr.dtype))
    return rec


def _ensure(view: Any, device: int, contents: bool = True) -> _DeviceCopy:
    """The current device copy of a root View on `device`; `contents=False` when the caller overwrites it
    entirely (nothing is uploaded or zeroed; the flags then say the device is newer)."""
    with _lock:
        rec = _record(view)
        flags = view._flags
        if rec is not None and rec.device != device:
            if not rec.owned:
                raise KernelValueError(
                    f"this View wraps memory of GPU {rec.device}; it cannot be used on GPU {device} without "
                    "a copy (pk.deep_copy into a View there)"
                )
            if flags & HOST_STALE:
                _download(view._array, rec.base, rec.device)
            _forget(view, rec)
            rec = None
            flags &= ~(HOST_STALE | DEVICE_STALE | HAS_DEVICE)
        if rec is None:
            rec = _allocate(view, device)
            if not contents:
                flags = HAS_DEVICE | HOST_STALE
            elif flags & HOST_STALE:  # a CudaSpace View never touched on the host: zeros on both sides
                with _on_device(device):
                    driver.memset_d8(rec.base, 0, rec.nbytes)
                flags = HAS_DEVICE
            else:
                _upload(view._array, rec.base, device)
                flags = HAS_DEVICE
        elif not contents:
            flags = HAS_DEVICE | HOST_STALE
        elif flags & DEVICE_STALE or not flags & HAS_DEVICE:
            _upload(view._array, rec.base, device)
            flags = (flags & ~(DEVICE_STALE | HOST_STALE)) | HAS_DEVICE
        view._flags = flags
        return rec


def ensure_device(view: Any, device: int = 0) -> int:
    """Make the device copy of `view` current on GPU `device` and return the device address of its element 0.

    A root View gets its buffer on first use (zero-filled for a CudaSpace View never touched on the host,
    else uploaded), is uploaded again only when the host is newer (DEVICE_STALE), and is migrated from
    another GPU (downloading first when that copy is newer). Afterwards HAS_DEVICE is set, DEVICE_STALE
    clear, and `_dptr`/`_ddevice` describe the copy for the launcher. For a subview, the root's copy is
    ensured and the subview's address inside it returned.
    """
    root = _root(view)
    rec = _ensure(root, device)
    if root is view:
        return rec.ptr
    return rec.ptr + (_address(view._array) - _address(root._array))


def sync_host(view: Any) -> None:
    """Bring the host array of `view` (a root View, or a subview through its root) up to date: download into
    the existing `_array` (never rebound) when the device copy is newer, then clear HOST_STALE."""
    root = _root(view)
    with _lock:
        if root._flags & HOST_STALE:
            rec = _record(root)
            if rec is not None and root._flags & HAS_DEVICE:
                _download(root._array, rec.base, rec.device)
            root._flags &= ~HOST_STALE
        if root is not view:
            view._flags &= ~HOST_STALE


def mark_device_written(view: Any) -> None:
    """Record that the device copy was written (by a kernel or a zero-copy consumer): the host is stale."""
    root = _root(view)
    root._flags = (root._flags | HOST_STALE) & ~DEVICE_STALE
    if root is not view:
        view._flags |= HOST_STALE  # so the native host paths call _sync_host for this subview too


def release(view: Any) -> None:
    """Free the device copy of a root View, downloading it first when it is newer than the host."""
    root = _root(view)
    with _lock:
        rec = _record(root)
        if rec is None:
            return
        if root._flags & HOST_STALE and root._flags & HAS_DEVICE:
            _download(root._array, rec.base, rec.device)
        _forget(root, rec)
        root._flags &= ~(HOST_STALE | DEVICE_STALE | HAS_DEVICE)


def device_copy(view: Any) -> tuple[int, int] | None:
    """(device, address of element 0) of the live device copy of `view`'s root, or None."""
    root = _root(view)
    rec = _record(root)
    if rec is None:
        return None
    return rec.device, rec.ptr + (_address(view._array) - _address(root._array))


def export_device(view: Any, device: int | None = None) -> tuple[int, int]:
    """(device, address of element 0) of `view` for a zero-copy consumer (`__cuda_array_interface__`,
    `__dlpack__`): ensures the device copy (where it already lives, else on `device`, else the current GPU)
    and marks it written, since the consumer may write."""
    root = _root(view)
    rec = _record(root)
    if device is None:
        device = rec.device if rec is not None else driver.current_device().ordinal
    ptr = ensure_device(view, device)
    mark_device_written(view)
    return device, ptr


# --- foreign device arrays ----------------------------------------------------------------------------------


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


def _checked_dtype(dt: np.dtype, what: str) -> np.dtype:
    if _types.from_numpy(dt) is None:
        hint = (
            "byte-swapped data cannot be used"
            if dt.kind in "biuf" and not dt.isnative
            else "supported: bool, int8..int64, uint8..uint64, float32, float64"
        )
        raise KernelTypeError(f"{what} has dtype {dt}, which kernels cannot use ({hint})")
    return dt


def _checked_geometry(
    shape: tuple[int, ...], strides: tuple[int, ...] | None, itemsize: int, what: str
) -> tuple[int, ...]:
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
    _checked_dtype(dt, what)
    shape = tuple(int(n) for n in iface["shape"])
    raw = iface.get("strides")
    strides = _checked_geometry(shape, None if raw is None else tuple(int(s) for s in raw), dt.itemsize, what)
    ptr, readonly = iface["data"]
    stream = iface.get("stream") if int(iface.get("version", 0)) >= 3 else None
    return Foreign(int(ptr or 0), shape, strides, dt, bool(readonly), None, stream, (keep,))


# DLPack, through ctypes: the C structs of dlpack.h
class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device", _DLDevice),
        ("ndim", ctypes.c_int32),
        ("dtype", _DLDataType),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


class _DLManagedTensor(ctypes.Structure):
    pass


_DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_DLManagedTensor._fields_ = [
    ("dl_tensor", _DLTensor),
    ("manager_ctx", ctypes.c_void_p),
    ("deleter", _DELETER),
]


class _DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [
        ("major", ctypes.c_uint32),
        ("minor", ctypes.c_uint32),
        ("manager_ctx", ctypes.c_void_p),
        ("deleter", _DELETER),
        ("flags", ctypes.c_uint64),
        ("dl_tensor", _DLTensor),
    ]


_DL_CODES = {0: "i", 1: "u", 2: "f", 6: "b"}  # kDLInt, kDLUInt, kDLFloat, kDLBool
_DL_KINDS = {"i": 0, "u": 1, "f": 2, "b": 6}
_DL_READ_ONLY = 1
_NAME = b"dltensor"
_NAME_VERSIONED = b"dltensor_versioned"

# Private prototypes: setting argtypes on the shared ctypes.pythonapi functions would change them for all.
_api = ctypes.pythonapi
_capsule_name = ctypes.PYFUNCTYPE(ctypes.c_char_p, ctypes.py_object)(("PyCapsule_GetName", _api))
_capsule_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api)
)
_capsule_new = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)(
    ("PyCapsule_New", _api)
)
# Used from the capsule destructor, during deallocation: plain C calls (no Python error check), by address.
_capsule_is_valid_raw = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_IsValid", _api)
)
_capsule_pointer_raw = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api)
)


def describe_dlpack(capsule: Any, keep: Any, what: str) -> Foreign:
    """A Foreign description from a DLPack capsule (legacy or versioned) of device memory. The capsule is not
    consumed: keeping it alive (in `keep`) keeps the memory alive, and its destructor calls the producer's
    deleter."""
    name = _capsule_name(capsule)
    if name == _NAME:
        t = _DLManagedTensor.from_address(_capsule_pointer(capsule, _NAME)).dl_tensor
        readonly = False
    elif name == _NAME_VERSIONED:
        m = _DLManagedTensorVersioned.from_address(_capsule_pointer(capsule, _NAME_VERSIONED))
        if m.major != 1:
            raise KernelTypeError(f"{what}: DLPack version {m.major}.{m.minor} is not supported")
        t, readonly = m.dl_tensor, bool(m.flags & _DL_READ_ONLY)
    else:
        raise KernelTypeError(f"{what}: __dlpack__ returned a capsule named {name!r}, not a DLPack tensor")
    code = t.dtype
    kind = _DL_CODES.get(code.code)
    if kind is None or code.lanes != 1 or code.bits % 8:
        raise KernelTypeError(
            f"{what} has DLPack dtype (code {code.code}, {code.bits} bits, {code.lanes} lanes), which "
            "kernels cannot use (supported: bool, int8..int64, uint8..uint64, float32, float64)"
        )
    dt = _checked_dtype(np.dtype(f"{kind}{code.bits // 8}"), what)
    nd = t.ndim
    shape = tuple(int(t.shape[k]) for k in range(nd))
    strides = None if not t.strides else tuple(int(t.strides[k]) * dt.itemsize for k in range(nd))
    strides = _checked_geometry(shape, strides, dt.itemsize, what)
    ptr = (t.data or 0) + t.byte_offset
    return Foreign(ptr, shape, strides, dt, readonly, int(t.device.device_id), None, (keep, capsule))


def foreign(obj: Any, what: str) -> Foreign | None:
    """Describe `obj` if it is a GPU array (`__cuda_array_interface__`, or a CUDA `__dlpack__`), else None."""
    iface = cuda_array_interface(obj)
    if iface is not None:
        return describe_cai(iface, obj, what)
    dev = _dlpack_device(obj)
    if dev is not None and dev[0] in (KDL_CUDA, KDL_CUDA_MANAGED):
        return describe_dlpack(obj.__dlpack__(stream=None), obj, what)
    return None


def _dlpack_device(obj: Any) -> tuple[int, int] | None:
    fn = getattr(obj, "__dlpack_device__", None)
    if fn is None or not hasattr(obj, "__dlpack__"):
        return None
    dev = fn()
    return int(dev[0]), int(dev[1])


def _device_of(ptr: int) -> int:
    dev = driver.pointer_device(ptr) if ptr else None
    return driver.current_device().ordinal if dev is None else dev


def _synchronize_stream(stream: Any) -> None:
    # CUDA Array Interface v3: the producer's pending work on `stream` must finish before the consumer uses it
    if isinstance(stream, int) and stream != 0:
        driver.Stream.wrap(stream).synchronize()


def attach_foreign(view: Any, f: Foreign, device: int) -> None:
    """Make `view` (a root View whose `_array` is a host shadow with the same byte layout) a wrapper of the
    foreign memory: HAS_DEVICE | HOST_STALE, `_set_device` from the description, never freed by us."""
    low, nbytes = _span(f.shape, f.strides, f.dtype.itemsize)
    rec = _DeviceCopy(f.ptr + low, -low, nbytes, device, _generation(), False, f.keep)
    view._dmem = rec
    view._set_device(f.ptr, device, f.shape, f.elem_strides, dtcode(f.dtype))
    view._flags = HAS_DEVICE | HOST_STALE


# --- kernel arguments ---------------------------------------------------------------------------------------


def _described(ptr: int, device: int, shape: tuple[int, ...], strides: tuple[int, ...], code: int) -> Any:
    # a bare description: no host array, and not DERIVED, so that the native launcher takes its `_dptr`
    vb = _native.ViewBase()
    vb._flags = HAS_DEVICE
    vb._set_device(ptr, device, shape, strides, code)
    return vb


def device_arg(name: str, value: Any, device: int, writes: bool) -> tuple[Any, Callable[[], None] | None]:
    """What a CUDA launch on GPU `device` passes for argument `name`, and what to call after the launch.

    - a root View: its device copy made current (`ensure_device`), no callback;
    - a subview: a fresh bare ViewBase describing its region of the root's device copy (`_set_device` only,
      flags HAS_DEVICE); the callback marks the root (and the subview) written when `writes`;
    - a NumPy (or other host) array: copied to a temporary device buffer, as PyKokkos does (slow: prefer
      Views); the callback copies it back when `writes` and frees the buffer;
    - a GPU array (`__cuda_array_interface__`: CuPy, PyTorch, Numba; or a CUDA `__dlpack__`): described in
      place, zero copy, no callback.
    """
    if isinstance(value, _native.ViewBase):
        if type(value) is _native.ViewBase:
            return value, None  # a bare device description (from this function): passed as is
        parent = getattr(value, "_parent", None)
        if parent is None:
            rec = _record(value)
            if rec is not None and not rec.owned and rec.device != device:
                raise KernelValueError(
                    f"argument {name!r} wraps memory of GPU {rec.device}, but the kernel runs on GPU "
                    f"{device}; copy it there first (pk.deep_copy into a View on that GPU)"
                )
            ensure_device(value, device)
            return value, None
        root = _root(value)
        ptr = ensure_device(root, device) + (_address(value._array) - _address(root._array))
        arr = value._array
        vb = _described(ptr, device, arr.shape, _elem_strides(arr), dtcode(arr.dtype))
        if not writes:
            return vb, None
        return vb, lambda: mark_device_written(value)
    what = f"argument {name!r}"
    if isinstance(value, np.ndarray):
        return _temporary(value, device, writes, what)
    f = foreign(value, what)
    if f is not None:
        if writes and f.readonly:
            raise KernelValueError(f"the kernel writes {what}, but that GPU array is read-only")
        home = f.device if f.device is not None else _device_of(f.ptr)
        if home != device:
            raise KernelValueError(
                f"{what} is in the memory of GPU {home}, but the kernel runs on GPU {device}; "
                "copy it there first"
            )
        _synchronize_stream(f.stream)
        return _described(f.ptr, device, f.shape, f.elem_strides, dtcode(f.dtype)), None
    dev: tuple[int, int] | None = _dlpack_device(value) if hasattr(value, "__dlpack__") else None
    if dev is not None and dev[0] == KDL_CPU:
        return _temporary(np.from_dlpack(value), device, writes, what)
    if dev is None and (hasattr(value, "__array_interface__") or hasattr(value, "__array_struct__")):
        return _temporary(np.asarray(value), device, writes, what)
    if dev is not None:
        raise KernelTypeError(
            f"{what} ({type(value).__name__}) is memory of DLPack device type {dev[0]}, which a CUDA kernel "
            "cannot use; pass a View, a NumPy array or a CUDA array"
        )
    raise KernelTypeError(
        f"{what} of type {type(value).__name__} is not an array a CUDA kernel can use; pass a View, a NumPy "
        "array, or a GPU array with __cuda_array_interface__ or __dlpack__"
    )


def _temporary(arr: np.ndarray, device: int, writes: bool, what: str) -> tuple[Any, Callable[[], None]]:
    _checked_dtype(arr.dtype, what)
    _checked_geometry(arr.shape, arr.strides, arr.itemsize, what)
    if not arr.flags.aligned:
        raise KernelValueError(
            f"{what} is not aligned for {arr.dtype}; pass np.ascontiguousarray(...) instead"
        )
    if writes and not arr.flags.writeable:
        raise KernelValueError(f"the kernel writes {what}, but that array is read-only")
    low, nbytes = _array_span(arr)
    with _on_device(device):
        base = driver.alloc(nbytes, device)
    gen = _generation()
    try:
        _upload(arr, base, device)
    except BaseException:
        driver.free(base)
        raise
    vb = _described(base - low, device, arr.shape, _elem_strides(arr), dtcode(arr.dtype))

    def done() -> None:
        try:
            if writes:
                _download(arr, base, device)
        finally:
            _free_block(base, gen)

    return vb, done


# --- deep_copy ----------------------------------------------------------------------------------------------


def _usable() -> bool:
    return driver.available()[0]


def _region(view: Any) -> tuple[Any, np.ndarray, int]:
    """(root, host array of the view, byte offset of its span start from the root's element 0)."""
    root = _root(view)
    arr = view._array
    low, _ = _array_span(arr)
    return root, arr, _address(arr) + low - _address(root._array)


def copy(dst: Any, src: Any, device_home: bool) -> bool:
    """Copy `src` into `dst` (Views or NumPy arrays) without staging through host arrays when the source's
    current data is on a GPU or the destination lives there; True when done, False to let the caller copy
    on the host.

    Applies when both sides hold the same dtype in the same contiguous byte layout: device to device
    (memcpy_dtod) when the source's device copy is current and the destination lives on a GPU
    (`device_home`: a CudaSpace View) or already has a copy on that GPU; device to host when the source's
    device copy is newer than its host array; host to device when the destination is a whole CudaSpace View.
    """
    is_view = isinstance(dst, _native.ViewBase)
    d_arr = dst._array if is_view else dst if isinstance(dst, np.ndarray) else None
    s_arr = src._array if isinstance(src, _native.ViewBase) else src if isinstance(src, np.ndarray) else None
    if (
        d_arr is None
        or s_arr is None
        or d_arr.dtype != s_arr.dtype
        or d_arr.shape != s_arr.shape
        or d_arr.strides != s_arr.strides
        or not _contiguous(d_arr)
        or not d_arr.flags.writeable
        or d_arr.size == 0
    ):
        return False
    nbytes = d_arr.nbytes
    with _lock:
        d_root, d_rec, d_off = None, None, 0
        if is_view:
            d_root, _, d_off = _region(dst)
            d_rec = _record(d_root)
        if isinstance(src, _native.ViewBase):
            s_root, _, s_off = _region(src)
            s_rec = _record(s_root)
            if s_rec is not None and s_root._flags & HAS_DEVICE and not s_root._flags & DEVICE_STALE:
                if s_root is d_root:
                    return False  # one buffer: NumPy handles overlapping copies on the host
                same_gpu = d_rec is not None and d_rec.device == s_rec.device
                if is_view and (same_gpu or (device_home and d_rec is None and _usable())):
                    d_rec = _ensure(d_root, s_rec.device, contents=dst is not d_root)
                    with _on_device(s_rec.device):
                        driver.memcpy_dtod(d_rec.ptr + d_off, s_rec.ptr + s_off, nbytes)
                    _count("d2d", nbytes)
                    mark_device_written(dst)
                    return True
                if s_root._flags & HOST_STALE:
                    host = dst._host(write=True) if is_view else dst
                    with _on_device(s_rec.device):
                        driver.memcpy_dtoh(host, s_rec.ptr + s_off, nbytes)
                    _count("d2h", nbytes)
                    return True
            elif s_rec is not None and s_root._flags & HOST_STALE:
                return False
        if is_view and device_home and dst is d_root and (d_rec is not None or _usable()):
            # host to device: the whole destination is overwritten; its host array becomes stale
            device = d_rec.device if d_rec is not None else driver.current_device().ordinal
            d_rec = _ensure(d_root, device, contents=False)
            _upload(s_arr, d_rec.base, device)
            mark_device_written(dst)
            return True
    return False


def fill(view: Any, value: Any) -> bool:
    """Fill a whole root CudaSpace View on its GPU with cuMemset when the value's bytes allow it (a byte
    pattern, or a 4-byte pattern: 0, -1, 1.0f, ...); True when done. The host array becomes stale."""
    arr = view._array
    if arr is None or not _contiguous(arr) or arr.size == 0 or not arr.flags.writeable:
        return False
    raw = np.asarray(value, dtype=arr.dtype).tobytes()
    if len(set(raw)) == 1:
        words = None
    elif len(raw) in (4, 8) and raw[:4] * (len(raw) // 4) == raw:
        words = int.from_bytes(raw[:4], sys.byteorder)
    else:
        return False
    with _lock:
        rec = _record(view)
        if rec is None and not _usable():
            return False
        device = rec.device if rec is not None else driver.current_device().ordinal
        rec = _ensure(view, device, contents=False)
        with _on_device(device):
            if words is None:
                driver.memset_d8(rec.base, raw[0], rec.nbytes)
            else:
                driver.memset_d32(rec.base, words, rec.nbytes // 4)
        mark_device_written(view)
    return True


def usable() -> bool:
    """True when a CUDA device can be used (loads the driver on first call)."""
    return _usable()


def device_of(ptr: int) -> int:
    """The GPU whose memory `ptr` points into (the current GPU when the driver cannot tell)."""
    return _device_of(ptr)


def synchronize_stream(stream: Any) -> None:
    """Wait for a CUDA Array Interface v3 producer stream (None, 0: nothing to wait for)."""
    _synchronize_stream(stream)


# --- DLPack export ------------------------------------------------------------------------------------------

# managed-tensor address -> the ctypes objects it points into and the View that owns the memory; an entry
# lives until the consumer calls the deleter, or until the capsule dies unconsumed
_EXPORTS: dict[int, tuple[Any, ...]] = {}


@_DELETER
def _dl_deleter(address: int | None) -> None:
    if address:
        _EXPORTS.pop(address, None)


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _capsule_destructor(capsule: int | None) -> None:
    # Runs while the capsule is deallocated: only raw C calls on it. A consumer renames the capsule
    # ("used_dltensor") and calls the deleter itself; an unconsumed one is deleted here.
    if capsule and _capsule_is_valid_raw(capsule, _NAME):
        address = _capsule_pointer_raw(capsule, _NAME)
        if address:
            _EXPORTS.pop(address, None)


_DESTRUCTOR_ADDRESS = ctypes.cast(_capsule_destructor, ctypes.c_void_p).value


def dlpack_capsule(
    owner: Any, ptr: int, device: int, shape: tuple[int, ...], strides: tuple[int, ...], dt: np.dtype
) -> Any:
    """A "dltensor" capsule describing device memory at `ptr` (element 0; strides in elements) on GPU
    `device`; `owner` is kept alive until the consumer calls the deleter (or the capsule dies unused)."""
    nd = len(shape)
    shp = (ctypes.c_int64 * nd)(*shape)
    st = (ctypes.c_int64 * nd)(*strides)
    m = _DLManagedTensor()
    t = m.dl_tensor
    t.data = ptr or None
    t.device = _DLDevice(KDL_CUDA, device)
    t.ndim = nd
    t.dtype = _DLDataType(_DL_KINDS[dt.kind], dt.itemsize * 8, 1)
    t.shape = ctypes.cast(shp, ctypes.POINTER(ctypes.c_int64))
    t.strides = ctypes.cast(st, ctypes.POINTER(ctypes.c_int64))
    t.byte_offset = 0
    m.manager_ctx = None
    m.deleter = _dl_deleter
    address = ctypes.addressof(m)
    _EXPORTS[address] = (m, shp, st, owner)
    return _capsule_new(address, _NAME, _DESTRUCTOR_ADDRESS)
