"""Functions on Views: subviews, wrapping other arrays without copying, deep copies and mirrors (Kokkos names)."""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from kernelkit.api.views import (
    _CUDA_SPACES,
    ALIGNMENT,
    MAX_RANK,
    Layout,
    MemorySpace,
    Trait,
    View,
    _check_rank,
    _checked_source,
    _copy_layout,
    _is_basic_index,
    _name,
)
from kernelkit.errors import KernelError, KernelTypeError, KernelValueError
from kernelkit.interop import foreign, is_gpu_array
from kernelkit.ir import types as _types
from kernelkit.ir.types import ScalarType
from kernelkit.runtime import coherence, graph

# --- functions ----------------------------------------------------------------------------------------------


def subview(v: View, *indices: Any) -> View:
    """A View of part of `v`, sharing its memory (Kokkos::subview).

    Each index is an int (drops the dimension), a slice, `ALL`, or a `(begin, end)` pair; missing trailing
    indices mean `ALL`.

    >>> import kernelkit.api.views as v
    >>> a = v.View([4, 5])
    >>> s = v.subview(a, (1, 3), v.ALL)
    >>> s.shape, s.layout
    ((2, 5), pk.LayoutRight)
    >>> s[0, 0] = 1.0; a[1, 0]
    np.float64(1.0)
    """
    if not isinstance(v, View):
        raise KernelTypeError(f"subview() takes a View, got {type(v).__name__}")
    if len(indices) > v.ndim:
        raise KernelValueError(f"subview of a rank-{v.ndim} View takes at most {v.ndim} indices, got {len(indices)}")
    key: list[Any] = []
    for d, k in enumerate(indices):
        if isinstance(k, tuple):
            if len(k) != 2:
                raise KernelValueError(f"subview range for dimension {d} must be a (begin, end) pair, got {k!r}")
            if not all(type(x) is not bool and hasattr(x, "__index__") for x in k):
                raise KernelTypeError(f"subview range for dimension {d} must hold two ints, got {k!r}")
            b, e = (int(x.__index__()) for x in k)
            if not 0 <= b <= e <= v.shape[d]:
                raise KernelValueError(
                    f"subview range {k!r} is outside dimension {d} of extent {v.shape[d]} "
                    "(need 0 <= begin <= end <= extent)"
                )
            key.append(slice(b, e))
        elif k is not None and k is not Ellipsis and _is_basic_index(k):
            key.append(k)
        else:
            raise KernelTypeError(
                f"subview index {k!r} for dimension {d}: use an int, a slice, pk.ALL or a (begin, end) pair"
            )
    try:
        r = v[tuple(key)]
    except IndexError as e:
        raise KernelValueError(f"subview of a View of shape {v.shape}: {e}") from None
    if not isinstance(r, View):
        raise KernelValueError(
            "subview must keep at least one dimension (a View has rank 1 to 8); use v[i, j] to read an element"
        )
    return r


def asarray(obj: Any) -> View:
    """Wrap an array as a View without copying (trait Unmanaged); a View is returned as is.

    Accepts NumPy arrays and anything exposing `__dlpack__`, `__array_interface__` or the buffer protocol
    (host memory: a HostSpace View), and GPU arrays: CuPy arrays, PyTorch CUDA tensors, anything with
    `__cuda_array_interface__` or a CUDA `__dlpack__` (a CudaSpace View over that memory, kept alive by the
    View). Python lists and tuples have no memory to share: they are copied into a new View.

    >>> import numpy as np, kernelkit.api.views as v
    >>> a = np.zeros((3, 4), order="F")
    >>> x = v.asarray(a)
    >>> x[2, 1] = 5.0; a[2, 1], x.layout, x.trait
    (np.float64(5.0), pk.LayoutLeft, pk.Unmanaged)
    """
    if isinstance(obj, View):
        return obj
    if isinstance(obj, (list, tuple)):
        try:
            tmp = np.asarray(obj)
        except (TypeError, ValueError) as e:
            raise KernelValueError(f"asarray(): cannot turn the {type(obj).__name__} into an array: {e}") from None
        out = View(tmp.shape, _dtype_of(tmp, obj))
        out._host_overwrite()[...] = tmp
        return out
    if isinstance(obj, np.ma.MaskedArray):
        raise KernelTypeError("asarray(): masked arrays are not supported (a View has no mask); pass a.filled(...)")
    if isinstance(obj, np.ndarray):
        arr = obj if type(obj) is np.ndarray else obj.view(np.ndarray)
    elif isinstance(obj, (int, float, complex, bool, str, bytes, np.generic)):
        raise KernelValueError(f"asarray() needs an array of rank 1 to {MAX_RANK}; got the scalar {obj!r}")
    elif is_gpu_array(obj):
        return _wrap_gpu_array(obj)
    elif hasattr(obj, "__dlpack__"):
        try:
            arr = np.from_dlpack(obj)
        except (BufferError, RuntimeError, TypeError, ValueError) as e:
            raise KernelTypeError(
                f"asarray(): cannot wrap a {type(obj).__name__} without copying ({e}); Views wrap host memory"
            ) from None
    else:
        try:
            arr = np.asarray(obj, copy=False)
        except (TypeError, ValueError):
            raise KernelTypeError(
                f"asarray(): a {type(obj).__name__} cannot be wrapped without copying; pass a NumPy array "
                "or an object with __array_interface__, __dlpack__ or the buffer protocol"
            ) from None
    st = _dtype_of(arr, obj)
    _check_rank(arr.ndim, arr.shape)
    isz = arr.dtype.itemsize
    if any(s % isz for s in arr.strides):
        raise KernelValueError(
            f"asarray(): strides {arr.strides} are not multiples of the element size {isz}; copy the array first"
        )
    if not arr.flags.aligned:
        raise KernelValueError("asarray(): the array's memory is not aligned to its element size; copy it first")
    return View._wrap(arr, st, MemorySpace.HostSpace, Trait.Unmanaged, parent=None)


