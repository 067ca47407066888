"""Host element access from Python: the native paths of ViewBase (runtime/native/view.c) and their fallbacks.

`v[i]`, `v[i, j]` and `v[i][j]` with integer indices are served in C when the host copy is current; these tests
pin down that the result is exactly what the Python path (and NumPy) gives: values, scalar types, errors,
subviews and their attributes, and the coherence flags a write leaves behind.
"""

from __future__ import annotations

import ctypes
import gc

import numpy as np
import pytest

import kernelkit as pk
from kernelkit import _native
from kernelkit.api.views import View
from kernelkit.backends import base
from kernelkit.backends.base import HostBackedPlace
from kernelkit.errors import KernelTypeError, KernelValueError
from kernelkit.runtime import coherence

DTYPES = [
    np.bool_,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.float32,
    np.float64,
]


def _place(n: int = 11) -> HostBackedPlace:
    return HostBackedPlace(base.LOGICAL_BASE + n)


def _copy_array(v, place) -> np.ndarray:
    """The buffer of `v`'s copy at a host-backed place, as an array."""
    c = coherence._copies(coherence.root_of(v))[place.code]
    raw = (ctypes.c_char * c.nbytes).from_address(c.base)
    return np.ndarray(v.shape, dtype=v._array.dtype, buffer=raw, offset=c.offset, strides=v._array.strides)


# --- reads ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_read_returns_numpys_scalar_type(dtype):
    a = (np.arange(24) % 2 if dtype is np.bool_ else np.arange(24)).astype(dtype).reshape(2, 3, 4)
    v = pk.View([2, 3, 4], dtype)
    np.asarray(v)[...] = a
    for got, want in ((v[1, 2, 3], a[1, 2, 3]), (v[1][2][3], a[1][2][3]), (v[-1, -2, -3], a[-1, -2, -3])):
        assert type(got) is type(want) and got == want
    flat = pk.View([5], dtype)
    assert type(flat[4]) is type(np.zeros(5, dtype)[4])


def test_read_indices_like_numpy():
    a = np.arange(60.0).reshape(3, 4, 5)
    v = pk.asarray(a.copy())
    for key in [0, 2, -1, (1, 2), (-1, -1, -1), (np.int64(1), np.int32(2), np.uint8(3)), (1, -4, 0)]:
        got, want = v[key], a[key]
        if isinstance(want, np.ndarray):
            assert isinstance(got, View) and got.shape == want.shape
            np.testing.assert_array_equal(np.asarray(got), want)
        else:
            assert got == want and type(got) is type(want)


def test_index_errors_come_from_the_python_path():
    v = pk.View([3, 4], int)
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        v[3]
    with pytest.raises(IndexError, match="out of bounds"):
        v[0, -5]
    with pytest.raises(IndexError, match="out of bounds"):
        v[0][4]
    with pytest.raises(IndexError):
        v[2**80]
    with pytest.raises(IndexError, match="too many indices"):
        v[0, 0, 0]
    with pytest.raises(KernelTypeError, match="View indices are integers"):
        v[True]
    with pytest.raises(KernelTypeError, match="View indices are integers"):
        v[0][np.array([0, 1])]
    with pytest.raises(TypeError, match="cannot be deleted"):
        del v[0, 0]


# --- subviews made by the native path -------------------------------------------------------------------------


@pytest.mark.parametrize("layout", [pk.LayoutRight, pk.LayoutLeft])
def test_row_subviews_are_views_of_the_same_memory(layout):
    v = pk.View([4, 3, 2], pk.int32, layout=layout)
    row = v[2]
    assert isinstance(row, View) and row._flags & _native.DERIVED
    assert row._parent is v and row._rootview is v
    assert row.shape == (3, 2) and row.dtype is v.dtype and row.space is v.space and row.trait is v.trait
    expect = np.asarray(v)[2]
    assert row.layout.code == ("C" if expect.flags.c_contiguous else "A")
    assert row._array.strides == expect.strides and np.shares_memory(row._array, np.asarray(v))
    cell = row[1]
    assert cell._parent is row and cell._rootview is v and cell.shape == (2,)
    cell[1] = 7
    assert v[2, 1, 1] == 7 and np.asarray(v)[2, 1, 1] == 7
    np.asarray(row)[0, 0] = 9  # through the lazily made host array
    assert v[2][0][0] == 9
    assert len(row) == 3 and [list(r) for r in row] == [list(x) for x in expect]


