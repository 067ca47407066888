"""Every movement of PArray data between places goes through this module; the scheduler and PArray call only
the five functions below.

A place is a device of the runtime: cpu(0) or a logical GPU (`Device`, numbered by `get_global_id()`).

    prefetch(arrays, device, mode)   before a task body: make `arrays` valid on `device` for `mode`, copying
                                     what is stale there (IN: a shared copy; OUT/INOUT: the only valid copy)
    array_on(parray, device)         the array to compute with on `device`: NumPy on the host and on logical
                                     GPUs backed by it, CuPy (or a kernelkit DeviceArray) on a physical GPU
    invalidate_others(parray, device)  `device` wrote `parray`: copies elsewhere are stale
    valid_bytes(parray, device)      bytes of `parray` already valid on `device` (the mapper's locality score)
    states(parray)                   {global id: Coherence state} of `parray` (reports and tests)

**Copies.** cpu(0)'s copy of a PArray is its root View's host array. Every other place that touches the PArray
gets a buffer of its own with the same byte layout (tasks/places.py: a NumPy buffer for a logical GPU backed by
the host, device memory on a physical GPU), so a subarray (`A[s]`) is the same bytes at every place and moves
alone. Copies to a GPU are queued on the task's stream (after its dependencies' events), so the task's event
orders its dependents after them too; copies to the host are synchronous. `stats()` counts copies and bytes per
(source, destination) and the trace shows each copy as a slice.

**States.** Parla's MSI protocol per place, for the whole array (key None) and per subarray key, as Parla keeps
them. A write of a subarray leaves no whole copy current: the root is then *split*, its data being the `base`
place's whole copy overlaid with the subarrays written since (`log`, each with one owner; overlapping entries
always have the same owner). Reading the whole, or a part that a log entry may touch (bounding boxes, so a
doubt costs a copy, never a stale read), first merges the log into the base place. Subarray index sets are
compared exactly for containment (a copy valid for `A[0:4]` serves `A[1, 2]`).

**One coherence mechanism.** The root View keeps its own host/device coherence (runtime/coherence.py) for
kernelkit kernels launched on its host memory or on `A.view` outside tasks; this module sees only its host
array, always through `View._host`, so a View written on a GPU by a kernel is downloaded before it is copied
elsewhere. Inside a task `A.view` is a View over the copy at the task's place. Outside tasks every host access
of the PArray (`A.array`, `np.asarray(A)`, `A[i]`, `A.view`, operators) first copies back what another place
modified, and the end of each Parla block writes every PArray back to its host array, so the NumPy array or View
a PArray wraps is current after the block.
"""

from __future__ import annotations

import threading
import time
import weakref
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from kernelkit.tasks import places as _places
from kernelkit.tasks.errors import CopyError

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
_INVALID, _SHARED, _MODIFIED = Coherence.INVALID, Coherence.SHARED, Coherence.MODIFIED

_homes: weakref.WeakSet = weakref.WeakSet()  # homes with a copy away from the host (written back at block ends)
_homes_lock = threading.Lock()


class _Home:
    """The copies and states of one PArray root."""

    __slots__ = (
        "lock",
        "root",
        "bufs",
        "devices",
        "t",
        "log",
        "base",
        "dims",
        "regions",
        "hosts",
        "names",
        "views",
        "__weakref__",
    )

    def __init__(self, root: PArray) -> None:
        self.root = weakref.ref(root)
        self.lock = threading.RLock()
        self.bufs: dict[int, Any] = {}  # global id -> HostBuffer / DeviceBuffer (not cpu(0): the View's array)
        self.devices: dict[int, Any] = {}  # global id -> Device
        self.t: dict[Any, dict[int, int]] = {None: {_HOST: _MODIFIED}}  # key (None: whole) -> {gid: state}
        self.log: list[Any] = []  # split: subarray keys written since the base's whole copy was current
        self.base: int | None = None  # split: the place whose whole copy is the bottom layer
        self.dims: dict[Any, tuple[range, ...]] = {}
        self.regions: dict[Any, _places.Region] = {}
        self.hosts: dict[Any, np.ndarray] = {}  # key -> the subarray's host array (the root's memory)
        self.names: dict[Any, str] = {}
        self.views: dict[tuple[int, Any], Any] = {}  # (gid, key) -> View over that copy


