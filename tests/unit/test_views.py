"""kernelkit.api.views: allocation, layouts, dtypes, indexing, subviews, zero-copy interop, copies, errors."""

from __future__ import annotations

import ctypes
import pickle

import numpy as np
import pytest

from kernelkit import _native
from kernelkit.api import views as V
from kernelkit.api.views import View
from kernelkit.backends import base
from kernelkit.backends.base import HostBackedPlace
from kernelkit.errors import KernelTypeError, KernelValueError
from kernelkit.ir import types as T
from kernelkit.runtime import coherence

SHAPES = {1: (5,), 2: (3, 4), 3: (2, 3, 4), 4: (2, 3, 2, 3), 5: (2, 1, 3, 2, 2), 6: (2, 2, 1, 3, 2, 2)}
SHAPES[7] = (2, 1, 2, 3, 1, 2, 2)
SHAPES[8] = (2, 1, 2, 2, 1, 2, 3, 2)


def c_strides(shape, itemsize):
    out, acc = [], itemsize
    for n in reversed(shape):
        out.append(acc)
        acc *= n
    return tuple(reversed(out))


def f_strides(shape, itemsize):
    out, acc = [], itemsize
    for n in shape:
        out.append(acc)
        acc *= n
    return tuple(out)


def address(v):
    return np.asarray(v).__array_interface__["data"][0]


# --- allocation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rank", range(1, 9))
@pytest.mark.parametrize("layout", [V.LayoutRight, V.LayoutLeft])
def test_ranks_and_layouts(rank, layout):
    shape = SHAPES[rank]
    v = View(list(shape), T.float64, layout=layout)
    a = np.asarray(v)
    assert v.shape == shape and a.shape == shape
    assert v.rank() == v.ndim == rank
    assert v.size == int(np.prod(shape))
    assert v.layout is layout
    expect = c_strides(shape, 8) if layout is V.LayoutRight else f_strides(shape, 8)
    assert a.strides == expect
    assert address(v) % 64 == 0
    assert not a.any()
    for k in range(rank):
        assert v.extent(k) == shape[k]
        assert v.stride(k) == expect[k] // 8


@pytest.mark.parametrize("dtype", T.SCALARS, ids=lambda t: t.name)
def test_every_dtype(dtype):
    v = View([4, 3], dtype)
    a = np.asarray(v)
    assert v.dtype is dtype
    assert a.dtype == dtype.np_dtype
    assert a.strides == (3 * dtype.itemsize, dtype.itemsize)
    assert address(v) % 64 == 0
    v[2, 1] = 1
    assert a[2, 1] == 1
    assert a.sum() == 1
    assert isinstance(v[2, 1], dtype.np_dtype.type)


@pytest.mark.parametrize(
    "spelling, expect",
    [
        (int, T.int64),
        (float, T.float64),
        (bool, T.bool_),
        (np.float32, T.float32),
        (np.dtype("int16"), T.int16),
        ("uint32", T.uint32),
        (T.int8, T.int8),
    ],
)
def test_dtype_spellings(spelling, expect):
    v = View(3, spelling)
    assert v.dtype is expect
    assert np.asarray(v).dtype == expect.np_dtype


def test_defaults():
    v = View(7)
    assert v.shape == (7,)
    assert v.dtype is T.float64
    assert v.space is V.HostSpace
    assert v.layout is V.LayoutRight
    assert v.trait is V.TraitDefault
    assert View((2, 3), layout=V.LayoutDefault).layout is V.LayoutRight
    assert View((2, 3), space=V.MemorySpaceDefault).space is V.HostSpace


def test_shape_spellings():
    assert View(np.int64(4)).shape == (4,)
    assert View((2, np.int32(3))).shape == (2, 3)
    assert View(np.array([2, 5])).shape == (2, 5)
    assert View([0, 3]).size == 0
    assert np.asarray(View([0, 3], layout=V.LayoutLeft)).shape == (0, 3)


def test_cuda_space_is_recorded_and_uses_kokkos_default_layout():
    v = View([3, 4], space=V.CudaSpace)
    assert v.space is V.CudaSpace
    assert v.layout is V.LayoutLeft  # Kokkos' default layout in GPU memory
    assert np.asarray(v).strides == f_strides((3, 4), 8)
    u = View([3, 4], space=V.CudaUVMSpace, layout=V.LayoutRight)
    assert u.space is V.CudaUVMSpace and u.layout is V.LayoutRight
    v[2, 3] = 1.5
    assert v[2, 3] == 1.5


@pytest.mark.parametrize("trait", list(V.Trait))
def test_traits_recorded(trait):
    assert View([2], trait=trait).trait is trait


