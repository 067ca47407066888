"""PArrays: Parla's arrays, here a thin handle on one kernelkit View (one coherence mechanism, not two).

`parray.asarray(a)` wraps a NumPy array, a list or a kernelkit View without copying; `A.array` is the copy to
compute with where the running task is (NumPy on the host and on logical GPUs backed by it, CuPy or a kernelkit
DeviceArray on a physical GPU); `A[i, j]` reads an element there; `A[s]` is a subarray (a subview of the same
memory, which moves on its own); operators forward to `A.array`; `A.view` is a View over that copy, for kernelkit
kernels (a PArray itself can be passed to a kernel too). Declare what a task reads and writes (`spawn(input=[A],
inout=[(B, 0)])`) and the runtime copies the data there before the body and keeps track of the copies
(tasks/data.py). Outside tasks, every access sees the host copy made current first.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from kernelkit.api import views as _views
from kernelkit.interop import is_gpu_array
from kernelkit.tasks import data as _data
from kernelkit.tasks import places as _places
from kernelkit.tasks.environments import get_active_device

CPU_INDEX = -1


def _key(index: Any) -> Any:
    """A hashable name for a basic index (ints and slices)."""
    parts = index if isinstance(index, tuple) else (index,)
    out: list[Any] = []
    for k in parts:
        if isinstance(k, slice):
            out.append(("s", k.start, k.stop, k.step))
        elif k is Ellipsis:
            out.append("...")
        else:
            out.append(operator.index(k))
    return tuple(out)


def _basic(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(k, (int, slice, np.integer)) and not isinstance(k, bool) or k is Ellipsis for k in parts)


class PArray:
    """A Parla array over a kernelkit View. Compute with `A.array` (or pass `A.view` to kernels)."""

    __slots__ = ("_view", "_root", "_key", "_places", "_name", "ID", "parent_ID", "parent", "_index", "__weakref__")

    def __init__(self, view: _views.View, parent: PArray | None = None, index: Any = None, name: str | None = None):
        self._view = view
        self._places: Any = None  # the root's coherence states (tasks/data.py)
        if parent is None:
            self._root = self
            self._key = None
            self._index: tuple = ()
            self.parent = self
            self.ID = id(self)
            self.parent_ID = self.ID
            self._name = name
        else:
            root = parent._root
            self._root = root
            self._index = parent._index + (index,)
            self._key = _key(index) if len(self._index) == 1 else tuple(_key(i) for i in self._index)
            self.parent = parent
            self.parent_ID = root.ID
            self.ID = hash((root.ID, self._key)) & ((1 << 63) - 1)
            self._name = name if name is not None else f"{root.name}::subarray::{list(self._index)}"

    # -- identity and shape -----------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name if self._name is not None else f"PArray::{self.ID}"

    @property
    def view(self) -> _views.View:
        """A kernelkit View over the copy where the running task is (outside tasks: the PArray's own View, its
        host memory current; a subview for a subarray): pass it to kernels."""
        return _data.view_on(self, get_active_device())

    @property
    def shape(self) -> tuple[int, ...]:
        return self._view.shape

    @property
    def ndim(self) -> int:
        return len(self._view.shape)

    @property
    def size(self) -> int:
        return math.prod(self._view.shape)

    @property
    def dtype(self) -> np.dtype:
        return self._view._array.dtype

    @property
    def nbytes(self) -> int:
        """Bytes of the whole array (Parla: also for a subarray; see `subarray_nbytes`)."""
        return self._root.subarray_nbytes

    @property
    def subarray_nbytes(self) -> int:
        return self.size * self._view._array.dtype.itemsize

    @property
    def _current_device_index(self) -> int:
        """Parla's number of the running task's device: -1 on the host, the GPU's index on a GPU."""
        d = get_active_device()
        return CPU_INDEX if d is None or not d.is_gpu else d.index

    # -- data -------------------------------------------------------------------------------------------------

    @property
    def array(self) -> Any:
        """The array on the running task's device (outside tasks: the host array)."""
        return _data.array_on(self, get_active_device())

    def get(self, device: Any = None) -> Any:
        return _data.array_on(self, device if device is not None else get_active_device())

    def update(self, array: Any) -> None:
        """Replace the contents (and shape) with `array`; only the running task's device holds it after."""
        if self._root is not self:
            raise ValueError("update() replaces a whole PArray; call it on the array, not on a subarray")
        if not isinstance(array, (np.ndarray, _views.View)) and is_gpu_array(array):
            array = _to_host(array)
        self._view = _as_view(array)
        _data.reset(self)
        self._places = None
        d = get_active_device()
        if d is not None and d.get_global_id() != 0:
            _data.prefetch([self], d, _data.AccessMode.INOUT)  # the new data lives where the task runs

    def _element_of(self, index: Any) -> PArray | None:
        """The one-element subarray of an all-integer index (None for other indices)."""
        parts = index if isinstance(index, tuple) else (index,)
        if len(parts) != len(self.shape) or not all(
            isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in parts
        ):
            return None
        sl = []
        for k, n in zip(parts, self.shape, strict=False):
            i = int(k)
            if i < 0:
                i += n
            if not 0 <= i < n:
                raise IndexError(f"index {int(k)} is out of bounds for a dimension of size {n}")
            sl.append(slice(i, i + 1))
        t = tuple(sl)
        return PArray(self._view[t], parent=self, index=t)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, PArray):
            index = index.array
        if not _basic(index):
            return self._read_here()[index]  # an advanced index copies, as in NumPy
        one = self._element_of(index)
        if one is not None:
            d = get_active_device()
            if d is not None and not _data.valid_bytes(one, d):
                return _first(self._read_here()[index])  # not here yet: the whole array comes
            return _first(_data.array_on(one, d, write=False) if d is not None else self._read_here()[index])
        r = self._view[index]
        if isinstance(r, _views.View):
            return PArray(r, parent=self, index=index)
        return _first(self._read_here()[index])

    def _read_here(self) -> Any:
        return _data.array_on(self, get_active_device(), write=False)

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(value, PArray):
            value = value.array
        if isinstance(index, PArray):
            index = index.array
        d = get_active_device()
        target: PArray = self
        if d is not None and _basic(index):
            one = self._element_of(index)
            if one is not None:
                target, index = one, (0,) * len(self.shape)
            else:
                r = self._view[index]
                if isinstance(r, _views.View):
                    target, index = PArray(r, parent=self, index=index), Ellipsis
        arr = _data.array_on(target, d)
        arr[index] = value
        _data.invalidate_others(target, d)

    def evict(self, device: Any = None, keep_one_copy: bool = True) -> bool:
        """Parla's eviction: copies stay until the PArray is freed (the host copy is written back when a Parla
        block ends)."""
        return True

    # -- Parla's internals that its tests look at --------------------------------------------------------------

    def get_parray_parentid_from_cpp(self) -> int:
        return self.parent_ID

    @property
    def _array(self) -> _ParlaBuffers:
        return _ParlaBuffers(self)

    @property
    def _coherence(self) -> _ParlaCoherence:
        return _ParlaCoherence(self)

    # -- kernels take PArrays: the copy where the task runs -------------------------------------------------

    @property
    def __array_interface__(self) -> dict[str, Any]:
        d = get_active_device()
        if d is not None and d.physical is not None:
            raise AttributeError("a PArray in a task on a physical GPU is device memory (__cuda_array_interface__)")
        return np.asarray(_data.array_on(self, d)).__array_interface__

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        d = get_active_device()
        if d is None or d.physical is None:
            raise AttributeError("a PArray outside tasks on a physical GPU is host memory (__array_interface__)")
        return _data.array_on(self, d).__cuda_array_interface__

    def print_overview(self) -> None:
        names = {
            _data.Coherence.INVALID: "INVALID",
            _data.Coherence.SHARED: "SHARED",
            _data.Coherence.MODIFIED: "MODIFIED",
        }
        print(
            f"---Overview of PArray\nID: {self.ID}, Name: {self.name}, Parent_ID: {self.parent_ID}, "
            f"Bytes: {self.subarray_nbytes}"
        )
        for g, st in sorted(_data.states(self).items()):
            print(f"At {'cpu(0)' if g == 0 else f'gpu({g - 1})'}: state: {names[st]}")
        print("---End of Overview")

    # -- NumPy protocol and conversions -----------------------------------------------------------------------

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        a = _to_host(_data.array_on(self, get_active_device(), write=False))
        if dtype is not None and a.dtype != np.dtype(dtype):
            return a.astype(dtype)
        return a.copy() if copy else a

    def __len__(self) -> int:
        return self.shape[0] if self.shape else 0

    def __iter__(self):
        return iter(_unwrap(self))

    def _scalar(self) -> Any:
        a = _to_host(_data.array_on(self, get_active_device(), write=False))
        if a.size != 1:
            raise TypeError(f"only a PArray of one element converts to a scalar; this one has shape {a.shape}")
        return a.reshape(-1)[0]

    def __int__(self) -> int:
        return int(self._scalar())

    def __float__(self) -> float:
        return float(self._scalar())

    def __complex__(self) -> complex:
        return complex(self._scalar())

    def __bool__(self) -> bool:
        return bool(self._scalar())

    def __repr__(self) -> str:
        return f"PArray({np.asarray(self)!r})".replace("\n", "\n       ")

    def __str__(self) -> str:
        return str(np.asarray(self))

    def __format__(self, spec: str) -> str:
        return format(np.asarray(self), spec)