def _wrap_gpu_array(obj: Any) -> View:
    """A CudaSpace View (trait Unmanaged) over another library's GPU memory, zero copy. Its host array is a
    shadow with the same byte layout, filled on first host access; the memory stays the library's (`obj`,
    and a DLPack capsule, are kept alive by the View) and is never freed by kernelkit. Host writes reach the
    GPU memory at the View's next GPU use (a kernel, `__cuda_array_interface__`, `__dlpack__`)."""
    try:
        f = foreign(obj, f"asarray(): the {type(obj).__name__}")
    except KernelError:
        raise
    except (BufferError, RuntimeError, TypeError, ValueError) as e:  # the producer refused to export
        what = type(obj).__name__
        raise KernelTypeError(f"asarray(): cannot wrap a {what} without copying ({e})") from None
    cuda = coherence.base.get("cuda")
    device = f.device if f.device is not None else cuda.pointer_device(f.ptr)
    cuda.synchronize_stream(f.stream)
    st = _types.from_numpy(f.dtype)
    assert st is not None  # foreign() rejects the dtypes kernels cannot use
    low, nbytes = coherence.span(f.shape, f.strides, f.dtype.itemsize)
    raw = np.empty(nbytes + ALIGNMENT, dtype=np.uint8)  # never shown before a download fills it
    base = -ctypes.addressof(ctypes.c_char.from_buffer(raw)) % ALIGNMENT
    shadow = np.ndarray(f.shape, dtype=f.dtype, buffer=raw, offset=base - low, strides=f.strides)
    if f.readonly:
        shadow.flags.writeable = False
    v = View._wrap(shadow, st, MemorySpace.CudaSpace, Trait.Unmanaged, parent=None)
    coherence.attach_foreign(v, f, coherence.gpu_place(device))
    return v


def _dtype_of(arr: np.ndarray, obj: object) -> ScalarType:
    st = _types.from_numpy(arr.dtype)
    if st is None:
        raise KernelTypeError(
            f"asarray(): {type(obj).__name__} of dtype {arr.dtype} has no kernelkit dtype; use one of "
            + ", ".join(f"pk.{s.name}" for s in _types.SCALARS)
            + " (native byte order)"
        )
    return st


from_numpy = asarray


def array(obj: Any, dtype: object = None, space: object = None, layout: object = None, trait: object = None) -> View:
    """PyKokkos' `pk.array(data, dtype=, space=, layout=, trait=)`: `asarray(data)` (zero copy) when the
    keywords ask for nothing the wrapped memory does not already have; else a new View with them, holding a
    copy of the values (which must convert exactly: the rules of View stores).

    >>> import numpy as np, kernelkit.api.views as v
    >>> a = np.arange(3.0)
    >>> v.array(a)._array is a, v.array(a, dtype=np.float32).dtype, v.array(a, space=v.HostSpace)._array is a
    (True, pk.float32, True)
    """
    wrapped = asarray(obj)
    if dtype is None and space is None and layout is None and trait is None:
        return wrapped
    st = _types.as_scalar_type(dtype) if dtype is not None else wrapped.dtype
    want_space = wrapped.space if space is None else space
    want_layout = wrapped.layout if layout is None else layout
    if (
        st is wrapped.dtype
        and want_space is wrapped.space
        and want_layout is wrapped.layout
        and (trait is None or trait is wrapped.trait)
    ):
        return wrapped
    out = View(
        wrapped.shape,
        st,
        space=want_space,  # type: ignore[arg-type]
        layout=want_layout if want_layout is not Layout.LayoutStride else None,  # type: ignore[arg-type]
        trait=trait,  # type: ignore[arg-type]
    )
    deep_copy(out, wrapped)
    return out