def test_enum_codes_and_aliases():
    assert (V.LayoutRight.code, V.LayoutLeft.code, V.LayoutStride.code) == ("C", "F", "A")
    assert V.LayoutDefault.code == "C"
    assert V.Layout.LayoutLeft is V.LayoutLeft
    assert V.MemorySpace.CudaSpace is V.CudaSpace and V.Trait.Atomic is V.Atomic
    assert {m.name for m in V.MemorySpace} == {"HostSpace", "CudaSpace", "CudaUVMSpace", "MemorySpaceDefault"}
    assert {t.name for t in V.Trait} == {"Atomic", "RandomAccess", "Restrict", "Unmanaged", "TraitDefault"}
    assert repr(V.LayoutLeft) == "pk.LayoutLeft"


# --- construction errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, rank", [([], 0), ((), 0), ([1] * 9, 9)])
def test_bad_rank(shape, rank):
    with pytest.raises(KernelValueError, match=rf"rank 1 to 8; got rank {rank}"):
        View(shape)


def test_negative_extent():
    with pytest.raises(KernelValueError, match=r"extents must be >= 0; got -2 in shape \[3, -2\]"):
        View([3, -2])
    with pytest.raises(KernelValueError, match="got -1"):
        View(-1)


@pytest.mark.parametrize("shape", [[2.5], "abc", [True, 2], None, [3, "4"]])
def test_non_integer_extent(shape):
    with pytest.raises(KernelTypeError, match="View (extents must be integers|shape is an int)"):
        View(shape)


@pytest.mark.parametrize("dtype", [np.complex128, "foo", object, np.dtype(">f8"), np.float16, str])
def test_bad_dtype(dtype):
    with pytest.raises(KernelTypeError, match="invalid View dtype: .* is not a kernelkit dtype; use one of"):
        View([3], dtype)


def test_bad_space_layout_trait():
    with pytest.raises(KernelTypeError, match=r"space='gpu' is not a memory space; use one of pk.HostSpace"):
        View([3], space="gpu")
    with pytest.raises(KernelTypeError, match=r"layout='C' is not a layout; use pk.LayoutRight"):
        View([3], layout="C")
    with pytest.raises(KernelTypeError, match=r"trait=1 is not a memory trait; use one of pk.Atomic"):
        View([3], trait=1)
    with pytest.raises(KernelValueError, match="cannot be allocated with pk.LayoutStride"):
        View([3, 3], layout=V.LayoutStride)


def test_errors_are_also_builtin_exceptions():
    with pytest.raises(ValueError):
        View([])
    with pytest.raises(TypeError):
        View([3], "nope")


# --- attributes and protocols -----------------------------------------------------------------------------


def test_extent_and_stride_errors():
    v = View([3, 4])
    with pytest.raises(KernelValueError, match=r"extent\(2\) of a rank-2 View: the dimension must be in 0..1"):
        v.extent(2)
    with pytest.raises(KernelValueError, match=r"extent\(-1\) of a rank-2 View"):
        v.extent(-1)
    with pytest.raises(KernelTypeError, match=r"extent\('0'\): the dimension must be an int"):
        v.extent("0")
    with pytest.raises(KernelValueError, match=r"stride\(5\) of a rank-2 View"):
        v.stride(5)


def test_len_iter_repr_str():
    v = View([3], int)
    np.asarray(v)[:] = [4, 5, 6]
    assert len(v) == 3
    assert list(v) == [4, 5, 6]
    assert repr(v) == "View([3], pk.int64, space=pk.HostSpace, layout=pk.LayoutRight)"
    assert str(v) == "[4 5 6]"
    w = View([2, 3], T.int32, trait=V.Atomic, layout=V.LayoutLeft)
    assert repr(w) == "View([2, 3], pk.int32, space=pk.HostSpace, layout=pk.LayoutLeft, trait=pk.Atomic)"
    w[1, 2] = 9
    rows = list(w)
    assert len(rows) == 2 and all(isinstance(r, View) for r in rows)
    assert rows[1].shape == (3,) and rows[1][2] == 9
    rows[0][0] = 7
    assert w[0, 0] == 7


def test_identity_semantics():
    a, b = View([2]), View([2])
    assert a == a and a != b
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"
    assert hash(a) == object.__hash__(a)


def test_data_is_the_host_array():
    v = View([2, 2])
    assert isinstance(v.data, np.ndarray)
    v.data[1, 1] = 3.0
    assert v[1, 1] == 3.0
    assert v.data is v._array


