"""Turning a launch's keyword arguments into kernel types (the slow path; the fast path is native/launch.c)."""

from __future__ import annotations

import numpy as np

from kernelkit import _native
from kernelkit.errors import KernelTypeError, KernelValueError, Loc
from kernelkit.frontend import scalar_type_of
from kernelkit.ir import types as T


def layout_of(a: np.ndarray) -> str:
    """The layout code of existing memory ('C', 'F' or 'A'), with the native launcher's precedence ('C' first)."""
    if a.flags.c_contiguous:
        return T.LAYOUT_RIGHT
    if a.flags.f_contiguous and a.ndim > 1:
        return T.LAYOUT_LEFT
    return T.LAYOUT_STRIDE


def host_array(name: str, value, loc: Loc | None, device: bool = False) -> np.ndarray | None:
    """The host ndarray behind a View or array-like argument (zero copy), or None for non-arrays. Only its
    metadata is used for typing: a View whose device copy is newer is not synced here."""
    if isinstance(value, _native.ViewBase):
        return value._array if value._array is not None else value._host(write=False)
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (bool, int, float, complex, np.generic)):
        return None
    if hasattr(value, "__array_interface__") or hasattr(value, "__array_struct__"):
        return np.asarray(value)
    if hasattr(value, "__cuda_array_interface__"):
        if device:
            return _cai_shadow(value)
        raise KernelTypeError(
            f"argument {name!r} is a GPU array ({type(value).__name__}); run the kernel on pk.Cuda or copy the "
            "array to the host first",
            loc,
        )
    return None


def _cai_shadow(value) -> np.ndarray:
    """A zero-byte stand-in with the dtype, shape and strides of a device array (for typing only)."""
    cai = value.__cuda_array_interface__
    dt = np.dtype(cai["typestr"])
    shape = tuple(cai["shape"])
    strides = cai.get("strides") or None
    base = np.empty(0, dtype=dt)
    if strides is None:
        strides = tuple(int(np.prod(shape[k + 1 :], dtype=np.int64)) * dt.itemsize for k in range(len(shape)))
    return np.lib.stride_tricks.as_strided(base, shape=shape, strides=strides, writeable=False)


def arg_type(name: str, value, loc: Loc | None, device: bool = False) -> tuple[T.Type, object]:
    """(kernel type, value to pass) for one argument; raises KernelTypeError for anything unsupported."""
    if getattr(value, "kind", None) in ("xorshift64", "xorshift1024") and isinstance(value, _native.ViewBase):
        return T.random_pool, value
    arr = host_array(name, value, loc, device)
    if arr is not None:
        st = T.from_numpy(arr.dtype) if arr.dtype.isnative else None
        if st is None:
            hint = (
                "byte-swapped arrays need .astype(dtype.newbyteorder('='))"
                if not arr.dtype.isnative
                else "supported: bool, int8..int64, uint8..uint64, float32, float64"
            )
            raise KernelTypeError(f"argument {name!r} has dtype {arr.dtype}, which kernels cannot use ({hint})", loc)
        if arr.ndim == 0 or arr.ndim > 8:
            raise KernelValueError(f"argument {name!r} has {arr.ndim} dimensions; Views have rank 1 to 8", loc)
        if not arr.flags.aligned:
            raise KernelValueError(
                f"argument {name!r} is not aligned for {arr.dtype}; pass a copy (np.ascontiguousarray) instead", loc
            )
        layout = layout_of(arr)
        if layout == T.LAYOUT_STRIDE and any(s % arr.itemsize for s in arr.strides):
            raise KernelValueError(
                f"argument {name!r} has strides {arr.strides} that are not multiples of its "
                f"item size {arr.itemsize}; pass np.ascontiguousarray(...) instead",
                loc,
            )
        # keep Views, arrays and device arrays themselves; other array-likes travel as their NumPy view
        keep = isinstance(value, (np.ndarray, _native.ViewBase)) or (
            device and hasattr(value, "__cuda_array_interface__")
        )
        atomic = bool(getattr(value, "_traits", 0) & _native.TRAIT_ATOMIC)
        return T.ViewType(st, arr.ndim, layout, atomic=atomic), (value if keep else arr)
    st = scalar_type_of(value)
    if st is None:
        what = type(value).__name__
        hint = " (a list: pass np.array(...) or a pk.View)" if isinstance(value, (list, tuple)) else ""
        raise KernelTypeError(
            f"argument {name!r} of type {what} cannot be passed to a kernel{hint}; kernels take "
            "Views, arrays and int/float/bool scalars",
            loc,
        )
    if isinstance(value, int) and not isinstance(value, bool) and not -(1 << 63) <= value < (1 << 63):
        raise KernelValueError(f"argument {name!r} = {value} does not fit in int64", loc)
    return st, value


def writable_check(name: str, value, loc: Loc | None) -> None:
    arr = value._array if isinstance(value, _native.ViewBase) else value
    if isinstance(arr, np.ndarray) and not arr.flags.writeable:
        raise KernelValueError(f"the kernel writes argument {name!r}, but that array is read-only", loc)


def param_descriptor(name: str, t: T.Type, value, writes: bool, apart: bool = False) -> tuple:
    """The launcher's description of one parameter (see Spec in _native.c). `apart`: the build assumes this
    written argument overlaps no other (the native matcher checks it on every launch)."""
    if isinstance(t, T.ViewType):
        code = (ord(t.dtype.np_dtype.kind) << 8) | t.dtype.itemsize
        traits = _native.TRAIT_ATOMIC if t.atomic else 0
        return ("a", name, code, t.rank, t.layout, bool(writes), traits, int(bool(writes and apart)))
    if isinstance(t, T.RandomPoolType):
        return ("a", name, (ord("u") << 8) | 8, 1, "C", True)
    conv = "f" if t.is_float else "b" if t.is_bool else "u" if t.kind == "u" else "i"
    return ("s", name, type(value), conv)
