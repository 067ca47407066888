"""Coherence of Views across places: the one owner of which copy of a View is current.

A root View (no `_parent`) owns its host array `_array`; it may also have copies at other places (a GPU, a logical
device): `view._copies`, place code -> `_Copy`. A copy mirrors the byte layout of the host array (the bytes it
spans, same strides), so a subview's address in a copy is the root's plus the subview's host byte offset.
Subviews (DERIVED) have no state of their own: everything goes through their root.

The state lives partly in the native `_flags` bits, which the launchers read from C:

    HOST_STALE     the host array is not current (without copies: a CudaSpace View never touched, i.e. zeros)
    HAS_DEVICE     the View has at least one copy at another place
    DEVICE_STALE   the *described* copy (`_dptr`/`_dplace`, the one the launchers use) is not current
    MULTI          more than one copy is current (shared reads): launches that write take the slow path

and partly in `_Copy.valid`. The invariant the native fast paths rely on: unless MULTI is set, every copy but the
described one is stale, so a launch that writes the host array (or the described copy) only has to set
DEVICE_STALE (or HOST_STALE) — which is all the C launchers do, in `kk_mark_written`. Every other change of state
happens here, under one lock: `_absorb` reads what the launchers wrote, `_publish` writes the flags back.

Data moves only here, with the places' own copy operations: `host_array` downloads when another place is newer,
`ensure` makes a copy current at a place (from the host, from another place peer-to-peer or staged, or zeros),
`stage` prepares a launch's arguments for its place, `copy`/`fill` serve `pk.deep_copy` and `View.fill`.
`stats()` counts every transfer, so tests can prove that a loop of launches moves nothing.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from kernelkit import _native
from kernelkit.backends import base
from kernelkit.backends.base import HOST, Place
from kernelkit.errors import KernelTypeError, KernelValueError
from kernelkit.interop import KDL_CPU, dlpack_device, foreign
from kernelkit.interop.foreign import checked_dtype, checked_geometry
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T

HOST_STALE = _native.HOST_STALE
DEVICE_STALE = _native.DEVICE_STALE
HAS_DEVICE = _native.HAS_DEVICE
DERIVED = _native.DERIVED
MULTI = _native.MULTI
SHARED = _native.SHARED  # the memory is also another library's: its CUDA launches are never queued (cudaq.c)
_STATE = HOST_STALE | DEVICE_STALE | HAS_DEVICE | MULTI

_lock = threading.RLock()  # state transitions of one View must not interleave (copies release the GIL)
_stats = {"h2d": 0, "d2h": 0, "d2d": 0, "h2d_bytes": 0, "d2h_bytes": 0, "d2d_bytes": 0, "peer": 0, "staged": 0}


def stats() -> dict[str, int]:
    """Transfers since the last `reset_stats()`: counts `h2d`, `d2h`, `d2d` (between two places), their
    `*_bytes`, and how place-to-place copies went (`peer`, `staged`).

    >>> from kernelkit.runtime import coherence
    >>> coherence.reset_stats(); coherence.stats()["h2d"]
    0
    """
    return dict(_stats)


def reset_stats() -> None:
    """Zero the transfer counters."""
    for k in _stats:
        _stats[k] = 0


def _count(kind: str, nbytes: int) -> None:
    _stats[kind] += 1
    _stats[kind + "_bytes"] += nbytes


# --- layouts ------------------------------------------------------------------------------------------------


def span(shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int) -> tuple[int, int]:
    """(offset of the lowest byte relative to element 0 (<= 0), bytes spanned) of a strided array."""
    if any(n == 0 for n in shape):
        return 0, 0
    low = sum(min(0, (n - 1) * s) for n, s in zip(shape, strides, strict=True))
    high = sum(max(0, (n - 1) * s) for n, s in zip(shape, strides, strict=True))
    return low, high - low + itemsize


def overlapping(args: dict[str, Any], kernel: N.Kernel) -> tuple[str, str] | None:
    """(written argument, argument it overlaps) when two of a launch's array arguments share memory and the
    kernel writes one of them; the same array passed twice does not count (each iteration still touches its own
    elements). Decided on the host arrays, exactly as the native matcher decides it (launch.c args_overlap),
    so that both paths agree about which build a launch needs."""
    spans: dict[str, tuple[int, int, np.ndarray]] = {}
    for p in kernel.params:
        if not isinstance(p.type, T.ViewType):
            continue
        v = args.get(p.name)
        a = v._array if isinstance(v, _native.ViewBase) else v
        if not isinstance(a, np.ndarray):
            continue
        low, nbytes = _array_span(a)
        if nbytes:
            start = _address(a) + low
            spans[p.name] = (start, start + nbytes, a)
    for w in kernel.writes:
        if w not in spans:
            continue
        lo, hi, a = spans[w]
        for name, (lo2, hi2, b) in spans.items():
            if name == w or not (lo < hi2 and lo2 < hi):
                continue
            same = _address(a) == _address(b) and a.shape == b.shape and a.strides == b.strides
            if not (same and a.dtype == b.dtype):
                return w, name
    return None


def _array_span(a: np.ndarray) -> tuple[int, int]:
    return span(a.shape, a.strides, a.itemsize)


def _address(a: np.ndarray) -> int:
    return int(a.__array_interface__["data"][0])


def _contiguous(a: np.ndarray) -> bool:
    return bool(a.flags.c_contiguous or a.flags.f_contiguous)


def dtcode(dt: np.dtype) -> int:
    """The launcher's dtype code: `(ord(kind) << 8) | itemsize`."""
    return (ord(dt.kind) << 8) | dt.itemsize