def test_fill():
    v = View([2, 3], T.int32)
    v.fill(7)
    assert (np.asarray(v) == 7).all()
    v.fill(2.0)  # an integral float is exact
    assert (np.asarray(v) == 2).all()
    f = View([3], T.float32)
    f.fill(0.5)
    assert (np.asarray(f) == 0.5).all()
    b = View([3], bool)
    b.fill(True)
    assert np.asarray(b).all()


def test_fill_rejects_lossy_values():
    v = View([3], T.int8)
    with pytest.raises(KernelTypeError, match=r"cannot fill a pk.int8 View: 1.5 is not an integer value"):
        v.fill(1.5)
    with pytest.raises(KernelTypeError, match="nan is not an integer value"):
        v.fill(float("nan"))
    with pytest.raises(KernelValueError, match=r"300 does not fit in pk.int8 \(-128 to 127\)"):
        v.fill(300)
    with pytest.raises(KernelValueError, match="-1 does not fit in pk.uint16"):
        View([2], T.uint16).fill(-1)
    with pytest.raises(KernelValueError, match="overflows pk.float32"):
        View([2], T.float32).fill(1e300)
    with pytest.raises(KernelTypeError, match="'x' is not a number"):
        v.fill("x")
    with pytest.raises(KernelTypeError, match="expected a scalar, got list"):
        v.fill([1, 2, 3])
    with pytest.raises(KernelTypeError, match="complex128 values cannot be stored as pk.int8"):
        v.fill(1 + 2j)
    assert not np.asarray(v).any()


def test_pickle_round_trip():
    v = View([2, 3], T.int16, layout=V.LayoutLeft, trait=V.RandomAccess)
    np.asarray(v)[:] = np.arange(6).reshape(2, 3)
    w = pickle.loads(pickle.dumps(v))
    assert isinstance(w, View) and w is not v
    assert w.shape == (2, 3) and w.dtype is T.int16 and w.layout is V.LayoutLeft and w.trait is V.RandomAccess
    assert (np.asarray(w) == np.arange(6).reshape(2, 3)).all()
    assert not np.shares_memory(np.asarray(w), np.asarray(v))
    s = pickle.loads(pickle.dumps(v[:, ::2]))
    assert s.layout is V.LayoutRight and (np.asarray(s) == [[0, 2], [3, 5]]).all()


# --- indexing ---------------------------------------------------------------------------------------------


def test_element_read_write():
    v = View([3, 4], int)
    v[1, 2] = 5
    assert v[1, 2] == 5 and v[1][2] == 5
    v[2][3] = 8
    assert v[2, 3] == 8 and np.asarray(v)[2, 3] == 8
    assert v[-1, -1] == 8
    x = View([4])
    x[3] = 2.5
    assert x[3] == 2.5 and x[-1] == 2.5 and x[np.int64(3)] == 2.5
    assert isinstance(x[3], np.float64)
    r = View([2, 2, 2], T.float32)
    r[1, 0, 1] = 0.25
    assert r[1][0][1] == 0.25


def test_element_index_out_of_range():
    v = View([3])
    with pytest.raises(IndexError):
        v[3]
    with pytest.raises(IndexError):
        v[0, 0]


def test_fancy_indexing_is_rejected_on_read():
    v = View([4])
    with pytest.raises(KernelTypeError, match=r"View indices are integers, slices and \.\.\.; got \[0, 2\]"):
        v[[0, 2]]
    with pytest.raises(KernelTypeError, match="boolean or integer-array indexing"):
        v[np.array([True, False, True, False])]
    with pytest.raises(KernelTypeError, match="View indices are integers"):
        v[1.0]
    with pytest.raises(KernelTypeError, match="View indices are integers"):
        v[True]


def test_setitem_with_numpy_keys_writes_through():
    v = View([4], int)
    v[[0, 2]] = 9
    v[np.array([False, True, False, False])] = 4
    assert list(v) == [9, 4, 9, 0]
    v[1:3] = [1, 2]
    assert list(v) == [9, 1, 2, 0]