def _to_host(a: Any) -> np.ndarray:
    """A NumPy array of `a` (NumPy as it is; a CuPy or kernelkit device array downloaded)."""
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "get"):
        return np.asarray(a.get())
    return np.asarray(a)


def _first(a: Any) -> Any:
    """The element of a one-element array (a NumPy scalar; a 0-d CuPy array on a GPU, as CuPy indexes)."""
    if isinstance(a, np.ndarray):
        return a.reshape(-1)[0] if a.ndim else a[()]
    if type(a).__name__ == "DeviceArray":
        return a.get().reshape(-1)[0]
    return a.reshape(()) if getattr(a, "ndim", 0) else a


class _ParlaBuffers:
    """Parla's `A._array`: `_buffer[i]` per device index (-1: the CPU) is the copy there (None where the
    device holds no current byte, a list where it holds only subarrays)."""

    def __init__(self, p: PArray):
        self._p = p

    @property
    def _buffer(self) -> dict[int, Any]:
        return _DeviceIndexed(lambda i: _data.buffer_at(self._p, 0 if i == CPU_INDEX else i + 1))


class _ParlaCoherence:
    """Parla's `A._coherence`: `_local_states[i]` per device index (-1: the CPU) and `owner`."""

    def __init__(self, p: PArray):
        self._p = p

    @property
    def _local_states(self) -> dict[int, Any]:
        return _DeviceIndexed(lambda i: _data.local_states(self._p, 0 if i == CPU_INDEX else i + 1))

    @property
    def owner(self) -> int:
        g = _data.owner(self._p)
        return CPU_INDEX if g in (None, 0) else g - 1