def _home(p: PArray) -> _Home:
    root = p._root
    h = root._places
    if h is None:
        h = root._places = _Home(root)
    return h


# --- index sets -------------------------------------------------------------------------------------------


def _dims(p: PArray, h: _Home, cache: bool = True) -> tuple[range, ...]:
    """The root indices of `p` per dimension of the root (ascending ranges); cached for keys with copies."""
    key = p._key
    if key is None:
        return _all(p)
    d = h.dims.get(key)
    if d is not None:
        return d
    shape = p._root._view.shape
    ranges = [range(n) for n in shape]
    visible = list(range(len(shape)))
    for index in p._index:
        parts = index if isinstance(index, tuple) else (index,)
        if any(k is Ellipsis for k in parts):
            at = next(i for i, k in enumerate(parts) if k is Ellipsis)
            fill = len(visible) - (len(parts) - 1)
            parts = parts[:at] + (slice(None),) * fill + parts[at + 1 :]
        keep = []
        for pos, k in enumerate(parts):
            dim = visible[pos]
            if isinstance(k, slice):
                ranges[dim] = ranges[dim][k]
                keep.append(dim)
            else:
                i = int(k)
                ranges[dim] = ranges[dim][i : i + 1] if i != -1 else ranges[dim][-1:]
        keep.extend(visible[len(parts) :])
        visible = keep
    out = tuple(r if r.step > 0 else r[::-1] for r in ranges)
    if cache:
        h.dims[key] = out
    return out


def _contains(outer: tuple[range, ...], inner: tuple[range, ...]) -> bool:
    for o, i in zip(outer, inner, strict=False):
        if len(i) == 0:
            return True
        if i[0] not in o or i[-1] not in o or (len(i) > 1 and i.step % o.step):
            return False
    return True


def _may_overlap(a: tuple[range, ...], b: tuple[range, ...]) -> bool:
    """False only when the two index sets are certainly disjoint (bounding boxes per dimension)."""
    for x, y in zip(a, b, strict=False):
        if len(x) == 0 or len(y) == 0 or x[-1] < y[0] or y[-1] < x[0]:
            return False
    return True


def _region(p: PArray, h: _Home) -> _places.Region:
    r = h.regions.get(p._key)
    if r is None:
        r = h.regions[p._key] = _places.Region(p._view._array, p._root._view._array)
        h.hosts[p._key] = p._view._array
        h.names[p._key] = p.name
        _dims(p, h)
    return r


def _all(p: PArray) -> tuple[range, ...]:
    return tuple(range(n) for n in p._root._view.shape)


# --- the places -------------------------------------------------------------------------------------------


def _device_of(device: Any) -> Any:
    """The runtime's Device for `device` (a Device, or a Parla reference such as gpu(1))."""
    if device is None:
        return None
    if getattr(device, "resolved", True):
        return device
    from kernelkit.tasks import devices as _devices

    manager = _devices._active[0]
    r = manager.resolve(device) if manager is not None else None
    if r is None:
        from kernelkit.tasks.errors import PlacementError

        where = "in this Parla context" if manager is not None else "outside a Parla context"
        raise PlacementError(f"{device!r} names no device {where}: there is no copy of the PArray to give there")
    return r


def _buffer(h: _Home, p: PArray, g: int, device: Any) -> Any:
    """The buffer at place `g` (None: the host array), allocated on first use."""
    if g == _HOST:
        return None
    b = h.bufs.get(g)
    if b is None:
        root = p._root._view._array
        if device is None:
            device = h.devices.get(g)
        if device is None or device.physical is None:
            b = _places.HostBuffer(root, repr(device))
        else:
            b = _places.DeviceBuffer(root, device.physical, repr(device))
        h.bufs[g] = b
        h.devices[g] = device
        with _homes_lock:
            _homes.add(h)
    return b


def _host_array(p: PArray, write: bool) -> np.ndarray:
    """The root's host array, current in the View's own coherence (a kernel may have left it on a GPU)."""
    return p._root._view._host(write=write)


