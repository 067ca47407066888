"""Host element writes of values of another type (issue 17 item 13): the value stored is the one NumPy stores,
and a value the element cannot hold is an error, never a silently wrapped or garbled element. (How fast these
writes are is the host-access work of the PyKokkos-fidelity issue; this pins what they store.)"""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk


@pytest.mark.parametrize(
    ("dtype", "value"),
    [
        (pk.double, 3),
        (pk.double, 2**53 + 1),  # rounds as float() does
        (pk.double, -(2**70)),
        (pk.double, True),
        (pk.double, np.int64(-5)),
        (pk.double, np.float32(0.1)),
        (pk.float32, 0.1),
        (pk.float32, 16777217),
        (pk.int32, -(2**31)),
        (pk.int32, np.int16(-7)),
        (pk.int64, True),
        (pk.uint8, 255),
        (pk.uint64, 2**64 - 1),
    ],
)
def test_values_of_another_type_store_what_numpy_stores(dtype, value):
    v = pk.View([3], dtype)
    ref = np.zeros(3, dtype.np_dtype)
    v[1] = value
    ref[1] = value
    assert np.asarray(v).tobytes() == ref.tobytes()
    assert v[1] == ref[1]


@pytest.mark.parametrize(
    ("dtype", "value"),
    [(pk.int32, 3_000_000_000), (pk.int32, -(2**31) - 1), (pk.uint8, -1), (pk.uint8, 256), (pk.int64, 2**63)],
)
def test_integers_an_element_cannot_hold_are_errors(dtype, value):
    v = pk.View([2], dtype)
    with pytest.raises((OverflowError, ValueError)):
        v[0] = value
    assert np.asarray(v).tolist() == [0, 0]


@pytest.mark.parametrize("value", ["x", None, 1 + 2j, [1.0]])
def test_non_numbers_are_errors(value):
    v = pk.View([2], pk.double)
    with pytest.raises((TypeError, ValueError)):
        v[0] = value
    assert np.asarray(v).tolist() == [0.0, 0.0]