def test_setitem_rejects_lossy_values():
    v = View([3], T.int32)
    with pytest.raises(KernelTypeError, match=r"cannot store into a pk.int32 View: 1.5 is not an integer value"):
        v[0] = 1.5
    with pytest.raises(KernelTypeError, match="2.5 is not an integer value"):
        v[:] = np.array([1.0, 2.5, 3.0])
    with pytest.raises(KernelValueError, match=r"does not fit in pk.int32"):
        v[:] = np.array([1, 2**40, 3])
    with pytest.raises(KernelValueError, match=r"300 does not fit in pk.int8 \(-128 to 127\)"):
        View([1], T.int8)[0] = 300
    with pytest.raises(KernelValueError, match="does not fit in pk.int8"):
        View([2], T.int8)[:] = 2**70
    with pytest.raises(KernelValueError, match="overflows pk.float32"):
        View([1], T.float32)[0] = 2**200
    with pytest.raises(KernelValueError, match="2 does not fit in pk.bool"):
        View([1], bool)[0] = 2
    assert not np.asarray(v).any()
    v[0] = 3.0
    v[1] = np.int8(-4)
    v[2] = True
    assert list(v) == [3, -4, 1]
    f = View([2], T.float32)
    f[0] = 7
    f[1] = 0.1
    assert f[0] == 7 and f[1] == np.float32(0.1)


def test_setitem_from_view():
    a = View([3], T.int16)
    b = View([3], T.int64)
    np.asarray(b)[:] = [1, 2, 3]
    a[:] = b
    assert list(a) == [1, 2, 3]
    np.asarray(b)[0] = 1 << 20
    with pytest.raises(KernelValueError, match="1048576 does not fit in pk.int16"):
        a[:] = b


# --- subviews ---------------------------------------------------------------------------------------------


def test_subview_shares_memory_and_keeps_parent():
    v = View([4, 5])
    s = v[1:3, :]
    assert isinstance(s, View)
    assert s.shape == (2, 5) and s._parent is v
    assert np.shares_memory(np.asarray(s), np.asarray(v))
    s[0, 4] = 2.0
    assert v[1, 4] == 2.0
    v[2, 0] = 3.0
    assert s[1, 0] == 3.0
    assert s.dtype is v.dtype and s.space is v.space


@pytest.mark.parametrize(
    "layout, key, code",
    [
        (V.LayoutRight, (slice(1, 3), slice(None)), "C"),
        (V.LayoutRight, (1,), "C"),
        (V.LayoutRight, (slice(None), 2), "A"),
        (V.LayoutRight, (slice(None), slice(0, 2)), "A"),
        (V.LayoutRight, (slice(None, None, 2),), "A"),
        (V.LayoutLeft, (slice(None), slice(1, 3)), "F"),
        (V.LayoutLeft, (slice(None), 2), "C"),  # one contiguous column
        (V.LayoutLeft, (1,), "A"),
        (V.LayoutLeft, (slice(0, 2), slice(None)), "A"),
        (V.LayoutRight, (Ellipsis, 0), "A"),
        (V.LayoutRight, (0, Ellipsis), "C"),
    ],
)
def test_subview_layout_codes(layout, key, code):
    v = View([4, 5], layout=layout)
    s = v[key]
    assert s.layout.code == code
    a = np.asarray(s)
    assert a.flags.c_contiguous == (code == "C")
    if code == "F":
        assert a.flags.f_contiguous
    assert np.shares_memory(a, np.asarray(v))


def test_subview_3d_left_is_f_contiguous():
    v = View([3, 4, 5], layout=V.LayoutLeft)
    s = v[:, :, 2]
    assert s.layout is V.LayoutLeft and s.shape == (3, 4)
    assert np.asarray(s).strides == (8, 24)


def test_subview_of_subview_and_strides():
    v = View([6, 6], int)
    np.asarray(v)[:] = np.arange(36).reshape(6, 6)
    s = v[::2, 1:]
    t = s[1:, ::2]
    assert t._parent is s and s._parent is v
    assert t.shape == (2, 3)
    assert t.stride(0) == 12 and t.stride(1) == 2
    assert np.asarray(t).tolist() == [[13, 15, 17], [25, 27, 29]]
    t[0, 0] = -1
    assert v[2, 1] == -1


def test_subview_inherits_trait_and_space():
    v = View([4, 4], trait=V.Atomic, space=V.CudaSpace)
    s = v[1:, 1]
    assert s.trait is V.Atomic and s.space is V.CudaSpace


def test_newaxis_and_rank_limit():
    v = View([2, 3])
    s = v[None, :, 1]
    assert s.shape == (1, 2)
    w = View([1] * 8)
    with pytest.raises(KernelValueError, match="rank 1 to 8; got rank 9"):
        w[None]


def test_subview_function():
    v = View([4, 5, 6], int)
    np.asarray(v)[:] = np.arange(120).reshape(4, 5, 6)
    s = V.subview(v, (1, 3), V.ALL, 2)
    assert s.shape == (2, 5)
    assert np.asarray(s).tolist() == np.arange(120).reshape(4, 5, 6)[1:3, :, 2].tolist()
    assert V.subview(v, 1).shape == (5, 6)
    assert V.subview(v, slice(0, 4, 2), 0).shape == (2, 6)
    assert V.subview(v, (0, 0), V.ALL, V.ALL).shape == (0, 5, 6)
    s[0, 0] = -5
    assert v[1, 0, 2] == -5


