"""Every movement of PArray data between places goes through this module; the scheduler and PArray call only
the five functions below, so the core's multi-place View coherence can replace their bodies without touching
them.

A place is a device of the runtime: cpu(0) or a logical GPU (`Device`, numbered by `get_global_id()`).

    prefetch(arrays, device, mode)   before a task body: make `arrays` valid on `device` for `mode`
                                     (IN: a shared copy; OUT/INOUT: the only valid copy, the others invalid)
    array_on(parray, device)         the array object to compute with on `device` (NumPy on the host)
    invalidate_others(parray, device)  `device` wrote `parray`: copies elsewhere are stale
    valid_bytes(parray, device)      bytes of `parray` already valid on `device` (the mapper's locality score)
    states(parray)                   {global id: Coherence state} of `parray` (reports and tests)

Phase 1 (now): the data stays in the PArray's host View; these functions keep the coherence *states* (MSI, per
place and per subarray, as Parla's protocol does), so locality mapping, `Coherence` reports and traces behave
as they will, but no copy is made. Phase 2: the states and the copies become the View's own multi-place
coherence (runtime/memory), `array_on` returns the device copy (a CuPy array or the View on a GPU).
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kernelkit.tasks.devices import Device
    from kernelkit.tasks.parray import PArray


class AccessMode(IntEnum):
    """How a task uses a PArray (spawn's input / output / inout)."""

    IN = 0
    OUT = 1
    INOUT = 2


class Coherence:
    """Parla's coherence states of a copy."""

    INVALID = 0
    SHARED = 1
    MODIFIED = 2


_HOST = 0  # the global id of cpu(0)


def _table(p: PArray) -> dict[Any, dict[int, int]]:
    """The root's states: {subarray key (None: the whole array): {global id: state}}. Only this module writes."""
    root = p._root
    t = root._places
    if t is None:
        t = root._places = {None: {_HOST: Coherence.MODIFIED}}
    return t


def _read(t: dict[Any, dict[int, int]], key: Any, g: int) -> None:
    row = t.setdefault(key, {})
    if row.get(g, Coherence.INVALID) == Coherence.INVALID:
        for other, st in row.items():
            if st == Coherence.MODIFIED:
                row[other] = Coherence.SHARED  # the owner's copy is now shared with the reader
        row[g] = Coherence.SHARED


def _write(t: dict[Any, dict[int, int]], key: Any, g: int) -> None:
    if key is None:
        t.clear()
        t[None] = {g: Coherence.MODIFIED}
        return
    t[key] = {g: Coherence.MODIFIED}
    whole = t.get(None, {})
    t[None] = {g: whole[g]} if g in whole else {}  # other places' whole copies now hold a stale part


def prefetch(arrays: list[PArray], device: Device, mode: AccessMode) -> None:
    """Make each PArray (or subarray) valid on `device` before a task body runs there."""
    g = device.get_global_id()
    for p in arrays:
        t = _table(p)
        if mode == AccessMode.IN:
            _read(t, p._key, g)
        else:
            _write(t, p._key, g)


def invalidate_others(parray: PArray, device: Device | None) -> None:
    """`device` (None: the host) wrote `parray`."""
    _write(_table(parray), parray._key, device.get_global_id() if device is not None else _HOST)


def array_on(parray: PArray, device: Device | None) -> Any:
    """The array to compute with on `device` (None: the host). Phase 1: the host array of the View, on every
    place (host-backed logical GPUs and real GPUs alike)."""
    return parray._view._host(write=True)


def valid_bytes(parray: PArray, device: Device) -> int:
    g = device.get_global_id()
    t = _table(parray)
    key = parray._key
    whole = t.get(None, {})
    if whole.get(g, Coherence.INVALID) != Coherence.INVALID:
        return parray.subarray_nbytes
    if key is not None:
        row = t.get(key, {})
        return parray.subarray_nbytes if row.get(g, Coherence.INVALID) != Coherence.INVALID else 0
    return 0


def states(parray: PArray) -> dict[int, int]:
    """{global id: state} of this PArray (for a subarray: of that part) on the places that hold it."""
    t = _table(parray)
    key = parray._key
    if key is not None and key in t:
        return dict(t[key])
    return dict(t.get(None, {}))