def _label(h: _Home, g: int) -> str:
    if g == _HOST:
        return "cpu(0)"
    d = h.devices.get(g)
    return repr(d) if d is not None else f"gpu({g - 1})"


def _stream(device: Any) -> Any:
    """The running task's stream on `device` (a physical GPU), else None."""
    if device is None or device.physical is None:
        return None
    from kernelkit.tasks.environments import get_current_devices

    for env in get_current_devices():
        if env.device == device:
            return env.stream
    return None


def _copy(h: _Home, key: Any, src: int, dst: int) -> None:
    """Copy subarray `key` (None: the whole) of the root from place `src` to place `dst`, counted and traced."""
    from kernelkit.tasks import trace as _trace

    r = h.regions[key]
    t0 = time.perf_counter()
    dbuf, sbuf = h.bufs.get(dst), h.bufs.get(src)
    root = h.root()
    if root is not None:
        _host_array(root, write=dst == _HOST)  # the View's own coherence: current host memory
    device = h.devices.get(dst if dst != _HOST else src)
    try:
        if _fault[0] is not None:
            _fault[0](_label(h, src), _label(h, dst), r.nbytes)
        _places.copy(dbuf, sbuf, r, h.hosts[key], _stream(device) if dst != _HOST else None)
    except Exception as e:
        raise CopyError(
            f"copying {r.nbytes} bytes of {h.names[key]} from {_label(h, src)} to {_label(h, dst)} failed: {e}"
        ) from e
    _trace.record_copy(_label(h, src), _label(h, dst), r.nbytes, t0, time.perf_counter(), h.names[key])


_fault: list[Any] = [None]  # tests: a callable (src, dst, nbytes) that raises, to simulate a failing copy


# --- the protocol -----------------------------------------------------------------------------------------


def _whole_valid(h: _Home, g: int) -> bool:
    return h.t[None].get(g, _INVALID) != _INVALID


def _valid_at(h: _Home, p: PArray, g: int) -> bool:
    if _whole_valid(h, g):
        return True
    key = p._key
    if key is None:
        return False
    row = h.t.get(key)
    if row is not None and row.get(g, _INVALID) != _INVALID:
        return True
    if h.base == g and not _touches_log(h, p):
        return True
    d = _dims(p, h, cache=False)
    for k, row in h.t.items():
        if k is not None and row.get(g, _INVALID) != _INVALID and _contains(h.dims[k], d):
            return True
    return False


def _touches_log(h: _Home, p: PArray) -> bool:
    d = _dims(p, h, cache=False)
    return any(_may_overlap(h.dims[k], d) for k in h.log)


def _owner(row: dict[int, int]) -> int | None:
    for g, st in row.items():
        if st == _MODIFIED:
            return g
    for g, st in row.items():
        if st != _INVALID:
            return g
    return None


def _merge(h: _Home) -> None:
    """Make the base place's whole copy current again: copy each logged subarray from its owner."""
    base = h.base
    assert base is not None
    for k in h.log:
        row = h.t[k]
        o = _owner(row)
        if o is not None and o != base:
            _copy(h, k, o, base)
            row[o] = _SHARED
            row[base] = _SHARED
    h.log = []
    h.base = None
    h.t[None] = {base: _MODIFIED}


def _source(h: _Home, p: PArray, g: int) -> int:
    """A place holding `p` current (merging a split root first when needed)."""
    key = p._key
    if key is not None:
        row = h.t.get(key)
        if row is not None:
            o = _owner({x: s for x, s in row.items() if x != g})
            if o is not None:
                return o
        d = _dims(p, h)
        for k, row in h.t.items():
            if k is not None and k != key and _contains(h.dims[k], d):
                o = _owner({x: s for x, s in row.items() if x != g})
                if o is not None:
                    return o
    whole = h.t[None]
    if whole:
        if _HOST in whole and whole[_HOST] != _INVALID:
            return _HOST
        o = _owner(whole)
        if o is not None:
            return o
    if h.base is not None:
        if key is not None and not _touches_log(h, p):
            return h.base
        _merge(h)
        return _source(h, p, g)
    raise AssertionError("a PArray with no current copy")