def test_subviews_from_both_paths_agree():
    v = pk.View([3, 4, 5], pk.double)
    np.asarray(v)[...] = np.arange(60.0).reshape(3, 4, 5)
    fast, slow = v[1], v[1, :, :]  # a slice goes through View._getitem
    assert fast._rootview is v and slow._rootview is v
    assert fast.shape == slow.shape and fast.layout is slow.layout
    np.testing.assert_array_equal(np.asarray(fast), np.asarray(slow))
    assert slow[2][3] == fast[2, 3] == 13.0 + 20.0
    assert v[1:3][1][2][3] == np.asarray(v)[2, 2, 3]  # a native row of a Python-made subview


def test_subview_keeps_memory_alive():
    v = pk.View([100, 100], pk.double)
    v[5, 6] = 2.5
    row = v[5]
    del v
    gc.collect()
    assert row[6] == 2.5
    row[6] = 3.5
    assert np.asarray(row)[6] == 3.5 and row._parent[5, 6] == 3.5


def test_subview_passed_to_a_kernel():
    @pk.workunit
    def bump(i, r):
        r[i] += 1.0

    v = pk.View([3, 4], pk.double)
    pk.parallel_for(pk.RangePolicy(pk.Debug, 0, 4), bump, r=v[1])
    assert list(np.asarray(v)[1]) == [1.0] * 4 and not np.asarray(v)[[0, 2]].any()


def test_buffer_protocol_of_a_native_subview():
    v = pk.View([2, 3], pk.int16)
    v[1, 2] = -3
    m = memoryview(v[1])
    assert m.format == "h" and m.shape == (3,) and m[2] == -3


def test_read_only_memory_stays_read_only():
    a = np.arange(6.0).reshape(2, 3)
    a.flags.writeable = False
    v = pk.asarray(a)
    assert v[1, 2] == 5.0 and v[1][2] == 5.0
    for store in (lambda: v.__setitem__((0, 0), 1.0), lambda: v[0].__setitem__(0, 1.0)):
        with pytest.raises(ValueError, match="read-only"):
            store()
    assert a[0, 0] == 0.0


# --- writes: exact or refused -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_python_numbers_are_stored_exactly(dtype):
    v = pk.View([4], dtype)
    kind = np.dtype(dtype).kind
    values = [True, False] if kind == "b" else [0, 1, 3.0, 100]
    if kind in "iu":
        info = np.iinfo(dtype)
        values += [int(info.max), int(info.min), float(2 ** min(info.bits - 2, 52))]
    if kind == "f":
        values += [-2.5, 2**24, -(2**24), float("inf"), 1e-30, 2**53 + 1 if dtype is np.float64 else 16777217]
    for x in values:
        v[1] = x
        want = np.zeros(1, dtype)
        want[0] = x
        assert v[1] == want[0] and type(v[1]) is type(want[0]), x
        v[1, ...] = 0  # the Python path for comparison
        v[(1,)] = x
        assert v[1] == want[0]
    v[2] = dtype(1)  # a NumPy scalar of the View's own type
    assert v[2] == 1


@pytest.mark.parametrize(
    "dtype, value, error, match",
    [
        (np.int32, 1.5, KernelTypeError, "1.5 is not an integer value of pk.int32"),
        (np.int64, float("nan"), KernelTypeError, "not an integer value"),
        (np.int64, float("inf"), KernelTypeError, "not an integer value"),
        (np.int8, 128, KernelValueError, r"128 does not fit in pk.int8 \(-128 to 127\)"),
        (np.int8, -129.0, KernelValueError, "does not fit in pk.int8"),
        (np.uint8, -1, KernelValueError, "-1 does not fit in pk.uint8"),
        (np.uint64, -1.0, KernelValueError, "does not fit in pk.uint64"),
        (np.uint64, 2**64, KernelValueError, "does not fit in pk.uint64"),
        (np.int64, 2**63, KernelValueError, "does not fit in pk.int64"),
        (np.int64, 2.0**63, KernelValueError, "does not fit in pk.int64"),
        (np.float32, 1e300, KernelValueError, "overflows pk.float32"),
        (np.float32, 2**200, KernelValueError, "overflows pk.float32"),
        (np.bool_, 2, KernelValueError, "2 does not fit in pk.bool"),
        (np.float64, "1.0", KernelTypeError, "is not a number"),
        (np.float64, [1.0], ValueError, "sequence"),
    ],
)
def test_lossy_values_are_refused(dtype, value, error, match):
    v = pk.View([2, 2], dtype)
    for store in (lambda: v.__setitem__((1, 1), value), lambda: v[1].__setitem__(1, value)):
        with pytest.raises(error, match=match):
            store()
    assert not np.asarray(v).any()


def test_large_values_take_the_rounding_path():
    v = pk.View([2], pk.double)
    v[0] = 2**60 + 1  # not exactly representable: rounded as NumPy rounds a Python int
    assert v[0] == np.float64(2**60 + 1)
    u = pk.View([2], pk.uint64)
    u[1] = 2**64 - 1
    assert u[1] == np.uint64(2**64 - 1)
    u[0] = 2.0**63
    assert u[0] == np.uint64(2**63)