class _DeviceIndexed(dict):
    def __init__(self, f: Any):
        super().__init__()
        self._f = f

    def __missing__(self, i: int) -> Any:
        return self._f(i)


def _unwrap(x: Any) -> Any:
    """An operand: a PArray's copy here; a kernelkit DeviceArray (a GPU without CuPy) downloaded, since only
    NumPy can compute with it."""
    if isinstance(x, PArray):
        x = x.array
    if isinstance(x, _places.DeviceArray):
        return x.get()
    return x


def _wrap(r: Any) -> Any:
    """Array results become PArrays (as in Parla); scalars stay scalars (a 0-d GPU result too: a host scalar,
    so that `partial[i] = a @ b` stores it in a NumPy array)."""
    if isinstance(r, np.ndarray) and r.ndim > 0:
        return PArray(_as_view(r))
    if isinstance(r, np.ndarray):
        return r[()]
    if getattr(r, "ndim", None) == 0 and hasattr(r, "get"):
        return np.asarray(r.get())[()]
    return r


def _binary(name: str):
    op = getattr(operator, name)

    def f(self: PArray, other: Any) -> Any:
        return _wrap(op(_unwrap(self), _unwrap(other)))

    def rf(self: PArray, other: Any) -> Any:
        return _wrap(op(_unwrap(other), _unwrap(self)))

    f.__name__, rf.__name__ = f"__{name.strip('_')}__", f"__r{name.strip('_')}__"
    return f, rf


def _inplace(name: str):
    op = getattr(operator, name)

    def f(self: PArray, other: Any) -> PArray:
        arr = self.array
        if isinstance(arr, _places.DeviceArray):  # a GPU without CuPy: compute on the host, upload
            arr.set(op(arr.get(), _unwrap(other)))
            _data.invalidate_others(self, get_active_device())
            return self
        r = op(arr, _unwrap(other))
        if r is not arr:
            arr[...] = r
        _data.invalidate_others(self, get_active_device())
        return self

    return f