def _read(h: _Home, p: PArray, g: int, device: Any) -> None:
    if device is not None:
        h.devices.setdefault(g, device)
    _region(p, h)
    if _valid_at(h, p, g):
        return
    key = p._key
    if key is None and h.base is not None:
        _merge(h)
        if _whole_valid(h, g):
            return
    src = _source(h, p, g)  # (may merge a split root into its base)
    if _valid_at(h, p, g):
        return
    _buffer(h, p, g, device)
    _copy(h, key, src, g)
    if key is not None:
        row = h.t.setdefault(key, {})
        for x, st in row.items():
            if st == _MODIFIED:
                row[x] = _SHARED
        row[g] = _SHARED
    whole = h.t[None]
    for x, st in whole.items():
        if st == _MODIFIED:
            whole[x] = _SHARED
    if key is None:
        whole[g] = _SHARED


def _invalidate_rows(h: _Home, d: tuple[range, ...] | None, g: int) -> None:
    """Places other than `g` lose the subarray copies that may overlap `d` (None: all)."""
    for k in list(h.t):
        if k is None:
            continue
        if d is None or _may_overlap(h.dims[k], d):
            row = h.t[k]
            kept = {g: row[g]} if g in row else {}
            if k in h.log and _owner(row) != g:
                continue  # an owner's data: merged before the write (see _write)
            h.t[k] = kept


def _write(h: _Home, p: PArray, g: int, device: Any) -> None:
    if device is not None:
        h.devices.setdefault(g, device)
    _region(p, h)
    key = p._key
    if key is None:
        h.t = {None: {g: _MODIFIED}}
        h.log = []
        h.base = None
        return
    d = _dims(p, h)
    if h.base is not None:
        for k in h.log:
            if _owner(h.t[k]) == g and _contains(h.dims[k], d):  # inside a part this place already owns
                _invalidate_rows(h, d, g)
                h.t[k] = {g: _MODIFIED}
                if k != key and key in h.t:
                    h.t[key] = {g: _MODIFIED}
                return
        if key in h.log:
            h.log.remove(key)
        if any(_may_overlap(h.dims[k], d) and _owner(h.t[k]) != g for k in h.log):
            _merge(h)
    if h.base is None:
        whole = h.t[None]
        if whole.get(g, _INVALID) != _INVALID:  # the whole copy is here: it stays the one current copy
            h.t[None] = {g: _MODIFIED}
            _invalidate_rows(h, d, g)
            if key in h.t:
                h.t[key] = {g: _MODIFIED}
            return
        h.base = _HOST if whole.get(_HOST, _INVALID) != _INVALID else _owner(whole)
        h.t[None] = {}
    _invalidate_rows(h, d, g)
    h.t[key] = {g: _MODIFIED}
    h.log.append(key)


def _gid(device: Any) -> int:
    return device.get_global_id() if device is not None else _HOST


def prefetch(arrays: list[PArray], device: Device, mode: AccessMode) -> None:
    """Make each PArray (or subarray) valid on `device` before a task body runs there (a copy of what is stale
    there, on the task's stream for a GPU); OUT and INOUT leave it the only valid copy."""
    g = device.get_global_id()
    for p in arrays:
        h = _home(p)
        with h.lock:
            t = h.t
            if p._key is None and len(t) == 1:  # the common case: a whole array with no subarray copies
                st = t[None].get(g, _INVALID)
                if st == _MODIFIED or (st == _SHARED and mode == AccessMode.IN):
                    continue  # already the only copy, or a shared copy for a reader: nothing moves or changes
            _read(h, p, g, device)
            if mode != AccessMode.IN:
                _write(h, p, g, device)


def invalidate_others(parray: PArray, device: Device | None) -> None:
    """`device` (None: the host) wrote `parray`; its data there was current (array_on made it so)."""
    h = _home(parray)
    d = _device_of(device)
    with h.lock:
        _write(h, parray, _gid(d), d)