# --- coherence --------------------------------------------------------------------------------------------------


def test_a_write_marks_the_device_copy_stale_once_and_the_next_use_uploads_once():
    v = pk.View([8, 8], pk.double, space=pk.CudaSpace, layout=pk.LayoutRight)
    place = _place()
    coherence.ensure(v, place)
    assert v._flags & _native.HAS_DEVICE and not v._flags & (_native.HOST_STALE | _native.DEVICE_STALE)
    assert v[3, 3] == 0.0 and v[3][3] == 0.0  # reads leave the device copy current
    assert not v._flags & _native.DEVICE_STALE
    for i in range(8):
        v[i, i] = float(i)
        v[i][(i + 1) % 8] = 1
    assert v._flags & _native.DEVICE_STALE and not v._flags & _native.HOST_STALE
    coherence.reset_stats()
    coherence.ensure(v, place)
    assert coherence.stats()["h2d"] == 1 and coherence.stats()["d2h"] == 0
    assert _copy_array(v, place)[5, 5] == 5.0 and _copy_array(v, place)[5, 6] == 1.0


def test_a_stale_host_copy_is_fetched_once_through_the_python_path():
    v = pk.View([4, 4], pk.int64)
    place = _place()
    coherence.ensure(v, place)
    _copy_array(v, place)[...] = 42
    coherence.mark_written(v, place)
    row = v[1:2][0]  # made while the host is stale: fetched then
    assert v._flags & _native.HOST_STALE == 0
    _copy_array(v, place)[...] = 7
    coherence.ensure(v, place, write=True)
    coherence.mark_written(v, place)
    coherence.reset_stats()
    assert row[2] == 7 and v[3][3] == 7 and v[0, 0] == 7
    assert coherence.stats()["d2h"] == 1


def test_writes_to_shared_copies_go_through_coherence():
    v = pk.View([4], pk.double)
    a, b = _place(12), _place(13)
    coherence.ensure(v, a)
    coherence.ensure(v, b)
    assert v._flags & _native.MULTI
    v[1] = 2.0  # every other copy becomes stale, not only the described one
    assert not v._flags & _native.MULTI
    copies = coherence._absorb(v)
    assert not copies[a.code].valid and not copies[b.code].valid
    coherence.reset_stats()
    coherence.ensure(v, b)
    assert coherence.stats()["h2d"] == 1 and _copy_array(v, b)[1] == 2.0


def test_many_subviews_alive_change_nothing():
    v = pk.View([64, 8], pk.int32)
    alive = [v[i % 64] for i in range(5000)]
    alive[10][3] = 5
    assert v[10, 3] == 5 and alive[74][3] == 5
    assert all(s._rootview is v for s in alive[:64])


def test_the_host_array_slot_takes_arrays_only():
    vb = _native.ViewBase()
    assert vb._array is None
    with pytest.raises(TypeError, match="NumPy array"):
        vb._array = [1, 2]
    with pytest.raises(AttributeError):
        vb._shape  # noqa: B018
    vb._array = np.zeros(3)
    assert vb._array.shape == (3,)
    vb._array = None
    assert vb._array is None


# --- on a real GPU ---------------------------------------------------------------------------------------------


@pk.workunit
def _double_on_gpu(i, v):
    v[i // 4, i % 4] *= 2.0


@pytest.mark.gpu
def test_cuda_views_after_launches_move_data_once():
    from kernelkit.backends.cuda import driver

    ok, reason = driver.available()
    if not ok:
        pytest.skip(f"no usable CUDA GPU: {reason}")
    v = pk.View([4, 4], pk.double, space=pk.CudaSpace, layout=pk.LayoutRight)
    for i in range(4):
        for j in range(4):
            v[i][j] = 4 * i + j  # the host copy of a new CudaSpace View: zeros, written through the fast path
    coherence.reset_stats()
    pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, 16), _double_on_gpu, v=v)
    assert coherence.stats()["h2d"] == 1 and v._flags & _native.HOST_STALE
    assert [v[i][j] for i in range(4) for j in range(4)] == [2.0 * k for k in range(16)]
    assert coherence.stats()["d2h"] == 1  # the first read fetched; the other 15 were host reads
    v[0, 0] = -1.0  # marks the device copy stale, once
    v[3][3] = -2.0
    pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, 16), _double_on_gpu, v=v)
    assert coherence.stats()["h2d"] == 2 and v[0, 0] == -2.0 and v[3, 3] == -4.0 and v[1][2] == 24.0
