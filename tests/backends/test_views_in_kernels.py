"""Views and NumPy arrays as kernel arguments: LayoutRight/LayoutLeft, Fortran-ordered and strided (sliced)
arrays, subviews, ranks up to 8, objects exposing __array_interface__. Arrays are used without copies:
writes land in the caller's array. A layout kernelkit does not take directly must give a clear KernelError,
never garbage."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk


@pk.workunit
def fill_2d(i, out):
    for j in range(out.extent(1)):
        out[i, j] = 10 * i + j


@pk.workunit
def fill_3d(i, out):
    for j in range(out.extent(1)):
        for k in range(out.extent(2)):
            out[i, j, k] = 100 * i + 10 * j + k


@pk.workunit
def scale_2d(i, a, out):
    for j in range(a.extent(1)):
        out[i, j] = 2.0 * a[i, j] + a[i][j]


@pk.workunit
def scale_1d(i, x, out):
    out[i] = 3.0 * x[i]


@pk.workunit
def rank8(i, a, out):
    s = 0.0
    for j in range(a.extent(1)):
        for k in range(a.extent(7)):
            s += a[i, j, 0, 1, 0, 1, 0, k]
    out[i] = s


@pk.workunit
def touch_rank8(i, a):
    a[i, 1, 1, 0, 1, 0, 1, 1] = i + 0.5


def _correct_or_kernel_error(run) -> bool:
    """Run; a KernelError is an acceptable answer (a clear refusal). Returns whether it ran."""
    try:
        run()
    except pk.KernelError as exc:
        assert str(exc)
        return False
    return True


# ------------------------------------------------------------------------------------------------- layouts


@pytest.mark.parametrize("layout", ["LayoutRight", "LayoutLeft"])
def test_view_layouts_2d(space, layout):
    v = pk.View([4, 6], pk.double, layout=getattr(pk, layout))
    arr = np.asarray(v)
    if layout == "LayoutLeft":
        assert arr.flags.f_contiguous
    else:
        assert arr.flags.c_contiguous
    pk.parallel_for(pk.RangePolicy(space, 0, 4), fill_2d, out=v)
    expected = 10 * np.arange(4)[:, None] + np.arange(6)[None, :]
    np.testing.assert_array_equal(np.asarray(v), expected)


@pytest.mark.parametrize("layout", ["LayoutRight", "LayoutLeft"])
def test_view_layouts_3d(space, layout):
    v = pk.View([3, 4, 5], pk.int32, layout=getattr(pk, layout))
    pk.parallel_for(pk.RangePolicy(space, 0, 3), fill_3d, out=v)
    i, j, k = np.meshgrid(np.arange(3), np.arange(4), np.arange(5), indexing="ij")
    np.testing.assert_array_equal(np.asarray(v), 100 * i + 10 * j + k)


def test_layout_left_view_read(space, rng):
    a = pk.View([5, 3], pk.double, layout=pk.LayoutLeft)
    data = rng.standard_normal((5, 3))
    np.asarray(a)[:] = data
    out = np.zeros((5, 3))
    pk.parallel_for(pk.RangePolicy(space, 0, 5), scale_2d, a=a, out=out)
    np.testing.assert_array_equal(out, 3.0 * data)


def test_fortran_numpy_arrays_in_and_out(space, rng):
    a = np.asfortranarray(rng.standard_normal((6, 4)))
    out = np.asfortranarray(np.zeros((6, 4)))
    pk.parallel_for(pk.RangePolicy(space, 0, 6), scale_2d, a=a, out=out)
    np.testing.assert_array_equal(out, 3.0 * a)
    assert out.flags.f_contiguous


def test_c_and_fortran_arrays_mixed(space, rng):
    a = rng.standard_normal((6, 4))
    out = np.asfortranarray(np.zeros((6, 4)))
    pk.parallel_for(pk.RangePolicy(space, 0, 6), scale_2d, a=a, out=out)
    np.testing.assert_array_equal(out, 3.0 * a)
    out_c = np.zeros((6, 4))
    pk.parallel_for(pk.RangePolicy(space, 0, 6), scale_2d, a=np.asfortranarray(a), out=out_c)
    np.testing.assert_array_equal(out_c, 3.0 * a)


def test_transposed_array(space, rng):
    base = rng.standard_normal((4, 7))
    out = np.zeros((7, 4))
    ran = _correct_or_kernel_error(lambda: pk.parallel_for(pk.RangePolicy(space, 0, 7), scale_2d, a=base.T, out=out))
    if ran:
        np.testing.assert_array_equal(out, 3.0 * base.T)


# ------------------------------------------------------------------------------------------ strided arrays


@pytest.mark.parametrize("how", ["step2", "reversed", "column", "offset_step3"])
def test_strided_input(space, rng, how):
    base = rng.standard_normal((20, 3))
    x = {
        "step2": base[::2, 0],
        "reversed": base[::-1, 1],
        "column": base[:, 2],
        "offset_step3": base[1::3, 1],
    }[how]
    out = np.zeros(len(x))
    ran = _correct_or_kernel_error(lambda: pk.parallel_for(pk.RangePolicy(space, 0, len(x)), scale_1d, x=x, out=out))
    if ran:
        np.testing.assert_array_equal(out, 3.0 * x)


@pytest.mark.parametrize("how", ["step2", "reversed", "column"])
def test_strided_output_writes_land_in_the_original(space, rng, how):
    base = np.zeros((20, 3))
    view = {"step2": base[::2, 0], "reversed": base[::-1, 1], "column": base[:, 2]}[how]
    x = rng.standard_normal(len(view))
    ran = _correct_or_kernel_error(lambda: pk.parallel_for(pk.RangePolicy(space, 0, len(x)), scale_1d, x=x, out=view))
    if ran:
        np.testing.assert_array_equal(view, 3.0 * x)
        expected = np.zeros((20, 3))
        {"step2": expected[::2, 0], "reversed": expected[::-1, 1], "column": expected[:, 2]}[how][:] = 3.0 * x
        np.testing.assert_array_equal(base, expected)  # written in place, nothing else touched


def test_strided_2d_block(space, rng):
    base = rng.standard_normal((10, 12))
    a = base[1:9:2, 2:11:3]
    out_base = np.zeros((10, 12))
    out = out_base[::2, ::3][: a.shape[0], : a.shape[1]]
    ran = _correct_or_kernel_error(
        lambda: pk.parallel_for(pk.RangePolicy(space, 0, a.shape[0]), scale_2d, a=a, out=out)
    )
    if ran:
        np.testing.assert_array_equal(out, 3.0 * a)
        assert np.count_nonzero(out_base) == np.count_nonzero(3.0 * a)


def test_non_native_byte_order(space):
    x = np.arange(8, dtype=">f8")
    out = np.zeros(8)
    ran = _correct_or_kernel_error(lambda: pk.parallel_for(pk.RangePolicy(space, 0, 8), scale_1d, x=x, out=out))
    if ran:
        np.testing.assert_array_equal(out, 3.0 * np.arange(8))


# ------------------------------------------------------------------------------------------------- subviews


def test_subview_shares_memory_with_parent(space):
    v = pk.View([10], pk.double)
    sub = v[2:6]
    x = np.arange(4, dtype=np.float64) + 1
    pk.parallel_for(pk.RangePolicy(space, 0, 4), scale_1d, x=x, out=sub)
    expected = np.zeros(10)
    expected[2:6] = 3.0 * x
    np.testing.assert_array_equal(np.asarray(v), expected)


def test_2d_subview_row_block(space, rng):
    v = pk.View([6, 5], pk.double)
    sub = v[1:4, :]
    data = rng.standard_normal((3, 5))
    pk.parallel_for(pk.RangePolicy(space, 0, 3), scale_2d, a=data, out=sub)
    expected = np.zeros((6, 5))
    expected[1:4] = 3.0 * data
    np.testing.assert_array_equal(np.asarray(v), expected)


# --------------------------------------------------------------------------------------------- ranks, interop


def test_rank8_arrays(space, rng):
    a = rng.standard_normal((3, 2, 1, 2, 1, 2, 1, 4))
    out = np.zeros(3)
    pk.parallel_for(pk.RangePolicy(space, 0, 3), rank8, a=a, out=out)
    np.testing.assert_allclose(out, a[:, :, 0, 1, 0, 1, 0, :].sum(axis=(1, 2)), rtol=1e-14)
    b = pk.View([3, 2, 2, 2, 2, 2, 2, 2], pk.double)
    pk.parallel_for(pk.RangePolicy(space, 0, 3), touch_rank8, a=b)
    arr = np.asarray(b)
    np.testing.assert_array_equal(arr[:, 1, 1, 0, 1, 0, 1, 1], np.arange(3) + 0.5)
    assert np.count_nonzero(arr) == 3  # nothing else written


class ArrayInterfaceOnly:
    """Exposes memory only through __array_interface__ (not an ndarray subclass)."""

    def __init__(self, arr):
        self._arr = arr
        self.__array_interface__ = arr.__array_interface__


def test_array_interface_objects_zero_copy(space):
    backing_in = np.arange(6, dtype=np.float64)
    backing_out = np.zeros(6)
    pk.parallel_for(
        pk.RangePolicy(space, 0, 6),
        scale_1d,
        x=ArrayInterfaceOnly(backing_in),
        out=ArrayInterfaceOnly(backing_out),
    )
    np.testing.assert_array_equal(backing_out, 3.0 * backing_in)


def test_same_array_as_input_and_output(space):
    x = np.arange(10, dtype=np.float64)
    pk.parallel_for(pk.RangePolicy(space, 0, 10), scale_1d, x=x, out=x)
    np.testing.assert_array_equal(x, 3.0 * np.arange(10))
