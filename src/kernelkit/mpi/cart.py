"""`Cart`: a Cartesian process grid (mpi4py's `Create_cart`), block decompositions and halo exchange."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
from mpi4py import MPI

from kernelkit.errors import KernelTypeError, KernelValueError
from kernelkit.mpi import _coherence as co
from kernelkit.mpi._buffers import DeviceSlab
from kernelkit.mpi._setup import _state, cuda_aware

__all__ = ["Cart"]

_TAG_UP, _TAG_DOWN = 7101, 7102  # a halo travelling towards higher / lower coordinates


def _ints(values: Any, what: str) -> list[int]:
    if isinstance(values, (int, np.integer)) or not isinstance(values, Sequence):
        raise KernelTypeError(f"{what}: expected a sequence of ints (one per axis), got {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise KernelTypeError(f"{what}: expected ints, got {v!r}")
        out.append(int(v))
    return out


class Cart:
    """A Cartesian grid of the ranks of `comm` with 1 to 3 axes: the arguments of `comm.Create_cart`.

    Zeros in `dims` are filled as `MPI.Compute_dims` fills them; `periods` (default: none) says which axes
    wrap around. Attributes: `comm` (the mpi4py Cartcomm), `dims`, `periods`, `coords` (this rank's),
    `neighbors` ((lower, upper) rank per axis, `MPI.PROC_NULL` at a non-periodic edge).

    >>> from kernelkit import mpi as kkmpi
    >>> cart = kkmpi.Cart([0, 0])          # as square a grid of all ranks as they factor into
    >>> start, count = cart.block([100, 80])
    """

    def __init__(
        self,
        dims: Sequence[int],
        periods: Sequence[bool] | bool | None = None,
        reorder: bool = False,
        comm: Any = None,
    ):
        if comm is None:
            comm = _state.comm if _state.comm is not None else MPI.COMM_WORLD
        if not isinstance(comm, MPI.Intracomm):
            raise KernelTypeError(f"Cart(comm=...): expected an mpi4py intracommunicator, got {type(comm).__name__}")
        dims = _ints(dims, "Cart(dims)")
        if not 1 <= len(dims) <= 3:
            raise KernelValueError(f"Cart(dims): 1 to 3 axes are supported, got {len(dims)}")
        if any(d < 0 for d in dims):
            raise KernelValueError(f"Cart(dims): entries must be >= 0 (0: let MPI choose), got {dims}")
        size = comm.Get_size()
        fixed = int(np.prod([d for d in dims if d > 0])) if any(dims) else 1
        if (0 in dims and size % fixed) or (0 not in dims and fixed != size):
            raise KernelValueError(
                f"Cart(dims={dims}): the grid does not fit {size} ranks "
                f"({'the fixed axes must divide' if 0 in dims else 'the product must equal'} the number of ranks)"
            )
        dims = list(MPI.Compute_dims(size, dims))
        if periods is None:
            periods = [False] * len(dims)
        elif isinstance(periods, bool):
            periods = [periods] * len(dims)
        else:
            periods = [bool(p) for p in periods]
        if len(periods) != len(dims):
            raise KernelValueError(f"Cart(periods): {len(periods)} entries for {len(dims)} axes")
        self.comm = comm.Create_cart(dims, periods=periods, reorder=bool(reorder))
        self.dims = tuple(dims)
        self.periods = tuple(periods)
        self.ndim = len(dims)
        self.rank = self.comm.Get_rank()
        self.size = size
        self.coords = tuple(self.comm.Get_coords(self.rank))
        self.neighbors = tuple(tuple(self.comm.Shift(d, 1)) for d in range(self.ndim))
        self._plans: dict[tuple[int, tuple[int, ...]], _Plan] = {}

    def __repr__(self) -> str:
        return f"Cart(dims={list(self.dims)}, periods={list(self.periods)}, coords={list(self.coords)})"

    def block(self, global_shape: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """`(start, count)` of this rank's block of a domain of `global_shape`: along each axis the blocks are
        ordered by coordinate, tile the axis exactly, and differ in size by at most one (the first
        `n % dims` ranks get one more), every count >= 1."""
        shape = _ints(global_shape, "block(global_shape)")
        if len(shape) != self.ndim:
            raise KernelValueError(f"block(): a {len(shape)}-axis domain on a {self.ndim}-axis grid")
        start, count = [], []
        for n, p, c in zip(shape, self.dims, self.coords, strict=True):
            if n < p:
                raise KernelValueError(f"block(): an axis of {n} points cannot be split over {p} ranks")
            base, extra = divmod(n, p)
            start.append(c * base + min(c, extra))
            count.append(base + (1 if c < extra else 0))
        return tuple(start), tuple(count)

    def halo_exchange(self, view: Any, width: int | Sequence[int] = 1) -> None:
        """Fill the halos of a block View from the neighbours' owned cells.

        `view` holds this rank's block with a halo of `width` cells on both sides of every grid axis: its
        owned part along axis d is `[width : shape[d] - width]` (further trailing axes, such as vector
        components, travel whole). Axis by axis, each halo slab receives the neighbour's adjacent owned slab
        (the neighbours of `comm.Shift(d, 1)`: periodic axes wrap, also onto this rank itself); slabs span the
        whole View along the other axes, so corners and edges are filled too. Halos with no neighbour are
        left as they are (boundary values). Host Views and arrays exchange their host memory with persistent
        requests, in place (strided slabs through contiguous buffers); device Views their device copy, in place with
        a CUDA-aware MPI, else staged through pinned host buffers (one copy per slab and direction).
        """
        widths = _widths(width, self.ndim)
        key = (id(view), widths)
        plan = self._plans.get(key)
        if plan is None or plan.ref() is not view:
            plan = self._make_plan(view, widths)
        plan.run()

    def _make_plan(self, view: Any, widths: tuple[int, ...]) -> _Plan:
        arr = co.host_array(view) if co.is_view(view) else view
        if not isinstance(arr, np.ndarray):
            raise KernelTypeError(f"halo_exchange(): expected a View or a NumPy array, got {type(view).__name__}")
        if arr.ndim < self.ndim:
            raise KernelValueError(f"halo_exchange(): a rank-{arr.ndim} View on a {self.ndim}-axis grid")
        for d, w in enumerate(widths):
            if arr.shape[d] - 2 * w < w:
                raise KernelValueError(
                    f"halo_exchange(): axis {d} has {arr.shape[d]} cells, too few for halos of width {w} on both "
                    f"sides and an owned part of at least {w}"
                )
        device = co.on_device(view)
        plan = _DevicePlan(self, view, widths, cuda_aware()) if device else _HostPlan(self, view, arr, widths)
        key = (id(view), widths)
        self._plans[key] = plan
        weakref.finalize(view, _drop, self._plans, key, plan).atexit = False
        return plan


def _widths(width: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    widths = [width] * ndim if isinstance(width, (int, np.integer)) and not isinstance(width, bool) else width
    out = tuple(_ints(widths, "halo_exchange(width)"))
    if len(out) != ndim or any(w < 0 for w in out):
        raise KernelValueError(f"halo_exchange(width): one width >= 0 per axis ({ndim}), got {width!r}")
    return out


def _drop(plans: dict, key: Any, plan: _Plan) -> None:
    if plans.get(key) is plan:
        del plans[key]
    plan.free()


def _slabs(shape: tuple[int, ...], d: int, w: int) -> tuple[tuple[slice, ...], ...]:
    """(owned low, owned high, halo low, halo high) index tuples of axis d."""
    n = shape[d]

    def along(lo: int, hi: int) -> tuple[slice, ...]:
        return (slice(None),) * d + (slice(lo, hi),)

    return along(w, 2 * w), along(n - 2 * w, n - w), along(0, w), along(n - w, n)


class _Plan:
    def __init__(self, cart: Cart, view: Any):
        self.ref = weakref.ref(view)
        self.comm = cart.comm
        self.steps: list[Any] = []

    def run(self) -> None:
        raise NotImplementedError

    def free(self) -> None:
        pass


def _contiguous(slab: np.ndarray, peer: int, copies: list, send: bool) -> np.ndarray:
    """The slab itself when contiguous, else a contiguous buffer recorded in `copies` for packing (send) or
    unpacking (receive); nothing to copy when there is no peer."""
    if slab.flags.c_contiguous:
        return slab
    buf = np.empty(slab.shape, dtype=slab.dtype)
    if peer != MPI.PROC_NULL:
        copies.append((buf, slab) if send else (slab, buf))
    return buf


class _HostPlan(_Plan):
    """Persistent requests over the host memory: per axis, receive both halos and send both owned slabs at
    once. Contiguous slabs are sent and received in place; strided ones through contiguous buffers, packed and
    unpacked with NumPy copies (measured faster than MPI derived datatypes for planes of single elements)."""

    def __init__(self, cart: Cart, view: Any, arr: np.ndarray, widths: tuple[int, ...]):
        super().__init__(cart, view)
        self.root = weakref.ref(view._root()) if co.is_view(view) else None
        comm = cart.comm
        for d, w in enumerate(widths):
            lower, upper = cart.neighbors[d]
            if w == 0 or (lower == MPI.PROC_NULL and upper == MPI.PROC_NULL):
                continue
            own_lo, own_hi, halo_lo, halo_hi = (arr[s] for s in _slabs(arr.shape, d, w))
            packs: list[tuple[np.ndarray, np.ndarray]] = []  # (contiguous buffer, strided slab) before sending
            unpacks: list[tuple[np.ndarray, np.ndarray]] = []  # (strided slab, contiguous buffer) after receiving
            sends = [_contiguous(own_hi, upper, packs, send=True), _contiguous(own_lo, lower, packs, send=True)]
            recvs = [_contiguous(halo_lo, lower, unpacks, send=False), _contiguous(halo_hi, upper, unpacks, send=False)]
            reqs = [
                comm.Recv_init(recvs[0], lower, _TAG_UP),
                comm.Recv_init(recvs[1], upper, _TAG_DOWN),
                comm.Send_init(sends[0], upper, _TAG_UP),
                comm.Send_init(sends[1], lower, _TAG_DOWN),
            ]
            self.steps.append((reqs, packs, unpacks))

    def run(self) -> None:
        if self.root is not None:
            root = self.root()
            if root is not None and root._flags:
                root._host(write=True)  # the host copy current; a device copy becomes stale (halos are written)
        copyto = np.copyto
        for reqs, packs, unpacks in self.steps:
            for dst, src in packs:
                copyto(dst, src)
            MPI.Prequest.Startall(reqs)
            MPI.Request.Waitall(reqs)
            for dst, src in unpacks:
                copyto(dst, src)

    def free(self) -> None:
        if MPI.Is_finalized():
            return
        for reqs, _, _ in self.steps:
            for r in reqs:
                r.Free()
        self.steps = []


class _DevicePlan(_Plan):
    """Device slabs (in place, or packed) exchanged with Sendrecv, staged through pinned memory unless MPI is
    CUDA-aware."""

    def __init__(self, cart: Cart, view: Any, widths: tuple[int, ...], aware: bool):
        super().__init__(cart, view)
        arr = co.host_array(view)
        for d, w in enumerate(widths):
            lower, upper = cart.neighbors[d]
            if w == 0 or (lower == MPI.PROC_NULL and upper == MPI.PROC_NULL):
                continue
            slices = _slabs(arr.shape, d, w)
            slabs = tuple(DeviceSlab(arr[s], aware) for s in slices)
            self.steps.append((lower, upper, slices, slabs))

    def run(self) -> None:
        view = self.ref()
        co.device_buffer(view)  # the device copy current (uploads a newer host copy once)
        sendrecv = self.comm.Sendrecv
        for lower, upper, (s_own_lo, s_own_hi, s_halo_lo, s_halo_hi), slabs in self.steps:
            own_lo, own_hi, halo_lo, halo_hi = slabs
            v_halo_lo, v_halo_hi = co.region(view, s_halo_lo), co.region(view, s_halo_hi)
            send = own_hi.send_spec(co.region(view, s_own_hi))
            sendrecv(send, upper, _TAG_UP, halo_lo.recv_spec(v_halo_lo), lower, _TAG_UP)
            if lower != MPI.PROC_NULL:
                halo_lo.received(v_halo_lo)
            send = own_lo.send_spec(co.region(view, s_own_lo))
            sendrecv(send, lower, _TAG_DOWN, halo_hi.recv_spec(v_halo_hi), upper, _TAG_DOWN)
            if upper != MPI.PROC_NULL:
                halo_hi.received(v_halo_hi)

    def free(self) -> None:
        for step in self.steps:
            for slab in step[3]:
                slab.free()
        self.steps = []