def test_subview_function_errors():
    v = View([4, 5])
    with pytest.raises(KernelValueError, match="must keep at least one dimension"):
        V.subview(v, 1, 2)
    with pytest.raises(KernelValueError, match="rank-2 View takes at most 2 indices, got 3"):
        V.subview(v, 1, 2, 3)
    with pytest.raises(KernelValueError, match=r"subview range \(2, 7\) is outside dimension 1 of extent 5"):
        V.subview(v, V.ALL, (2, 7))
    with pytest.raises(KernelValueError, match=r"subview range \(3, 1\) is outside dimension 0"):
        V.subview(v, (3, 1))
    with pytest.raises(KernelValueError, match=r"must be a \(begin, end\) pair, got \(1, 2, 3\)"):
        V.subview(v, (1, 2, 3))
    with pytest.raises(KernelTypeError, match="must hold two ints"):
        V.subview(v, (1.0, 2))
    with pytest.raises(KernelValueError, match=r"subview of a View of shape \(4, 5\): index 9 is out of bounds"):
        V.subview(v, 9)
    with pytest.raises(KernelTypeError, match="use an int, a slice, pk.ALL or a"):
        V.subview(v, [1, 2])
    with pytest.raises(KernelTypeError, match="subview index Ellipsis for dimension 0: use an int"):
        V.subview(v, ..., 1)
    with pytest.raises(KernelTypeError, match="subview\\(\\) takes a View, got ndarray"):
        V.subview(np.zeros(3), 1)


# --- NumPy interop ----------------------------------------------------------------------------------------


def test_zero_copy_both_ways():
    v = View([3, 4], T.float32)
    a = np.asarray(v)
    assert np.shares_memory(a, v._array)
    a[1, 2] = 4.5
    assert v[1, 2] == 4.5
    v[0, 3] = -1.0
    assert a[0, 3] == -1.0
    assert np.shares_memory(np.asarray(v, dtype=np.float32), a)


def test_dunder_array():
    v = View([2, 3], T.int32, layout=V.LayoutLeft)
    assert v.__array__() is v._array
    assert v.__array__(copy=False) is v._array
    c = v.__array__(copy=True)
    assert not np.shares_memory(c, v._array) and c.flags.f_contiguous
    d = v.__array__(np.float64)
    assert d.dtype == np.float64 and not np.shares_memory(d, v._array)
    assert v.__array__(np.int32, copy=False) is v._array
    with pytest.raises(ValueError, match="requires a copy"):
        v.__array__(np.float64, copy=False)
    copied = np.array(v)
    copied[0, 0] = 1
    assert v[0, 0] == 0


def test_array_interface():
    v = View([3, 2], T.uint16, layout=V.LayoutLeft)
    ai = v.__array_interface__
    assert ai["data"][0] == v._array.__array_interface__["data"][0]
    assert ai["data"][1] is False
    assert ai["shape"] == (3, 2) and ai["typestr"] == "<u2"
    assert ai["strides"] == (2, 6)

    class Holder:
        def __init__(self, ai):
            self.__array_interface__ = ai

    b = np.asarray(Holder(ai))
    b[2, 1] = 11
    assert v[2, 1] == 11


def test_memoryview():
    v = View([3, 4], T.int32)
    m = memoryview(v)
    assert m.format == "i" and m.shape == (3, 4) and m.strides == (16, 4) and not m.readonly
    m[1, 2] = 42
    assert v[1, 2] == 42
    v[2, 3] = 7
    assert m[2, 3] == 7
    s = memoryview(v[:, 1])
    assert s.shape == (3,) and s.strides == (16,)
    assert memoryview(View([2], bool)).format == "?"


def test_dlpack_round_trip():
    v = View([3, 4], T.float64, layout=V.LayoutLeft)
    assert v.__dlpack_device__() == (1, 0)
    d = np.from_dlpack(v)
    assert np.shares_memory(d, v._array) and d.strides == (8, 24)
    d[2, 3] = 9.0
    assert v[2, 3] == 9.0
    s = v[1:, 3]
    e = np.from_dlpack(s)
    assert np.shares_memory(e, d) and e[1] == 9.0
    back = V.asarray(d)
    back[0, 0] = 1.0
    assert v[0, 0] == 1.0


