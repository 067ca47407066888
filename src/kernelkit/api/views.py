"""Views: Kokkos' multidimensional arrays, PyKokkos-compatible, zero-copy with NumPy.

A View owns (or wraps) a host NumPy array in `_array` and carries coherence flags in `_flags`, both slots of
the native base `kernelkit._native.ViewBase`, so the launcher reads them from C without Python overhead. Every
host access goes through `View._host()`, the one place where the host copy is brought up to date (and a device
copy marked stale by a write); `kernelkit.runtime.coherence` owns which copy is current.

Memory spaces: a `CudaSpace` View is device-resident from birth. Its host array comes from calloc (the OS maps
zero pages lazily, so an unused host copy costs neither memory nor time, and never shows garbage); its device
buffer is allocated and zero-filled on first GPU use. `CudaUVMSpace` has exactly the semantics of `CudaSpace`
(explicit device memory and coherence, never managed memory). A `HostSpace` View lives on the host and gains a
device copy when a CUDA kernel uses it. Without a usable GPU, CudaSpace Views simply live on the host.
"""

from __future__ import annotations

import ctypes
import enum
import math
from collections.abc import Iterator, Sequence
from typing import Any, SupportsIndex

import numpy as np

from kernelkit import _native
from kernelkit.errors import KernelTypeError, KernelValueError
from kernelkit.interop import dlpack
from kernelkit.ir import types as _types
from kernelkit.ir.types import ScalarType
from kernelkit.runtime import coherence
from kernelkit.runtime.args import layout_of

__all__ = [
    "View",
    "Layout",
    "LayoutRight",
    "LayoutLeft",
    "LayoutStride",
    "LayoutDefault",
    "MemorySpace",
    "HostSpace",
    "CudaSpace",
    "CudaUVMSpace",
    "MemorySpaceDefault",
    "Trait",
    "Atomic",
    "RandomAccess",
    "Restrict",
    "Unmanaged",
    "TraitDefault",
    "ALL",
    "subview",
    "asarray",
    "from_numpy",
    "array",
    "deep_copy",
    "create_mirror_view",
    "create_mirror",
]

MAX_RANK = 8
ALIGNMENT = 64  # bytes: a cache line, and enough for any SIMD load the backends emit


class Layout(enum.Enum):
    """How a View's indices map to memory (Kokkos layouts).

    >>> import kernelkit.api.views as v
    >>> v.LayoutLeft.code, v.LayoutRight.code, v.LayoutStride.code
    ('F', 'C', 'A')
    """

    LayoutRight = "LayoutRight"  # row-major: the last index is contiguous
    LayoutLeft = "LayoutLeft"  # column-major: the first index is contiguous
    LayoutStride = "LayoutStride"  # arbitrary strides, e.g. a strided subview
    LayoutDefault = "LayoutDefault"  # resolved per memory space when a View is allocated

    @property
    def code(self) -> str:
        """The layout letter used by NumPy and by the kernel signatures: 'C', 'F' or 'A'."""
        return _LAYOUT_CODES[self]

    def __repr__(self) -> str:
        return f"pk.{self.name}"


_LAYOUT_CODES = {
    Layout.LayoutRight: _types.LAYOUT_RIGHT,
    Layout.LayoutLeft: _types.LAYOUT_LEFT,
    Layout.LayoutStride: _types.LAYOUT_STRIDE,
    Layout.LayoutDefault: _types.LAYOUT_RIGHT,  # every View's storage is on the host for now
}
_LAYOUTS_BY_CODE = {
    _types.LAYOUT_RIGHT: Layout.LayoutRight,
    _types.LAYOUT_LEFT: Layout.LayoutLeft,
    _types.LAYOUT_STRIDE: Layout.LayoutStride,
}


class MemorySpace(enum.Enum):
    """Where a View's memory lives (Kokkos memory spaces).

    >>> import kernelkit.api.views as v
    >>> v.View([4], space=v.HostSpace).space
    pk.HostSpace
    """

    HostSpace = "HostSpace"
    CudaSpace = "CudaSpace"
    CudaUVMSpace = "CudaUVMSpace"
    MemorySpaceDefault = "MemorySpaceDefault"

    def __repr__(self) -> str:
        return f"pk.{self.name}"


