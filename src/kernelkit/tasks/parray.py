"""PArrays: Parla's arrays, here a thin handle on one kernelkit View (one coherence mechanism, not two).

`parray.asarray(a)` wraps a NumPy array, a list or a kernelkit View without copying; `A.array` is the array to
compute with where the running task is; `A[i, j]` reads an element; `A[s]` is a subarray (a subview sharing the
memory, which moves on its own); operators forward to `A.array`; `A.view` is the View, for kernelkit kernels.
Declare what a task reads and writes (`spawn(input=[A], inout=[(B, 0)])`) and the runtime moves the data there
and keeps track of the copies (tasks/data.py).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from kernelkit.api import views as _views
from kernelkit.interop import is_gpu_array
from kernelkit.tasks import data as _data
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
            self._key = _key(self._index) if len(self._index) == 1 else tuple(_key(i) for i in self._index)
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
        """The kernelkit View holding the data (a subview for a subarray): pass it to kernels."""
        return self._view

    @property
    def shape(self) -> tuple[int, ...]:
        return self._view.shape

    @property
    def ndim(self) -> int:
        return len(self._view.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self._view.shape, dtype=np.int64))

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
        self._view = _as_view(array)
        self._places = None
        _data.invalidate_others(self, get_active_device())

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, PArray):
            index = index.array
        if not _basic(index):
            return np.asarray(self.array)[index]  # an advanced index copies, as in NumPy
        r = self._view[index]
        if isinstance(r, _views.View):
            return PArray(r, parent=self, index=index)
        return r

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(value, PArray):
            value = value.array
        if isinstance(index, PArray):
            index = index.array
        arr = self.array
        arr[index] = value
        _data.invalidate_others(self, get_active_device())

    def evict(self, device: Any = None, keep_one_copy: bool = True) -> bool:
        """Parla's eviction: a no-op while the data has one home (phase 1)."""
        return True

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
        a = np.asarray(_data.array_on(self, None))
        if dtype is not None and a.dtype != np.dtype(dtype):
            return a.astype(dtype)
        return a.copy() if copy else a

    def __len__(self) -> int:
        return self.shape[0] if self.shape else 0

    def __iter__(self):
        return iter(self.array)

    def _scalar(self) -> Any:
        a = self.array
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


def _unwrap(x: Any) -> Any:
    return x.array if isinstance(x, PArray) else x


def _wrap(r: Any) -> Any:
    """Array results become PArrays (as in Parla); scalars stay scalars."""
    if isinstance(r, np.ndarray) and r.ndim > 0:
        return PArray(_as_view(r))
    if isinstance(r, np.ndarray):
        return r[()]
    return r


def _binary(name: str):
    op = getattr(operator, name)

    def f(self: PArray, other: Any) -> Any:
        return _wrap(op(self.array, _unwrap(other)))

    def rf(self: PArray, other: Any) -> Any:
        return _wrap(op(_unwrap(other), self.array))

    f.__name__, rf.__name__ = f"__{name.strip('_')}__", f"__r{name.strip('_')}__"
    return f, rf


def _inplace(name: str):
    op = getattr(operator, name)

    def f(self: PArray, other: Any) -> PArray:
        arr = self.array
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
setattr(PArray, "__neg__", lambda self: _wrap(-self.array))  # noqa: B010 - the unary operators, forwarded
setattr(PArray, "__pos__", lambda self: _wrap(+self.array))  # noqa: B010
setattr(PArray, "__abs__", lambda self: _wrap(abs(self.array)))  # noqa: B010
setattr(PArray, "__invert__", lambda self: _wrap(~self.array))  # noqa: B010
PArray.__divmod__ = lambda self, other: tuple(_wrap(r) for r in divmod(self.array, _unwrap(other)))  # type: ignore


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