def test_numpy_functions_accept_views():
    v = View([4])
    np.asarray(v)[:] = [1, 2, 3, 4]
    assert np.sum(v) == 10
    assert np.allclose(np.sqrt(v), [1, 2**0.5, 3**0.5, 2])
    assert np.array_equal(v, [1, 2, 3, 4])


# --- asarray / from_numpy ---------------------------------------------------------------------------------


def test_asarray_wraps_without_copy():
    a = np.zeros((3, 4), dtype=np.int32)
    v = V.asarray(a)
    assert v._array is a and v.trait is V.Unmanaged and v.space is V.HostSpace
    assert v.dtype is T.int32 and v.layout is V.LayoutRight and v.shape == (3, 4)
    v[2, 3] = 5
    assert a[2, 3] == 5
    a[0, 0] = -2
    assert v[0, 0] == -2
    assert V.asarray(v) is v
    assert V.from_numpy is V.asarray and V.array(a)._array is a  # pk.array without keywords: asarray


@pytest.mark.parametrize(
    "make, code",
    [
        (lambda: np.zeros((3, 4)), "C"),
        (lambda: np.zeros((3, 4), order="F"), "F"),
        (lambda: np.zeros((3, 4))[:, ::2], "A"),
        (lambda: np.zeros(8)[::-1], "A"),
        (lambda: np.zeros(8)[::3], "A"),
        (lambda: np.zeros(5), "C"),
    ],
)
def test_asarray_layouts(make, code):
    a = make()
    v = V.asarray(a)
    assert v.layout.code == code
    assert np.shares_memory(np.asarray(v), a)
    v[(0,) * a.ndim] = 3.0
    assert a[(0,) * a.ndim] == 3.0


@pytest.mark.parametrize("dtype", T.SCALARS, ids=lambda t: t.name)
def test_asarray_every_dtype(dtype):
    a = np.ones(3, dtype=dtype.np_dtype)
    assert V.asarray(a).dtype is dtype


def test_asarray_buffer_and_interface_objects():
    buf = bytearray(16)
    v = V.asarray(buf)
    assert v.dtype is T.uint8 and v.shape == (16,)
    v[3] = 200
    assert buf[3] == 200
    m = memoryview(bytearray(24)).cast("d")
    w = V.asarray(m)
    w[1] = 2.5
    assert m[1] == 2.5

    class Iface:
        def __init__(self, arr):
            self.arr = arr
            self.__array_interface__ = arr.__array_interface__

    base = np.zeros((2, 2), dtype=np.uint32)
    x = V.asarray(Iface(base))
    x[1, 1] = 6
    assert base[1, 1] == 6


def test_asarray_dlpack_only_object():
    base = np.zeros(5, dtype=np.int16)

    class OnlyDlpack:
        def __dlpack__(self, **kw):
            return base.__dlpack__(**kw)

        def __dlpack_device__(self):
            return base.__dlpack_device__()

    v = V.asarray(OnlyDlpack())
    v[4] = 12
    assert base[4] == 12

    class DeviceArray:
        def __dlpack__(self, **kw):
            raise BufferError("device memory")

        def __dlpack_device__(self):
            return (2, 0)

    with pytest.raises(KernelTypeError, match="cannot wrap a DeviceArray without copying"):
        V.asarray(DeviceArray())


def test_asarray_copies_python_sequences():
    v = V.asarray([[1, 2], [3, 4]])
    assert v.dtype is T.int64 and v.shape == (2, 2) and v[1, 0] == 3 and v.trait is V.TraitDefault
    f = V.asarray((1.5, 2.5))
    assert f.dtype is T.float64 and list(f) == [1.5, 2.5]
    with pytest.raises(KernelValueError, match="cannot turn the list into an array"):
        V.asarray([[1, 2], [3]])
    with pytest.raises(KernelTypeError, match="list of dtype <U1 has no kernelkit dtype"):
        V.asarray(["a", "b"])


def test_asarray_errors():
    with pytest.raises(KernelTypeError, match="ndarray of dtype complex128 has no kernelkit dtype"):
        V.asarray(np.zeros(3, dtype=np.complex128))
    with pytest.raises(KernelTypeError, match=r"dtype >f8 has no kernelkit dtype.*native byte order"):
        V.asarray(np.zeros(3, dtype=">f8"))
    with pytest.raises(KernelTypeError, match="dtype object"):
        V.asarray(np.array([1, "a"], dtype=object))
    with pytest.raises(KernelValueError, match=r"rank 1 to 8; got rank 0"):
        V.asarray(np.zeros(()))
    with pytest.raises(KernelValueError, match="needs an array of rank 1 to 8; got the scalar 3.0"):
        V.asarray(3.0)
    with pytest.raises(KernelValueError, match="got rank 9"):
        V.asarray(np.zeros([1] * 9))
    with pytest.raises(KernelTypeError, match="masked arrays are not supported"):
        V.asarray(np.ma.masked_array([1.0, 2.0], mask=[0, 1]))

    class NeedsCopy:
        def __array__(self, dtype=None, copy=None):
            if copy is False:
                raise ValueError("no")
            return np.zeros(3)

    with pytest.raises(KernelTypeError, match="a NeedsCopy cannot be wrapped without copying"):
        V.asarray(NeedsCopy())