def deep_copy(dst: View | np.ndarray, src: Any) -> None:
    """Copy the values of `src` (a View, an array or a scalar) into `dst` (Kokkos::deep_copy).

    Shapes must match exactly (no broadcasting); layouts may differ. A conversion that would lose values
    (1.5 into an integer View, 300 into pk.int8) raises instead of truncating. Across memory spaces the copy
    goes device to device (memcpy_dtod) when both sides are on the GPU with the same dtype and layout, and
    straight between the host side and the device copy when one side is on the GPU; else through the host.

    >>> import kernelkit.api.views as v
    >>> a = v.View([2, 3], layout=v.LayoutRight); b = v.View([2, 3], layout=v.LayoutLeft)
    >>> a[1, 2] = 4.0; v.deep_copy(b, a); b[1, 2]
    np.float64(4.0)
    """
    if graph.recording is not None and graph.recording.here():  # inside `with pk.graph()`: recorded, not run
        graph.recording.add_copy(_deep_copy, dst, src)
        return
    _deep_copy(dst, src)


def _deep_copy(dst: View | np.ndarray, src: Any) -> None:
    if dst is src:
        return
    if isinstance(dst, View):
        arr = dst._array if dst._array is not None else dst._host(write=False)
    elif isinstance(dst, np.ndarray):
        arr = dst
    else:
        raise KernelTypeError(f"deep_copy(): the destination must be a View or a NumPy array, got {type(dst).__name__}")
    home = isinstance(dst, View) and dst._space in _CUDA_SPACES
    if (home or _on_gpu(dst) or _on_gpu(src)) and coherence.copy(dst, src, home):
        return
    what = f"deep_copy into a {_name(arr.dtype)} {'View' if isinstance(dst, View) else 'array'}"
    s = _checked_source(src, arr.dtype, what, arr.shape)  # reads (syncs) the source before dst is touched
    if isinstance(dst, View) and not isinstance(s, np.ndarray):
        dst._fill(s)  # a scalar: Kokkos fills
        return
    d = dst._host_overwrite() if isinstance(dst, View) else dst
    if isinstance(s, np.ndarray):
        np.copyto(d, s, casting="unsafe")  # _checked_source has verified that every value survives
    else:
        d[...] = s


def _on_gpu(x: object) -> bool:
    """True for a View that has (or may have) a device copy: its root has HAS_DEVICE or lives in CudaSpace."""
    if not isinstance(x, View):
        return False
    root = x._root()
    return bool(root._flags & coherence.HAS_DEVICE) or root._space in _CUDA_SPACES


def create_mirror_view(v: View) -> View:
    """A host View with the contents of `v` (Kokkos::create_mirror_view): `v` itself when its data lives on
    the host (a HostSpace View, or any View without a usable GPU), else a new HostSpace View holding a copy.

    >>> import kernelkit.api.views as v
    >>> a = v.View([3], space=v.HostSpace); v.create_mirror_view(a) is a
    True
    """
    if not isinstance(v, View):
        raise KernelTypeError(f"create_mirror_view() takes a View, got {type(v).__name__}")
    if not v._device_home():
        return v
    m = create_mirror(v)
    deep_copy(m, v)
    return m


def create_mirror(v: View) -> View:
    """A new, zero-filled host View of the same shape, dtype and layout as `v` (Kokkos::create_mirror).

    Like Kokkos, it does not copy the contents: follow with `deep_copy(mirror, v)`.

    >>> import kernelkit.api.views as v
    >>> a = v.View([3], int); a[0] = 7
    >>> m = v.create_mirror(a); m[0], m.shape, m.dtype
    (np.int64(0), (3,), pk.int64)
    """
    if not isinstance(v, View):
        raise KernelTypeError(f"create_mirror() takes a View, got {type(v).__name__}")
    return View(v.shape, v.dtype, space=MemorySpace.HostSpace, layout=_copy_layout(v))


# pk.subview also works inside kernels (lowered by the frontend's "subview" handler).
from kernelkit.lang import registry as _registry  # noqa: E402

_registry.register(subview, "subview", "subview")