def _elem_strides(a: np.ndarray) -> tuple[int, ...]:
    return tuple(s // a.itemsize for s in a.strides)


def root_of(view: Any) -> Any:
    while True:
        parent = getattr(view, "_parent", None)
        if parent is None:
            return view
        view = parent


def _offset(view: Any, root: Any) -> int:
    return _address(view._array) - _address(root._array)


# --- new Views ----------------------------------------------------------------------------------------------


def init_root(view: Any, pristine: bool) -> None:
    """The state of a new root View: `pristine` for CudaSpace memory never touched (zeros on both sides: the
    first host access just clears HOST_STALE, the first use at a place zero-fills its copy)."""
    view._flags = HOST_STALE if pristine else 0


def init_subview(view: Any) -> None:
    """A subview's coherence is its root's: DERIVED sends every fast path to the slow one, which uses the root."""
    view._flags = DERIVED


# --- copies -------------------------------------------------------------------------------------------------


class _Copy:
    """A copy of a root View at a place: `base` is its span's first byte, element 0 is at `base + offset`."""

    __slots__ = ("base", "offset", "nbytes", "place", "owned", "valid", "finalizer", "keep", "generation")

    def __init__(self, base: int, offset: int, nbytes: int, place: Place, owned: bool, keep: Any = None):
        self.base = base
        self.offset = offset
        self.nbytes = nbytes
        self.place = place
        self.owned = owned  # False for memory wrapped from another library: never freed here
        self.valid = False
        self.finalizer: weakref.finalize | None = None
        self.keep = keep  # the foreign object (and DLPack capsule) whose memory this is
        self.generation = place.generation  # a place whose driver was replaced forgets older copies

    @property
    def ptr(self) -> int:
        return self.base + self.offset


def _copies(root: Any) -> dict[int, _Copy]:
    c = root.__dict__.get("_copies")
    if c is None:
        c = root._copies = {}
    return c


def _absorb(root: Any) -> dict[int, _Copy]:
    """The copies of `root`, with what the native launchers recorded since the last `_publish` taken in."""
    copies = _copies(root)
    if copies and any(c.generation != c.place.generation for c in copies.values()):
        for code in [k for k, c in copies.items() if c.generation != c.place.generation]:
            del copies[code]  # memory of a forgotten driver library: nothing to free, nothing to read
        if not any(c.valid for c in copies.values()):
            root._flags &= ~HOST_STALE
        _publish(root, copies, not root._flags & HOST_STALE)
    if copies and root._dptr:
        described = copies.get(root._dplace)
        if described is not None:
            described.valid = not root._flags & DEVICE_STALE
    return copies


def _publish(root: Any, copies: dict[int, _Copy], host_valid: bool, describe: int | None = None) -> None:
    """Write the flags and the described copy from the state of `root` (see the module docstring)."""
    flags = root._flags & (DERIVED | SHARED)
    if not host_valid:
        flags |= HOST_STALE
    if not copies:
        if root._dptr:
            arr = root._array
            root._set_device(0, HOST.code, arr.shape, _elem_strides(arr), dtcode(arr.dtype))
        root._flags = flags
        return
    flags |= HAS_DEVICE
    valid = [c for c in copies.values() if c.valid]
    code = describe if describe in copies else (root._dplace if root._dptr and root._dplace in copies else None)
    if len(valid) == 1 and (code is None or not copies[code].valid):
        code = valid[0].place.code  # the fast paths may only see a current copy when it is the only one
    if code is None:
        code = next(iter(copies))
    c = copies[code]
    arr = root._array
    root._set_device(c.ptr, c.place.code, arr.shape, _elem_strides(arr), dtcode(arr.dtype))
    if not c.valid:
        flags |= DEVICE_STALE
    if len(valid) > 1:
        flags |= MULTI
    root._flags = flags


def _allocate(root: Any, place: Place) -> _Copy:
    arr = root._array
    low, nbytes = _array_span(arr)
    ptr = place.alloc(nbytes)
    c = _Copy(ptr, -low, nbytes, place, True)
    c.finalizer = weakref.finalize(root, _free, place, ptr)
    c.finalizer.atexit = False
    _copies(root)[place.code] = c
    return c


def _free(place: Place, ptr: int) -> None:
    try:
        place.free(ptr)
    except Exception:  # a finalizer at interpreter shutdown, or a dead context: nothing useful to do
        pass


def _forget(root: Any, c: _Copy) -> None:
    if c.finalizer is not None:
        c.finalizer()  # frees the block once
    _copies(root).pop(c.place.code, None)


def _upload(arr: np.ndarray, c: _Copy) -> None:
    low, nbytes = _array_span(arr)
    if nbytes:
        # the span's gaps (a strided host array) travel too: harmless there, cheaper than packing
        c.place.upload(c.base, _address(arr) + low, nbytes)
        _count("h2d", nbytes)


def _download(arr: np.ndarray, c: _Copy) -> None:
    low, nbytes = _array_span(arr)
    if not nbytes:
        return
    if _contiguous(arr):
        c.place.download(_address(arr) + low, c.base, nbytes)
    else:
        # never write the gaps of a strided host array: they may be another array's memory
        tmp = np.empty(nbytes, dtype=np.uint8)
        c.place.download(tmp.ctypes.data, c.base, nbytes)
        np.copyto(arr, np.ndarray(arr.shape, arr.dtype, buffer=tmp, offset=-low, strides=arr.strides))
    _count("d2h", nbytes)


def _transfer(dst: _Copy, src: _Copy) -> None:
    if dst.nbytes:
        path = dst.place.copy_from(dst.base, src.place, src.base, dst.nbytes)
        _count("d2d", dst.nbytes)
        if path in ("peer", "staged"):
            _stats[path] += 1


def _pristine(root: Any, copies: dict[int, _Copy]) -> bool:
    return bool(root._flags & HOST_STALE) and not any(c.valid for c in copies.values())


def ensure(root: Any, place: Place, contents: bool = True, write: bool = False) -> _Copy:
    """The copy of a root View at `place`, made current. `contents=False` when the caller overwrites it entirely
    (nothing is copied; the other copies and the host become stale); `write=True` when the caller will write it
    (the copies at other places become stale, so that only this one is current: the host is marked by whoever
    writes, e.g. the launcher after the kernel ran, or `mark_written`)."""
    with _lock:
        copies = _absorb(root)
        host_valid = not root._flags & HOST_STALE
        c = copies.get(place.code)
        if c is None:
            foreign_copy = next((x for x in copies.values() if not x.owned), None)
            if foreign_copy is not None and (write or not contents):
                raise KernelValueError(
                    f"this View wraps another library's memory at {foreign_copy.place!r}; it cannot be written at "
                    f"{place!r} (pk.deep_copy it into a View there)"
                )
            c = _allocate(root, place)
        if not contents:
            host_valid = False
        elif not c.valid:
            if _pristine(root, copies):  # zeros never touched: zeros here too, and the host's zeros are current
                if c.nbytes:
                    place.memset(c.base, 0, c.nbytes)
                host_valid = True
            elif host_valid:
                _upload(root._array, c)
            else:
                src = next(x for x in copies.values() if x.valid)
                _transfer(c, src)
        c.valid = True
        if write or not contents:
            # the other places' copies are stale now; the host only when overwritten here (after a write, the
            # launcher marks it, so a launch that fails leaves it current)
            for other in copies.values():
                if other is not c:
                    other.valid = False
        _publish(root, copies, host_valid, describe=place.code)
        return c


def host_array(view: Any, write: bool) -> np.ndarray:
    """The host array of `view` (a root, or a subview through its root), current; `write` marks every other
    copy stale. Every host access of a View goes through here (View._host)."""
    root = root_of(view)
    with _lock:
        copies = _absorb(root)
        if root._flags & HOST_STALE:
            src = next((c for c in copies.values() if c.valid), None)
            if src is not None:
                _download(root._array, src)
            # else: zeros never touched, which the host array holds
        if write:
            for c in copies.values():
                c.valid = False
        _publish(root, copies, True)
    if view._array is None:
        from kernelkit.errors import KernelRuntimeError

        raise KernelRuntimeError("this View has no host memory")
    return view._array


def host_overwrite(view: Any) -> np.ndarray:
    """The host array for a write that replaces every element of `view`: nothing is downloaded for it."""
    root = root_of(view)
    if root is not view:
        return host_array(view, True)
    with _lock:
        copies = _absorb(root)
        for c in copies.values():
            c.valid = False
        _publish(root, copies, True)
    return view._array


def mark_written(view: Any, place: Place) -> None:
    """Record that `view`'s data at `place` was written (by a kernel or a zero-copy consumer)."""
    root = root_of(view)
    with _lock:
        copies = _absorb(root)
        c = copies.get(place.code)
        if c is None:
            return
        c.valid = True
        for other in copies.values():
            if other is not c:
                other.valid = False
        _publish(root, copies, False, describe=place.code)


def release(view: Any) -> None:
    """Free every copy of `view`'s root at other places, downloading first when the host is stale."""
    root = root_of(view)
    with _lock:
        copies = _absorb(root)
        if root._flags & HOST_STALE:
            src = next((c for c in copies.values() if c.valid), None)
            if src is not None:
                _download(root._array, src)
        for c in list(copies.values()):
            _forget(root, c)
        _publish(root, copies, True)


def where(view: Any) -> tuple[Place, int] | None:
    """(place, address of element 0) of the described copy of `view`, or None."""
    root = root_of(view)
    copies = root.__dict__.get("_copies")
    if not copies or not root._dptr:
        return None
    c = copies.get(root._dplace)
    return None if c is None else (c.place, c.ptr + _offset(view, root))


def address_at(view: Any, place: Place, write: bool = False) -> int:
    """The address of `view`'s element 0 at `place`, made current there (subviews through their root)."""
    root = root_of(view)
    c = ensure(root, place, write=write)
    return c.ptr + (_offset(view, root) if root is not view else 0)


def attach_foreign(view: Any, f: Any, place: Place) -> None:
    """Make `view` (a root whose `_array` is a host shadow with the same byte layout) a wrapper of another
    library's memory `f` (an interop.Foreign) at `place`: that copy is current, never freed by kernelkit."""
    low, nbytes = span(f.shape, f.strides, f.dtype.itemsize)
    c = _Copy(f.ptr + low, -low, nbytes, place, False, f.keep)
    c.valid = True
    with _lock:
        view._flags |= SHARED
        copies = _copies(view)
        copies[place.code] = c
        _publish(view, copies, False, describe=place.code)


# --- the GPU, when there is one -----------------------------------------------------------------------------


def gpu_place(device: int | None = None) -> Place | None:
    """The place of GPU `device` (default: the current GPU), or None when no GPU is usable."""
    return base.gpu_place(device)


def usable() -> bool:
    """True when a CUDA device can be used (loads the driver on first call)."""
    return gpu_place() is not None


def export_device(view: Any, device: int | None = None) -> tuple[int, int]:
    """(GPU ordinal, address of element 0) of `view` for a zero-copy consumer (`__cuda_array_interface__`,
    `__dlpack__`): its copy on the GPU where it already lives (else `device`, else the current GPU), made
    current and marked written, since the consumer may write.

    The consumer may use the memory at any later time, on work kernelkit never sees: the launches queued so far
    are made now, and the View is marked SHARED, so that every later launch using it is made on its caller's
    thread, in order with the consumer's work (the launch queue: runtime/native/cudaq.c)."""
    _native.cuda_queue_drain()
    root = root_of(view)
    with _lock:
        root._flags |= SHARED
    here = where(root)
    place: Place | None = here[0] if device is None and here is not None and not here[0].host_backed else None
    if place is None:
        place = gpu_place(device)
        if place is None:
            raise KernelValueError("no usable GPU: this View's data cannot be exported as device memory")
    ptr = address_at(view, place, write=True)
    mark_written(view, place)
    return place.device, ptr


# --- kernel arguments ---------------------------------------------------------------------------------------


def _described(ptr: int, place: Place, shape: tuple[int, ...], strides: tuple[int, ...], code: int) -> Any:
    # a bare description: no host array, and not DERIVED, so that the native launcher takes its `_dptr`
    vb = _native.ViewBase()
    vb._flags = HAS_DEVICE
    vb._set_device(ptr, place.code, shape, strides, code)
    return vb


def stage(args: dict[str, Any], params: list, writes: set[str], place: Place) -> tuple[dict[str, Any], list]:
    """The arguments a launch at `place` passes, with every View current there, and what to call after the
    launch (write-backs of temporary copies, marks of written subviews)."""
    if place is HOST:
        out = args
        for name, v in args.items():
            if isinstance(v, _native.ViewBase) and v._flags:
                host = v._host(write=name in writes) if hasattr(v, "_host") else v._array
                if v._flags & DERIVED:
                    if out is args:
                        out = dict(args)
                    out[name] = host  # a subview travels as its host array, whose coherence is settled
        return out, []
    staged: dict[str, Any] = {}
    after: list[Callable[[], None]] = []
    for p in params:
        v = args[p.name]
        if isinstance(p.type, (T.ViewType, T.RandomPoolType)):
            v, done = placed_arg(p.name, v, place, p.name in writes or isinstance(p.type, T.RandomPoolType))
            if isinstance(p.type, T.ViewType) and p.type.atomic:
                v._traits = _native.TRAIT_ATOMIC  # a temporary descriptor of an Atomic subview
            if done is not None:
                after.append(done)
        staged[p.name] = v
    return staged, after


def placed_arg(name: str, value: Any, place: Place, writes: bool) -> tuple[Any, Callable[[], None] | None]:
    """What a launch at `place` passes for argument `name`, and what to call after the launch.

    - a root View: its copy there made current, no callback;
    - a subview: a fresh bare ViewBase describing its region of the root's copy; the callback marks the root
      written when `writes`;
    - a NumPy (or other host) array: copied to a temporary buffer there, as PyKokkos does (slow: prefer Views);
      the callback copies it back when `writes` and frees the buffer;
    - a GPU array (`__cuda_array_interface__`: CuPy, PyTorch, Numba; or a CUDA `__dlpack__`) on that GPU:
      described in place, zero copy, no callback.
    """
    if isinstance(value, _native.ViewBase):
        if type(value) is _native.ViewBase:
            return value, None  # a bare description (from this function): passed as is
        if getattr(value, "_parent", None) is None:
            alien = next((c for c in _copies(value).values() if not c.owned and c.place.code != place.code), None)
            if alien is not None:
                raise KernelValueError(
                    f"argument {name!r} wraps memory of GPU {alien.place.device}, but the kernel runs at {place!r}; "
                    "copy it there first (pk.deep_copy into a View there)"
                )
            ensure(value, place, write=writes)
            return value, None
        root = root_of(value)
        ptr = address_at(value, place, write=writes)
        arr = value._array
        vb = _described(ptr, place, arr.shape, _elem_strides(arr), dtcode(arr.dtype))
        vb._flags |= root._flags & SHARED
        return vb, (lambda: mark_written(root, place)) if writes else None
    what = f"argument {name!r}"
    if isinstance(value, np.ndarray):
        return _temporary(value, place, writes, what)
    f = None if place.host_backed else foreign(value, what)
    if f is not None:
        if writes and f.readonly:
            raise KernelValueError(f"the kernel writes {what}, but that GPU array is read-only")
        home = f.device if f.device is not None else _cuda().pointer_device(f.ptr)
        if home != place.device:
            raise KernelValueError(
                f"{what} is in the memory of GPU {home}, but the kernel runs on GPU {place.device}; copy it there first"
            )
        _cuda().synchronize_stream(f.stream)
        vb = _described(f.ptr, place, f.shape, f.elem_strides, dtcode(f.dtype))
        vb._flags |= SHARED  # another library's memory: launched in order with that library's work
        return vb, None
    dev = dlpack_device(value)
    if dev is not None and dev[0] == KDL_CPU:
        return _temporary(np.from_dlpack(value), place, writes, what)
    if dev is None and (hasattr(value, "__array_interface__") or hasattr(value, "__array_struct__")):
        return _temporary(np.asarray(value), place, writes, what)
    if dev is not None:
        raise KernelTypeError(
            f"{what} ({type(value).__name__}) is memory of DLPack device type {dev[0]}, which a "
            f"{'CUDA ' if not place.host_backed else ''}kernel cannot use; pass a View, a NumPy array or a CUDA array"
        )
    raise KernelTypeError(
        f"{what} of type {type(value).__name__} is not an array this kernel can use; pass a View, a NumPy "
        "array, or a GPU array with __cuda_array_interface__ or __dlpack__"
    )


def _cuda() -> Any:
    return base.get("cuda")


def _temporary(arr: np.ndarray, place: Place, writes: bool, what: str) -> tuple[Any, Callable[[], None]]:
    checked_dtype(arr.dtype, what)
    checked_geometry(arr.shape, arr.strides, arr.itemsize, what)
    if not arr.flags.aligned:
        raise KernelValueError(f"{what} is not aligned for {arr.dtype}; pass np.ascontiguousarray(...) instead")
    if writes and not arr.flags.writeable:
        raise KernelValueError(f"the kernel writes {what}, but that array is read-only")
    low, nbytes = _array_span(arr)
    c = _Copy(place.alloc(nbytes), -low, nbytes, place, True)
    try:
        _upload(arr, c)
    except BaseException:
        place.free(c.base)
        raise
    vb = _described(c.ptr, place, arr.shape, _elem_strides(arr), dtcode(arr.dtype))

    def done() -> None:
        try:
            if writes:
                _download(arr, c)
        finally:
            _free(place, c.base)

    return vb, done


# --- deep_copy and fill -------------------------------------------------------------------------------------


def copy(dst: Any, src: Any, device_home: bool) -> bool:
    """Copy `src` into `dst` (Views or NumPy arrays) without staging through host arrays when the source's
    current data is at another place or the destination lives there; True when done, False to let the caller
    copy on the host.

    Applies when both sides hold the same dtype in the same contiguous byte layout: place to place when the
    source's described copy is current and the destination has a copy on a GPU (the same one, or another: then
    peer-to-peer where the driver allows it, else staged; `stats()` counts which) or lives on a GPU
    (`device_home`: a CudaSpace View) without a copy yet (it gets one on the source's GPU); place to host when
    the source's copy is newer than its host array; host to GPU when the destination is a whole CudaSpace View.
    """
    is_view = isinstance(dst, _native.ViewBase)
    d_arr = dst._array if is_view else dst if isinstance(dst, np.ndarray) else None
    s_arr = src._array if isinstance(src, _native.ViewBase) else src if isinstance(src, np.ndarray) else None
    if (
        d_arr is None
        or s_arr is None
        or d_arr.dtype != s_arr.dtype
        or d_arr.shape != s_arr.shape
        or d_arr.strides != s_arr.strides
        or not _contiguous(d_arr)
        or not d_arr.flags.writeable
        or d_arr.size == 0
    ):
        return False
    nbytes = d_arr.nbytes
    with _lock:
        d_root = root_of(dst) if is_view else None
        if isinstance(src, _native.ViewBase):
            s_root = root_of(src)
            s_copies = _absorb(s_root)
            s_at = where(src)
            s_copy = s_copies.get(s_at[0].code) if s_at is not None else None
            if s_copy is not None and s_copy.valid and s_at is not None:
                if s_root is d_root:
                    return False  # one buffer: NumPy handles overlapping copies on the host
                d_at = where(dst) if is_view else None
                # the destination's place: where it already has a copy (another GPU: peer or staged), else the
                # source's GPU for a CudaSpace destination with no copy yet
                if d_at is not None and not d_at[0].host_backed:
                    d_place: Place | None = d_at[0]
                elif device_home and d_at is None and not s_copy.place.host_backed:
                    d_place = s_copy.place
                else:
                    d_place = None
                if is_view and d_place is not None:
                    d_ptr = (
                        address_at(dst, d_place, write=True)
                        if dst is not d_root
                        else ensure(d_root, d_place, contents=False).ptr
                    )
                    path = d_place.copy_from(d_ptr, s_copy.place, s_at[1], nbytes)
                    _count("d2d", nbytes)
                    if path in ("peer", "staged"):
                        _stats[path] += 1
                    mark_written(dst, d_place)
                    return True
                if s_root._flags & HOST_STALE:
                    host = dst._host(write=True) if is_view else dst
                    s_copy.place.download(_address(host), s_at[1], nbytes)
                    _count("d2h", nbytes)
                    return True
            elif s_root._flags & HOST_STALE and any(c.valid for c in s_copies.values()):
                return False
        if is_view and device_home and dst is d_root:
            here = where(d_root)
            place = here[0] if here is not None else gpu_place()
            if place is not None:
                # host to the GPU: the whole destination is overwritten; its host array becomes stale
                c = ensure(d_root, place, contents=False)
                _upload(s_arr, c)
                return True
    return False


def fill(view: Any, value: Any) -> bool:
    """Fill a whole root CudaSpace View on its GPU with a memset when the value's bytes allow it (a byte pattern,
    or a 4-byte pattern: 0, -1, 1.0f, ...); True when done. The host array becomes stale."""
    arr = view._array
    if arr is None or not _contiguous(arr) or arr.size == 0 or not arr.flags.writeable:
        return False
    raw = np.asarray(value, dtype=arr.dtype).tobytes()
    if len(set(raw)) == 1:
        words = None
    elif len(raw) in (4, 8) and raw[:4] * (len(raw) // 4) == raw:
        words = int.from_bytes(raw[:4], sys.byteorder)
    else:
        return False
    with _lock:
        here = where(view)
        place = here[0] if here is not None else gpu_place()
        if place is None or (words is not None and not hasattr(place, "memset32")):
            return False
        c = ensure(view, place, contents=False)
        if words is None:
            place.memset(c.base, raw[0], c.nbytes)
        else:
            place.memset32(c.base, words, c.nbytes // 4)  # type: ignore[attr-defined]
    return True


# --- compatibility names used by the GPU tests --------------------------------------------------------------


def ensure_device(view: Any, device: int = 0) -> int:
    """Make the copy of `view` on GPU `device` current and return the address of its element 0."""
    place = gpu_place(device)
    if place is None:
        raise KernelValueError("no usable GPU")
    return address_at(view, place)


def device_arg(name: str, value: Any, device: int, writes: bool) -> tuple[Any, Callable[[], None] | None]:
    """`placed_arg` on GPU `device`."""
    place = gpu_place(device)
    if place is None:
        raise KernelValueError("no usable GPU")
    return placed_arg(name, value, place, writes)


def mark_device_written(view: Any) -> None:
    """Record that the described copy of `view` was written (the host and the other copies become stale)."""
    here = where(view)
    if here is not None:
        mark_written(view, here[0])


def sync_host(view: Any) -> None:
    host_array(view, False)
