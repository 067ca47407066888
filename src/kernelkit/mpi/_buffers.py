"""Pieces of Views as MPI messages: derived datatypes for strided host regions, pack kernels and pinned
staging buffers for device regions, and `message(view)` for any mpi4py call."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from mpi4py import MPI
from mpi4py.util import dtlib

import kernelkit as pk
from kernelkit.errors import KernelTypeError, KernelValueError
from kernelkit.mpi import _coherence as co
from kernelkit.mpi._setup import cuda_aware

__all__ = ["message", "mpi_type", "strided_type", "DeviceSlab", "stats", "reset_stats"]

_stats = {"staged_d2h": 0, "staged_h2d": 0, "staged_bytes": 0, "packs": 0}


def stats() -> dict[str, int]:
    """What device halo exchanges did since `reset_stats()`: copies through pinned host buffers
    (`staged_d2h`, `staged_h2d`, `staged_bytes`; zero with a CUDA-aware MPI) and pack/unpack kernels."""
    return dict(_stats)


def reset_stats() -> None:
    for k in _stats:
        _stats[k] = 0


def mpi_type(dtype: np.dtype) -> MPI.Datatype:
    """The predefined MPI datatype of a NumPy scalar type."""
    try:
        return dtlib.from_numpy_dtype(dtype)
    except (ValueError, KeyError, TypeError) as e:
        raise KernelTypeError(f"no MPI datatype for {dtype}") from e


def _merged(shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int) -> tuple[int, list[tuple[int, int]]]:
    """(elements in the contiguous innermost run, [(count, byte stride) of each outer dimension, outermost
    first]) with dimensions of extent 1 dropped and dimensions that continue each other merged."""
    dims = [(n, s) for n, s in zip(shape, strides, strict=True) if n != 1]
    run = 1
    while dims and dims[-1][1] == run * itemsize:
        run *= dims.pop()[0]
    outer: list[tuple[int, int]] = []
    for n, s in reversed(dims):  # innermost first
        if outer and outer[-1][1] * outer[-1][0] == s:
            count, stride = outer.pop()
            outer.append((count * n, stride))
        else:
            outer.append((n, s))
    return run, outer[::-1]


@functools.lru_cache(maxsize=256)
def strided_type(dtype_str: str, shape: tuple[int, ...], strides: tuple[int, ...]) -> MPI.Datatype:
    """A committed MPI datatype that selects the elements of a strided array (byte strides >= 0) from its
    element 0: contiguous runs, nested in byte-strided vectors (MPI packs them itself)."""
    dt = np.dtype(dtype_str)
    if any(s < 0 for s in strides):
        raise KernelValueError("MPI messages need non-negative strides; copy the array first")
    run, outer = _merged(shape, strides, dt.itemsize)
    t = mpi_type(dt)
    if run > 1:
        t = t.Create_contiguous(run)
    for count, stride in reversed(outer):
        t = t.Create_hvector(count, 1, stride)
    if t.is_predefined:
        return t
    return t.Commit()


def _span_bytes(arr: np.ndarray) -> int:
    if arr.size == 0:
        return 0
    return sum((n - 1) * s for n, s in zip(arr.shape, arr.strides, strict=True)) + arr.itemsize


def _host_address(arr: np.ndarray) -> int:
    return int(arr.__array_interface__["data"][0])


def host_spec(arr: np.ndarray, readonly: bool = False) -> Any:
    """An mpi4py message for a host array: the array itself when contiguous, else its memory and a derived
    datatype."""
    if arr.flags.c_contiguous:
        return arr
    buf = MPI.buffer.fromaddress(_host_address(arr), _span_bytes(arr), readonly=readonly)
    return [buf, 1, strided_type(arr.dtype.str, arr.shape, arr.strides)]


def message(view: Any, write: bool = False, datatype: MPI.Datatype | None = None, count: int = 1) -> Any:
    """An mpi4py message specification for a View, a subview (strided ones too) or an array, for any mpi4py
    call: `comm.Send(kkmpi.message(v), dest)`, `comm.Recv(kkmpi.message(v, write=True), source)`.

    Host Views give their host memory (brought up to date first; `write=True` marks a device copy stale).
    CudaSpace Views give their device memory when MPI is CUDA-aware (`cuda_aware()`; the device is
    synchronized first, and `write=True` marks the host copy stale), else their host copy, synchronized.
    Non-contiguous subviews travel with a derived datatype: no packing by hand. `datatype` (and `count`) give
    your own MPI datatype over the View's memory from its element 0 (e.g. the blocks of an all-to-all). Plain
    `comm.Send(view)` works too (the buffer protocol: host memory, synchronized), for contiguous Views.
    """
    if co.on_device(view) and cuda_aware():
        device, ptr = co.device_buffer(view)
        co.synchronize(device)
        arr = co.host_array(view)
        if write:
            co.device_written(view)
        nbytes = _span_bytes(arr)
        buf = MPI.buffer.fromaddress(ptr, nbytes, readonly=not write)
        if datatype is not None:
            return [buf, count, datatype]
        if arr.flags.c_contiguous:
            return [buf, arr.size, mpi_type(arr.dtype)]
        return [buf, 1, strided_type(arr.dtype.str, arr.shape, arr.strides)]
    if co.is_view(view):
        arr = co.host_buffer(view, write)
    elif isinstance(view, np.ndarray):
        arr = view
    else:
        raise KernelTypeError(f"message(): expected a View or a NumPy array, got {type(view).__name__}")
    if write and not arr.flags.writeable:
        raise KernelValueError("message(..., write=True): the array is read-only")
    if datatype is not None:
        return [MPI.buffer.fromaddress(_host_address(arr), _span_bytes(arr), readonly=not write), count, datatype]
    return host_spec(arr, readonly=not write)


# --- device slabs -----------------------------------------------------------------------------------------


# types come from the call: one specialization per dtype and layout
@pk.workunit
def _pack1(i, src, dst):
    dst[i] = src[i]


@pk.workunit
def _pack2(i, j, src, dst):
    dst[i][j] = src[i][j]


@pk.workunit
def _pack3(i, j, k, src, dst):
    dst[i][j][k] = src[i][j][k]


def _copy_kernel(src: Any, dst: Any) -> None:
    """dst[...] = src[...] on the GPU (a pack or unpack of a strided slab), for Views of rank 1 to 3."""
    n = len(dst.shape)
    _stats["packs"] += 1
    space = co.cuda_space()
    if n == 1:
        pk.parallel_for("kernelkit.mpi.pack", pk.RangePolicy(space, 0, dst.shape[0]), _pack1, src=src, dst=dst)
        return
    if n > 3:
        raise KernelValueError("halo exchange of a strided device slab supports Views of rank 1 to 3")
    policy = pk.MDRangePolicy([0] * n, list(dst.shape), space=space)
    pk.parallel_for("kernelkit.mpi.pack", policy, _pack2 if n == 2 else _pack3, src=src, dst=dst)


class DeviceSlab:
    """How a piece of a device View is sent or received (the piece itself, a subview, is passed to each call:
    a plan holds no reference to the View). Contiguous slabs are used in place; strided ones go through a
    contiguous device buffer with a pack (or unpack) kernel. Without CUDA-aware MPI the bytes are staged
    through a pinned host buffer: one copy per slab and direction."""

    def __init__(self, arr: np.ndarray, aware: bool):
        self.count = arr.size
        self.nbytes = arr.size * arr.itemsize
        self.aware = aware
        contiguous = bool(arr.flags.c_contiguous)
        self.packed = None if contiguous else pk.View(list(arr.shape), arr.dtype, space=pk.CudaSpace)
        self.pinned = None if aware else co.PinnedBuffer(self.nbytes)
        self.host = self.pinned.address if self.pinned is not None else 0  # the staging buffer's address
        self.mpi_type = mpi_type(arr.dtype)

    def send_spec(self, slab: Any) -> Any:
        """Ready the slab's bytes for MPI (pack, copy to the pinned buffer) and return the message."""
        source = slab
        if self.packed is not None:
            _copy_kernel(slab, self.packed)
            source = self.packed
        device, ptr = co.device_buffer(source)
        if self.aware:
            co.synchronize(device)
            return [MPI.buffer.fromaddress(ptr, self.nbytes, readonly=True), self.count, self.mpi_type]
        co.copy_to_host(self.host, ptr, self.nbytes)
        _stats["staged_d2h"] += 1
        _stats["staged_bytes"] += self.nbytes
        return [MPI.buffer.fromaddress(self.host, self.nbytes), self.count, self.mpi_type]

    def recv_spec(self, slab: Any) -> Any:
        """Where MPI writes the slab's bytes; call `received(slab)` after."""
        if self.aware:
            _, ptr = co.device_buffer(slab if self.packed is None else self.packed)
            return [MPI.buffer.fromaddress(ptr, self.nbytes), self.count, self.mpi_type]
        return [MPI.buffer.fromaddress(self.host, self.nbytes), self.count, self.mpi_type]

    def received(self, slab: Any) -> None:
        """Move received bytes into the slab (upload, unpack) and mark the device copy written."""
        target = slab if self.packed is None else self.packed
        if not self.aware:
            _, ptr = co.device_buffer(target)
            co.copy_to_device(ptr, self.host, self.nbytes)
            _stats["staged_h2d"] += 1
            _stats["staged_bytes"] += self.nbytes
        co.device_written(target)
        if self.packed is not None:
            _copy_kernel(self.packed, slab)

    def free(self) -> None:
        if self.pinned is not None:
            self.pinned.free()
            self.host = 0