class Trait(enum.Enum):
    """Memory access traits of a View (Kokkos memory traits); recorded for the compiler.

    >>> import kernelkit.api.views as v
    >>> v.View([4], trait=v.Atomic).trait
    pk.Atomic
    """

    Atomic = "Atomic"
    RandomAccess = "RandomAccess"
    Restrict = "Restrict"
    Unmanaged = "Unmanaged"
    TraitDefault = "TraitDefault"

    def __repr__(self) -> str:
        return f"pk.{self.name}"


LayoutRight = Layout.LayoutRight
LayoutLeft = Layout.LayoutLeft
LayoutStride = Layout.LayoutStride
LayoutDefault = Layout.LayoutDefault
HostSpace = MemorySpace.HostSpace
CudaSpace = MemorySpace.CudaSpace
CudaUVMSpace = MemorySpace.CudaUVMSpace
MemorySpaceDefault = MemorySpace.MemorySpaceDefault
Atomic = Trait.Atomic
RandomAccess = Trait.RandomAccess
Restrict = Trait.Restrict
Unmanaged = Trait.Unmanaged
TraitDefault = Trait.TraitDefault

ALL = slice(None)
"""Kokkos::ALL: the whole extent of a dimension, for `subview(v, ALL, 3)`."""

_CUDA_SPACES = (MemorySpace.CudaSpace, MemorySpace.CudaUVMSpace)


# --- argument checking --------------------------------------------------------------------------------------


_lazy: dict[str, Any] = {}


def _default_memory_space() -> MemorySpace:
    """The default execution space's memory: CudaSpace when that space is pk.Cuda, else HostSpace."""
    get_default = _lazy.get("default_space")
    if get_default is None:
        from kernelkit.api.spaces import get_default_space  # lazily: spaces imports the backends

        get_default = _lazy["default_space"] = get_default_space
    return MemorySpace.CudaSpace if get_default().backend_name == "cuda" else MemorySpace.HostSpace


def _resolve_space(space: object) -> MemorySpace:
    if space is None or space is MemorySpace.MemorySpaceDefault:
        return _default_memory_space()
    if not isinstance(space, MemorySpace):
        raise KernelTypeError(
            f"space={space!r} is not a memory space; use one of " + ", ".join(f"pk.{m.name}" for m in MemorySpace)
        )
    return space


def _resolve_layout(layout: object, space: MemorySpace) -> Layout:
    if layout is None or layout is Layout.LayoutDefault:
        # Kokkos' default: LayoutLeft in GPU memory (coalesced when the first index is the thread index)
        return Layout.LayoutLeft if space in _CUDA_SPACES else Layout.LayoutRight
    if not isinstance(layout, Layout):
        raise KernelTypeError(
            f"layout={layout!r} is not a layout; use pk.LayoutRight, pk.LayoutLeft or pk.LayoutDefault"
        )
    if layout is Layout.LayoutStride:
        raise KernelValueError(
            "a View cannot be allocated with pk.LayoutStride; allocate with pk.LayoutRight or pk.LayoutLeft "
            "(strided Views come from subviews and from wrapping strided arrays with pk.asarray)"
        )
    return layout


def _resolve_trait(trait: object) -> Trait:
    if trait is None:
        return Trait.TraitDefault
    if not isinstance(trait, Trait):
        raise KernelTypeError(
            f"trait={trait!r} is not a memory trait; use one of " + ", ".join(f"pk.{t.name}" for t in Trait)
        )
    return trait


def _resolve_dtype(dtype: object) -> ScalarType:
    try:
        return _types.as_scalar_type(dtype)
    except TypeError as e:
        raise KernelTypeError(f"invalid View dtype: {e}") from None


def _extent(x: object, shape: object) -> int:
    if isinstance(x, (bool, np.bool_)):
        raise KernelTypeError(f"View extents must be integers, not bool; got shape {shape!r}")
    try:
        n = int(x.__index__())  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        raise KernelTypeError(f"View extents must be integers; got {x!r} in shape {shape!r}") from None
    if n < 0:
        raise KernelValueError(f"View extents must be >= 0; got {n} in shape {shape!r}")
    return n


def _check_rank(rank: int, shape: object) -> None:
    if not 1 <= rank <= MAX_RANK:
        raise KernelValueError(f"a View has rank 1 to {MAX_RANK}; got rank {rank} (shape {shape!r})")