def array_on(parray: PArray, device: Device | None, write: bool = True) -> Any:
    """The array to compute with on `device` (None: the host, outside tasks), made current there first. On the
    host `write` (the default: the caller may write what it is handed) leaves the host copy the only valid
    one, as the View's own host accesses do."""
    d = _device_of(device)
    g = _gid(d)
    h = _home(parray)
    with h.lock:
        _read(h, parray, g, d)
        if g == _HOST:
            if write and d is None:
                _write(h, parray, g, None)
            return parray._view._host(write=write)
        return h.bufs[g].array(_region(parray, h))


def view_on(parray: PArray, device: Device | None) -> Any:
    """A kernelkit View over the copy at `device` (None or cpu: the PArray's own View, current on the host)."""
    d = _device_of(device)
    g = _gid(d)
    if g == _HOST:
        array_on(parray, d, write=d is None)
        return parray._view
    from kernelkit.api import views as _views

    h = _home(parray)
    with h.lock:
        a = array_on(parray, d)
        if d is not None and d.physical is not None:
            return _views.asarray(a)  # a new View each time: its own coherence must not outlive copies made here
        v = h.views.get((g, parray._key))
        if v is None:
            v = h.views[(g, parray._key)] = _views.asarray(a)  # host memory itself: nothing to get stale
        return v


def valid_bytes(parray: PArray, device: Device) -> int:
    h = _home(parray)
    with h.lock:
        return parray.subarray_nbytes if _valid_at(h, parray, device.get_global_id()) else 0


def states(parray: PArray) -> dict[int, int]:
    """{global id: state} of this PArray (for a subarray: of that part) on the places that hold it."""
    h = _home(parray)
    with h.lock:
        key = parray._key
        out = {g: s for g, s in h.t[None].items() if s != _INVALID}
        if key is not None:
            row = h.t.get(key)
            if row:
                out.update({g: s for g, s in row.items() if s != _INVALID})
        return out


def holds(parray: PArray, g: int) -> bool:
    """True when place `g` holds bytes of this PArray's root (its whole copy, a subarray, or the split base)."""
    h = _home(parray)
    with h.lock:
        if _whole_valid(h, g) or h.base == g:
            return True
        return any(k is not None and row.get(g, _INVALID) != _INVALID for k, row in h.t.items())


def local_states(parray: PArray, g: int) -> Any:
    """Parla's per-device state: the whole copy's state, or {subarray key: state} where only parts are held."""
    h = _home(parray)
    with h.lock:
        st = h.t[None].get(g, _INVALID)
        if st != _INVALID:
            return st
        rows = {k: row[g] for k, row in h.t.items() if k is not None and row.get(g, _INVALID) != _INVALID}
        return rows if rows else _INVALID


def buffer_at(parray: PArray, g: int) -> Any:
    """Parla's `_buffer[device]`: the copy at place `g` (None: it holds no current byte; a list of the subarray
    copies where it holds only parts). Nothing moves."""
    h = _home(parray)
    with h.lock:
        root = h.root()
        if root is None:
            return None
        if _whole_valid(h, g) or h.base == g:
            return root._view._array if g == _HOST else h.bufs[g].array(_region(root, h))
        parts = [
            (h.hosts[k] if g == _HOST else h.bufs[g].array(h.regions[k]))
            for k, row in h.t.items()
            if k is not None and row.get(g, _INVALID) != _INVALID
        ]
        return parts or None


def owner(parray: PArray) -> int | None:
    """The global id of the place holding the modified whole copy (None: none does)."""
    h = _home(parray)
    with h.lock:
        return next((g for g, st in h.t[None].items() if st == _MODIFIED), None)


def reset(parray: PArray) -> None:
    """The root's data was replaced on the host (`update`): only the host holds it."""
    root = parray._root
    h = root._places
    if h is not None:
        with h.lock:
            h.t = {None: {_HOST: _MODIFIED}}
            h.log = []
            h.base = None
            h.bufs.clear()
            h.regions.clear()
            h.dims.clear()
            h.views.clear()


def flush() -> int:
    """Copy back to the host every PArray whose host copy is stale (the end of a Parla block); returns how many."""
    with _homes_lock:
        homes = list(_homes)
    n = 0
    for h in homes:
        root = h.root()
        if root is None:
            continue
        with h.lock:
            if _whole_valid(h, _HOST):
                continue
            _read(h, root, _HOST, None)
            n += 1
    return n