for _n in (
    "add",
    "sub",
    "mul",
    "matmul",
    "truediv",
    "floordiv",
    "mod",
    "pow",
    "lshift",
    "rshift",
    "and_",
    "or_",
    "xor",
):
    _f, _rf = _binary(_n)
    _dunder = _n.rstrip("_")
    setattr(PArray, f"__{_dunder}__", _f)
    setattr(PArray, f"__r{_dunder}__", _rf)
    setattr(PArray, f"__i{_dunder}__", _inplace("i" + _dunder))
for _n in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(PArray, f"__{_n}__", _binary(_n)[0])
PArray.__hash__ = object.__hash__  # type: ignore[method-assign,assignment]  # handles, like Parla's
setattr(PArray, "__neg__", lambda self: _wrap(-_unwrap(self)))  # noqa: B010 - the unary operators, forwarded
setattr(PArray, "__pos__", lambda self: _wrap(+_unwrap(self)))  # noqa: B010
setattr(PArray, "__abs__", lambda self: _wrap(abs(_unwrap(self))))  # noqa: B010
setattr(PArray, "__invert__", lambda self: _wrap(~_unwrap(self)))  # noqa: B010
PArray.__divmod__ = lambda self, other: tuple(_wrap(r) for r in divmod(_unwrap(self), _unwrap(other)))  # type: ignore


def _as_view(obj: Any, dtype: Any = None, copy: bool = False) -> _views.View:
    """A View over `obj` without a copy when possible (NumPy arrays, Views, GPU arrays), else a copy."""
    if isinstance(obj, PArray):
        obj = obj.view
    if isinstance(obj, _views.View) and not copy and dtype is None:
        return obj
    if not isinstance(obj, _views.View) and not isinstance(obj, np.ndarray) and is_gpu_array(obj):
        if copy or dtype is not None:
            raise TypeError("parray.array(copy=True or dtype=...) of a GPU array: copy it with CuPy first")
        return _views.asarray(obj)
    a = np.asarray(obj)
    if dtype is not None and a.dtype != np.dtype(dtype):
        a = a.astype(dtype)
    elif copy:
        a = a.copy()
    if a.ndim == 0:
        a = a.reshape(1)
    try:
        return _views.asarray(a)
    except (TypeError, ValueError):
        return _views.asarray(np.ascontiguousarray(a))  # odd strides or alignment: one copy


def array(
    object: Any,
    dtype: Any = None,
    copy: bool = True,
    order: str = "K",
    subok: bool = False,
    ndmin: int = 0,
    like: Any = None,
    on_gpu: bool = False,
    name: str | None = None,
) -> PArray:
    """A new PArray with a copy of `object` (`copy=False`: without a copy where possible)."""
    if isinstance(object, (np.ndarray, _views.View, PArray)) or is_gpu_array(object):
        return PArray(_as_view(object, dtype=dtype, copy=copy), name=name)
    a = np.array(object, dtype=dtype, order=order, ndmin=ndmin)  # type: ignore[call-overload]
    return PArray(_as_view(a), name=name)


def asarray(
    a: Any, dtype: Any = None, order: str | None = None, like: Any = None, on_gpu: bool = False, name: str | None = None
) -> PArray:
    """A PArray over `a` (a NumPy array, a kernelkit View, a GPU array or a list), without copying an array.

    >>> A = parray.asarray(np.zeros(4)); A[1] = 2.0; A.array
    array([0., 2., 0., 0.])
    """
    if isinstance(a, PArray) and dtype is None:
        return a
    return array(a, dtype=dtype, copy=False, name=name)


def asarray_batch(*args: Any) -> Any:
    """PArrays for the arrays in `args`, nested lists/tuples/dicts kept as they are:
    `a, b = asarray_batch(a, [b0, b1])`."""

    def conv(obj: Any) -> Any:
        if isinstance(obj, PArray):
            return obj
        if isinstance(obj, (np.ndarray, _views.View)) or is_gpu_array(obj):
            return asarray(obj)
        if isinstance(obj, dict):
            return {k: conv(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple, set)):
            return type(obj)(conv(x) for x in obj)
        raise TypeError(f"asarray_batch() takes arrays and lists, tuples or dicts of them; got {type(obj).__name__}")

    out = [conv(a) for a in args]
    return out[0] if len(out) == 1 else out