def _normalize_shape(shape: object) -> tuple[int, ...]:
    if hasattr(shape, "__index__") and not isinstance(shape, np.ndarray):
        dims: tuple[int, ...] = (_extent(shape, shape),)
    elif isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise KernelTypeError(f"a View shape is an int or a list/tuple of ints; got {shape!r}")
    else:
        dims = tuple(_extent(x, shape) for x in shape)  # type: ignore[attr-defined]
    _check_rank(len(dims), shape)
    return dims


def _allocate(shape: tuple[int, ...], dtype: np.dtype, order: str) -> np.ndarray:
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.zeros(nbytes + ALIGNMENT, dtype=np.uint8)
    offset = -ctypes.addressof(ctypes.c_char.from_buffer(raw)) % ALIGNMENT  # cheaper than __array_interface__
    return np.ndarray(shape, dtype=dtype, buffer=raw, offset=offset, order=order)


def _layout_of(a: np.ndarray) -> Layout:
    """The layout of existing memory, with the precedence the native launcher uses ('C' wins a tie)."""
    return _LAYOUTS_BY_CODE[layout_of(a)]


def _is_basic_index(k: object) -> bool:
    """True for the index components whose NumPy result is a view of the same memory (never a copy)."""
    if k is None or k is Ellipsis or isinstance(k, slice):
        return True
    if isinstance(k, (bool, np.bool_)) or (isinstance(k, np.ndarray) and k.ndim > 0):
        return False  # numpy treats these as masks/fancy indices, which copy
    return hasattr(k, "__index__")


# --- value conversion: never silently truncate or wrap ------------------------------------------------------


def _bounds(dt: np.dtype) -> tuple[int, int]:
    if dt.kind == "b":
        return 0, 1
    info = np.iinfo(dt)
    return int(info.min), int(info.max)


def _check_cast(src: np.ndarray, dst: np.dtype, what: str) -> None:
    """Allow a conversion only when every value survives it (rounding to a coarser float is fine), else raise.

    NumPy would truncate 1.5 to 1, wrap 300 to 44 in an int8 or overflow 1e300 to inf in a float32 without a
    word; a View store does none of these."""
    s = src.dtype
    if s == dst or np.can_cast(s, dst, "safe"):
        return
    if s.kind not in "biuf" or dst.kind not in "biuf":
        raise KernelTypeError(f"cannot {what}: {s} values cannot be stored as {_name(dst)}")
    if src.size == 0:
        return
    if dst.kind == "f":
        vals = src[np.isfinite(src)] if s.kind == "f" else src  # inf and nan convert exactly
        if vals.size:
            big = float(np.finfo(dst).max)
            mn, mx = vals.min().item(), vals.max().item()
            if mn < -big or mx > big:
                raise KernelValueError(f"cannot {what}: {mn if mn < -big else mx} overflows {_name(dst)}")
        return
    if s.kind == "f":
        bad = src[~np.isfinite(src) | (src != np.trunc(src))]
        if bad.size:
            raise KernelTypeError(
                f"cannot {what}: {bad.flat[0].item()!r} is not an integer value of {_name(dst)}; "
                "round or convert it explicitly first"
            )
    lo, hi = _bounds(dst)
    mn, mx = int(src.min()), int(src.max())
    if mn < lo or mx > hi:
        culprit = mn if mn < lo else mx
        raise KernelValueError(f"cannot {what}: {culprit} does not fit in {_name(dst)} ({lo} to {hi})")


def _name(dt: np.dtype) -> str:
    st = _types.from_numpy(dt)
    return f"pk.{st.name}" if st is not None else str(dt)


def _as_scalar(value: object, dt: np.dtype, what: str) -> Any:
    """`value` as a NumPy scalar of dtype `dt`, when it represents a value of that type exactly."""
    if isinstance(value, (View, list, tuple)) or (isinstance(value, np.ndarray) and value.ndim != 0):
        raise KernelTypeError(f"cannot {what}: expected a scalar, got {type(value).__name__}")
    if isinstance(value, int) and not isinstance(value, bool):
        # Python ints are unbounded: check them before NumPy picks an intermediate type
        if dt.kind in "biu":
            lo, hi = _bounds(dt)
            if not lo <= value <= hi:
                raise KernelValueError(f"cannot {what}: {value} does not fit in {_name(dt)} ({lo} to {hi})")
        elif dt.kind == "f" and abs(value) > float(np.finfo(dt).max):
            raise KernelValueError(f"cannot {what}: {value} overflows {_name(dt)}")
        try:
            return dt.type(value)
        except OverflowError:
            raise KernelValueError(f"cannot {what}: {value} does not fit in {_name(dt)}") from None
    if isinstance(value, (str, bytes)) or not (np.isscalar(value) or isinstance(value, np.ndarray)):
        raise KernelTypeError(f"cannot {what}: {value!r} is not a number")
    arr = np.asarray(value)
    _check_cast(arr, dt, what)
    return arr.astype(dt)[()]