def test_asarray_rejects_odd_memory():
    raw = np.zeros(100, dtype=np.uint8)
    odd = np.ndarray((4,), dtype=np.float64, buffer=raw, offset=1)
    with pytest.raises(KernelValueError, match="not aligned to its element size"):
        V.asarray(odd)
    packed = np.ndarray((3,), dtype=np.int32, buffer=raw, strides=(6,))
    with pytest.raises(KernelValueError, match=r"strides \(6,\) are not multiples of the element size 4"):
        V.asarray(packed)


def test_asarray_of_ndarray_subclass():
    class Sub(np.ndarray):
        pass

    m = np.zeros((2, 2)).view(Sub)
    v = V.asarray(m)
    assert type(v._array) is np.ndarray
    v[1, 1] = 3.0
    assert m[1, 1] == 3.0


# --- deep_copy / mirrors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("src_layout", [V.LayoutRight, V.LayoutLeft])
@pytest.mark.parametrize("dst_layout", [V.LayoutRight, V.LayoutLeft])
def test_deep_copy_between_layouts(src_layout, dst_layout):
    ref = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    a = View([2, 3, 4], layout=src_layout)
    np.asarray(a)[:] = ref
    b = View([2, 3, 4], layout=dst_layout)
    V.deep_copy(b, a)
    assert np.array_equal(np.asarray(b), ref)
    assert np.asarray(b).flags.f_contiguous == (dst_layout is V.LayoutLeft)
    assert not np.shares_memory(np.asarray(a), np.asarray(b))


def test_deep_copy_sources_and_destinations():
    v = View([2, 3], T.int32)
    V.deep_copy(v, np.arange(6).reshape(2, 3))
    assert np.asarray(v).tolist() == [[0, 1, 2], [3, 4, 5]]
    V.deep_copy(v, [[1, 1, 1], [2, 2, 2]])
    assert np.asarray(v).tolist() == [[1, 1, 1], [2, 2, 2]]
    V.deep_copy(v, 7)
    assert (np.asarray(v) == 7).all()
    out = np.zeros((2, 3), dtype=np.int64)
    V.deep_copy(out, v)
    assert (out == 7).all()
    f = View([2, 3], T.float32)
    V.deep_copy(f, v)  # int32 -> float32 keeps the values
    assert (np.asarray(f) == 7).all()
    V.deep_copy(v, v)
    assert (np.asarray(v) == 7).all()


def test_deep_copy_into_strided_subview():
    v = View([4, 4], int)
    V.deep_copy(v[:, 1], np.array([1, 2, 3, 4]))
    assert np.asarray(v)[:, 1].tolist() == [1, 2, 3, 4]
    assert np.asarray(v).sum() == 10
    V.deep_copy(v[::2, ::2], v[1::2, 1::2])
    assert np.asarray(v)[0, 0] == 2 and np.asarray(v)[2, 0] == 4


def test_deep_copy_overlapping():
    v = View([6], int)
    np.asarray(v)[:] = np.arange(6)
    V.deep_copy(v[1:], v[:-1])
    assert list(v) == [0, 0, 1, 2, 3, 4]


def test_deep_copy_errors():
    v = View([2, 3])
    with pytest.raises(KernelValueError, match=r"shapes differ: destination \(2, 3\), source \(3, 2\)"):
        V.deep_copy(v, View([3, 2]))
    with pytest.raises(KernelValueError, match=r"shapes differ: destination \(2, 3\), source \(3,\)"):
        V.deep_copy(v, np.zeros(3))
    with pytest.raises(KernelTypeError, match="destination must be a View or a NumPy array, got list"):
        V.deep_copy([0, 0], v)
    i = View([3], T.int16)
    with pytest.raises(KernelTypeError, match=r"deep_copy into a pk.int16 View: 0.5 is not an integer value"):
        V.deep_copy(i, np.array([1.0, 0.5, 2.0]))
    with pytest.raises(KernelValueError, match=r"70000 does not fit in pk.int16 \(-32768 to 32767\)"):
        V.deep_copy(i, np.array([1, 70000, 2]))
    with pytest.raises(KernelValueError, match="overflows pk.float32"):
        V.deep_copy(View([2], T.float32), np.array([1.0, -1e300]))
    with pytest.raises(KernelTypeError, match="<U1 values cannot be stored as pk.int16"):
        V.deep_copy(i, np.array(["a", "b", "c"]))
    with pytest.raises(KernelTypeError, match="complex128 values cannot be stored"):
        V.deep_copy(View([1]), np.array([1j]))
    assert not np.asarray(i).any()


