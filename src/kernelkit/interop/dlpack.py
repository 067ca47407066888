"""DLPack through ctypes: reading other libraries' capsules, and exporting kernelkit device memory.

The C structs of dlpack.h, legacy (`dltensor`) and versioned (`dltensor_versioned`) capsules. A capsule is never
consumed when read: keeping it alive keeps the memory alive, and its destructor calls the producer's deleter.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from kernelkit.errors import KernelTypeError
from kernelkit.interop.foreign import KDL_CUDA, Foreign, checked_dtype, checked_geometry


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
_capsule_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(("PyCapsule_GetPointer", _api))
_capsule_new = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)(
    ("PyCapsule_New", _api)
)
# Used from the capsule destructor, during deallocation: plain C calls (no Python error check), by address.
_capsule_is_valid_raw = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)(("PyCapsule_IsValid", _api))
_capsule_pointer_raw = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api)
)


def describe(capsule: Any, keep: Any, what: str) -> Foreign:
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
    dt = checked_dtype(np.dtype(f"{kind}{code.bits // 8}"), what)
    nd = t.ndim
    shape = tuple(int(t.shape[k]) for k in range(nd))
    strides = None if not t.strides else tuple(int(t.strides[k]) * dt.itemsize for k in range(nd))
    strides = checked_geometry(shape, strides, dt.itemsize, what)
    ptr = (t.data or 0) + t.byte_offset
    return Foreign(ptr, shape, strides, dt, readonly, int(t.device.device_id), None, (keep, capsule))


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


def capsule(owner: Any, ptr: int, device: int, shape: tuple[int, ...], strides: tuple[int, ...], dt: np.dtype) -> Any:
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