def _checked_source(value: object, dt: np.dtype, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray | Any:
    """An array (or scalar) whose values all survive conversion to `dt`, ready for NumPy assignment; an array
    must have exactly `shape` when one is given."""
    if isinstance(value, View):
        src = value._host(write=False)
    elif isinstance(value, np.ndarray):
        src = value
    elif np.ndim(value) == 0 and not hasattr(value, "__array_interface__"):
        return _as_scalar(value, dt, what)
    else:
        try:
            src = np.asarray(value)
        except (TypeError, ValueError) as e:
            raise KernelTypeError(f"cannot {what}: {e}") from None
    if src.ndim == 0:
        return _as_scalar(src, dt, what)
    if shape is not None and src.shape != shape:
        raise KernelValueError(f"{what}: shapes differ: destination {shape}, source {src.shape}")
    _check_cast(src, dt, what)
    return src


# --- the View -----------------------------------------------------------------------------------------------


class View(_native.ViewBase):
    """A multidimensional array of one scalar type, ranks 1 to 8 (Kokkos::View).

    Memory is zero-initialized and 64-byte aligned. NumPy, mpi4py and DLPack consumers see the same memory
    without copies; slicing gives subviews that share it. The default memory space follows the default
    execution space (CudaSpace when that is pk.Cuda); CudaSpace Views also speak `__cuda_array_interface__`
    and export CUDA DLPack tensors.

    >>> import numpy as np, kernelkit.api.views as v
    >>> x = v.View([2, 3], int)
    >>> x[1, 2] = 7
    >>> x[1][2], x.shape, x.layout, np.asarray(x).strides
    (np.int64(7), (2, 3), pk.LayoutRight, (24, 8))
    >>> np.asarray(x)[0, 0] = 5; x[0, 0]
    np.int64(5)
    """

    _shape: tuple[int, ...]
    _dtype: ScalarType
    _layout: Layout
    _space: MemorySpace
    _trait: Trait
    _parent: View | None

    def __init__(
        self,
        shape: int | Sequence[SupportsIndex],
        dtype: object = _types.float64,
        space: MemorySpace | None = None,
        layout: Layout | None = None,
        trait: Trait | None = None,
    ) -> None:
        dims = _normalize_shape(shape)
        st = _resolve_dtype(dtype)
        ms = _resolve_space(space)
        lay = _resolve_layout(layout, ms)
        tr = _resolve_trait(trait)
        self._array = _allocate(dims, st.np_dtype, lay.code)
        coherence.init_root(self, pristine=ms in _CUDA_SPACES)
        self._shape = dims
        self._dtype = st
        self._layout = lay
        self._space = ms
        self._trait = tr
        self._traits = _native.TRAIT_ATOMIC if tr is Trait.Atomic else 0
        self._parent = None

    @classmethod
    def _wrap(
        cls,
        arr: np.ndarray,
        dtype: ScalarType,
        space: MemorySpace,
        trait: Trait,
        parent: View | None,
    ) -> View:
        """A View over existing host memory (a subview or a wrapped array); nothing is copied.

        A subview is DERIVED: its coherence is its root's."""
        self = cls.__new__(cls)
        self._array = arr
        if parent is None:
            coherence.init_root(self, pristine=False)
        else:
            coherence.init_subview(self)
            self._rootview = parent._rootview if parent._rootview is not None else parent
        self._shape = arr.shape
        self._dtype = dtype
        self._layout = _layout_of(arr)
        self._space = space
        self._trait = trait
        self._traits = _native.TRAIT_ATOMIC if trait is Trait.Atomic else 0
        self._parent = parent
        return self

    # -- coherence -------------------------------------------------------------------------------------------

    def _host(self, write: bool = True) -> np.ndarray:
        """The host array, current. Every host access goes through here (and so through coherence.host_array).

        `write=True` (the default, for accesses that hand the memory out) marks the copies at other places stale.
        A subview shares its root's host memory: the root is brought up to date (and marked) instead."""
        if not self._flags:  # a root with no copy elsewhere: nothing to sync or mark
            arr = self._array
            if arr is not None:
                return arr
        return coherence.host_array(self, write)

    def _host_overwrite(self) -> np.ndarray:
        """The host array for a write that replaces every element: a newer copy elsewhere is not downloaded."""
        if not self._flags:
            return self._array
        return coherence.host_overwrite(self)

    def _root(self) -> View:
        v = self
        while v._parent is not None:
            v = v._parent
        return v

    def _device_home(self) -> bool:
        """True when the data lives on a GPU: a CudaSpace View (or wrapped GPU memory) with CUDA usable."""
        if self._space not in _CUDA_SPACES:
            return False
        root = self._root()
        return bool(root.__dict__.get("_copies")) or coherence.usable()

    # -- Kokkos/PyKokkos attributes --------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def size(self) -> int:
        return math.prod(self._shape)

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def dtype(self) -> ScalarType:
        return self._dtype

    @property
    def layout(self) -> Layout:
        return self._layout

    @property
    def space(self) -> MemorySpace:
        return self._space

    @property
    def trait(self) -> Trait:
        return self._trait

    @property
    def data(self) -> np.ndarray:
        """The host memory as a NumPy array (no copy), as PyKokkos exposes it."""
        return self._host()

    def rank(self) -> int:
        return len(self._shape)

    def _dim(self, k: object, what: str) -> int:
        if isinstance(k, (bool, np.bool_)) or not hasattr(k, "__index__"):
            raise KernelTypeError(f"{what}({k!r}): the dimension must be an int")
        d = int(k.__index__())  # type: ignore[attr-defined]
        n = len(self._shape)
        if not 0 <= d < n:
            raise KernelValueError(f"{what}({d}) of a rank-{n} View: the dimension must be in 0..{n - 1}")
        return d

    def extent(self, k: int) -> int:
        """The number of indices along dimension k (Kokkos `extent`)."""
        return self._shape[self._dim(k, "extent")]

    def stride(self, k: int) -> int:
        """The distance, in elements, between consecutive indices along dimension k (Kokkos `stride`)."""
        d = self._dim(k, "stride")
        arr = self._array if self._array is not None else self._host(write=False)
        return arr.strides[d] // self._dtype.itemsize

    def fill(self, value: object) -> None:
        """Set every element to `value`, which must be exactly representable in the View's dtype."""
        self._fill(_as_scalar(value, self._dtype.np_dtype, f"fill a {self._dtype!r} View"))

    def _fill(self, value: Any) -> None:
        # a whole CudaSpace View is filled on its GPU when a memset can write the value's bytes
        if self._parent is None and self._space in _CUDA_SPACES and coherence.fill(self, value):
            return
        self._host_overwrite()[...] = value

    # -- Python protocols ------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._shape[0]

    def __iter__(self) -> Iterator[Any]:
        if len(self._shape) == 1:
            return iter(self._host(write=False))
        return (self[i] for i in range(self._shape[0]))

    def __repr__(self) -> str:
        text = f"View({list(self._shape)}, {self._dtype!r}, space={self._space!r}, layout={self._layout!r}"
        if self._trait is not Trait.TraitDefault:
            text += f", trait={self._trait!r}"
        return text + ")"

    def __str__(self) -> str:
        return str(self._host(write=False))

    # `v[key]` and `v[key] = value` are ViewBase's (runtime/native/view.c): integer indices on a View whose host
    # copy is current are served in C; everything else comes here.

    def _getitem(self, key: Any) -> Any:
        arr = self._host(write=False)
        for k in key if type(key) is tuple else (key,):
            if type(k) is not int and not _is_basic_index(k):
                raise KernelTypeError(
                    f"View indices are integers, slices and ...; got {key!r}. Use np.asarray(view)[...] for "
                    "boolean or integer-array indexing (which copies)"
                )
        r = arr[key]
        if not isinstance(r, np.ndarray):
            return r
        if r.ndim == 0:
            return r[()]
        _check_rank(r.ndim, r.shape)
        return View._wrap(r, self._dtype, self._space, self._trait, parent=self)

    def _setitem(self, key: Any, value: Any) -> None:
        arr = self._host(write=True)
        st = self._dtype
        if not (type(value) is float and st is _types.float64):  # exact; anything else is checked
            value = _checked_source(value, arr.dtype, f"store into a {self._dtype!r} View")
        arr[key] = value

    # -- zero-copy interop -----------------------------------------------------------------------------------

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self._host(write=not copy)
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            if copy is False:
                raise ValueError(f"converting a {self._dtype!r} View to {np.dtype(dtype)} requires a copy")
            return arr.astype(dtype)
        return arr.copy(order="K") if copy else arr

    @property
    def __array_interface__(self) -> dict[str, Any]:
        return self._host().__array_interface__

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        """CUDA Array Interface v3 of a CudaSpace View: its device copy (made current on the GPU where it
        lives, else the current GPU) is handed out and marked written, since the consumer may write. Absent
        (AttributeError) for HostSpace Views and without a usable GPU, so consumers take the host path."""
        if not self._device_home():
            raise AttributeError(
                "__cuda_array_interface__: this View's data lives on the host (HostSpace, or no usable GPU); "
                "use np.asarray(view), or allocate it in pk.CudaSpace"
            )
        _, ptr = coherence.export_device(self)
        arr = self._array
        return {
            "shape": arr.shape,
            "typestr": arr.dtype.str,
            "data": (ptr, not arr.flags.writeable),
            "strides": None if arr.flags.c_contiguous else arr.strides,
            "version": 3,
            "stream": 1,  # our copies and launches are ordered before work on the legacy default stream
        }

    def __dlpack__(self, stream: Any = None, **kw: Any) -> Any:
        """A DLPack capsule: a CUDA tensor for a CudaSpace View (or when `dl_device` asks for CUDA), which the
        consumer may write (the device copy is marked written); else the host memory, as NumPy exports it."""
        dl_device = kw.get("dl_device")
        device: int | None = None
        on_device = self._device_home()
        if dl_device is not None:
            kind, device = int(dl_device[0]), int(dl_device[1])
            if kind == 1:  # kDLCPU
                on_device = False
            elif kind == 2 and coherence.usable():  # kDLCUDA
                on_device = True
            else:
                raise BufferError(f"a View cannot be exported to DLPack device {tuple(dl_device)}")
        if not on_device:
            return self._host().__dlpack__(stream=stream, **kw)
        if kw.get("copy"):
            clone = View(self._shape, self._dtype, space=MemorySpace.CudaSpace, layout=_copy_layout(self))
            deep_copy(clone, self)
            return clone.__dlpack__(stream=stream, dl_device=dl_device)
        device, ptr = coherence.export_device(self, device)
        if stream is not None and stream not in (-1, 1):
            # the consumer works on another stream: make everything queued so far visible to it
            coherence.gpu_place(device).synchronize()
        arr = self._array
        strides = tuple(s // arr.itemsize for s in arr.strides)
        return dlpack.capsule(self, ptr, device, arr.shape, strides, arr.dtype)

    def __dlpack_device__(self) -> tuple[int, int]:
        if self._device_home():
            here = coherence.where(self)
            if here is not None and not here[0].host_backed:
                return (2, here[0].device)
            return (2, coherence.gpu_place().device)
        arr = self._array if self._array is not None else self._host(write=False)
        return arr.__dlpack_device__()

    def __reduce__(self) -> tuple[Any, ...]:
        lay = self._layout if self._layout is not Layout.LayoutStride else Layout.LayoutRight
        trait = self._trait if self._trait is not Trait.Unmanaged else Trait.TraitDefault
        return (_rebuild, (self._host(write=False).copy(order="K"), self._space, lay, trait))


View._register(View, _layout_of)  # the subviews the native element paths make are Views


def _rebuild(values: np.ndarray, space: MemorySpace, layout: Layout, trait: Trait) -> View:
    v = View(values.shape, values.dtype, space=space, layout=layout, trait=trait)
    v._host_overwrite()[...] = values
    return v


def _copy_layout(v: View) -> Layout:
    return v.layout if v.layout is not Layout.LayoutStride else Layout.LayoutRight


# --- functions (api/view_ops.py; imported here so that `kernelkit.api.views` keeps every View name) ------------

from kernelkit.api.view_ops import (  # noqa: E402
    array,
    asarray,
    create_mirror,
    create_mirror_view,
    deep_copy,
    from_numpy,
    subview,
)