def test_deep_copy_lossless_narrowing_is_allowed():
    i = View([3], T.int8)
    V.deep_copy(i, np.array([-128, 0, 127], dtype=np.int64))
    assert list(i) == [-128, 0, 127]
    V.deep_copy(i, np.array([1.0, 2.0, -3.0]))
    assert list(i) == [1, 2, -3]
    f = View([3], T.float32)
    V.deep_copy(f, np.array([0.1, np.inf, np.nan]))
    a = np.asarray(f)
    assert a[0] == np.float32(0.1) and np.isinf(a[1]) and np.isnan(a[2])


def test_create_mirror_view_is_the_view():
    v = View([3, 3], space=V.CudaSpace)
    assert V.create_mirror_view(v) is v
    s = v[1:]
    assert V.create_mirror_view(s) is s
    with pytest.raises(KernelTypeError, match="create_mirror_view\\(\\) takes a View, got ndarray"):
        V.create_mirror_view(np.zeros(3))


def test_create_mirror_is_new_host_memory():
    v = View([3, 4], T.int16, layout=V.LayoutLeft, space=V.CudaSpace)
    v.fill(5)
    m = V.create_mirror(v)
    assert m is not v
    assert m.shape == (3, 4) and m.dtype is T.int16 and m.layout is V.LayoutLeft and m.space is V.HostSpace
    assert not np.asarray(m).any()  # Kokkos: create_mirror allocates, deep_copy fills
    assert not np.shares_memory(np.asarray(m), np.asarray(v))
    V.deep_copy(m, v)
    assert (np.asarray(m) == 5).all()
    s = V.create_mirror(v[:, ::2])
    assert s.layout is V.LayoutRight and s.shape == (3, 2)
    with pytest.raises(KernelTypeError, match="create_mirror\\(\\) takes a View"):
        V.create_mirror([1, 2])


# --- coherence hooks --------------------------------------------------------------------------------------


def _place_copy(v, values):
    """Give `v` a newer copy at a host-backed logical place (its buffer holds `values`); returns the place."""
    place = HostBackedPlace(base.LOGICAL_BASE + 7)
    c = coherence.ensure(v, place)
    arr = np.ndarray(v.shape, dtype=v._array.dtype, buffer=(ctypes.c_char * c.nbytes).from_address(c.ptr))
    arr[...] = values
    coherence.mark_written(v, place)
    return place


def test_host_access_syncs_when_host_is_stale():
    for access in (
        lambda v: v[0],
        lambda v: memoryview(v)[0],  # the native buffer protocol
        lambda v: np.asarray(v)[0],
        lambda v: v.data[0],
        lambda v: np.from_dlpack(v)[0],
    ):
        v = View([4], int)
        _place_copy(v, 42)
        assert v._flags & _native.HOST_STALE
        coherence.reset_stats()
        assert access(v) == 42 and coherence.stats()["d2h"] == 1
        assert not v._flags & _native.HOST_STALE
        assert v[1] == 42 and coherence.stats()["d2h"] == 1  # only once


def test_host_writes_mark_the_device_copy_stale():
    v = View([4], int)
    place = _place_copy(v, 0)
    _ = v[0]
    assert not v._flags & _native.DEVICE_STALE  # a read leaves the other copy valid
    for write in (lambda: v.__setitem__(0, 1), lambda: v.fill(3), lambda: V.deep_copy(v, np.arange(4))):
        coherence.ensure(v, place)
        assert not v._flags & _native.DEVICE_STALE
        write()
        assert v._flags & _native.DEVICE_STALE
    plain = View([4])
    plain[0] = 1.0
    assert plain._flags == 0  # no other copy, nothing to mark


def test_subview_access_syncs_and_marks_the_parent():
    v = View([4, 4], int)
    s = v[1:3, 1:3]
    place = _place_copy(v, 42)
    coherence.reset_stats()
    assert s[0, 0] == 42 and coherence.stats()["d2h"] == 1
    coherence.ensure(v, place)
    s[0, 0] = 5
    assert v._flags & _native.DEVICE_STALE and v[1, 1] == 5
