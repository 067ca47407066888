"""The host half of @pk.jit programs on pk.Cuda: its build (g++, no OpenMP), the launch context it is handed,
and the arrays it gives back.

The host unit is rendered by program.render_host and compiled like the Serial space's units; at run time the
host launcher (_native.launch, at the GPU's place) calls its kk_entry with the device copies of the arguments.
The unit finds its kk_cuda_ctx in a ContextTable by its program identity: driver entry points, the stream, the
module's functions in plan order, and scratch memory for reductions and scalars coming back.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from kernelkit.backends.cuda import program as cuda_program
from kernelkit.backends.openmp.backend import SerialBackend
from kernelkit.ir import nodes as N
from kernelkit.ir import printer

MAX_FUNCTIONS = 64


class CudaProgramHost(SerialBackend):
    """Builds a program's host unit for pk.Cuda (never launched by itself)."""

    name = "cudahost"
    target = "serial"
    _instance: CudaProgramHost | None = None

    @classmethod
    def instance(cls) -> CudaProgramHost:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def accepts(self, unit: Any) -> bool:
        """CudaCheck builds the host unit of programs that would run on pk.Cuda (not those with host regions)."""
        return isinstance(unit, N.Program) and cuda_program.host_region(unit) is None

    def codegen_files(self) -> tuple[str, ...]:
        import os

        here = os.path.dirname(os.path.abspath(__file__))
        return super().codegen_files() + (os.path.join(here, "program.py"), os.path.join(here, "program_host.py"))

    def render(self, kernel: N.Kernel) -> str:
        if not isinstance(kernel, N.Program):
            raise TypeError("the CUDA program host unit is made for @pk.jit programs only")
        return cuda_program.render_host(kernel)


class _Ctx(ctypes.Structure):
    _fields_ = [
        ("launch", ctypes.c_void_p),
        ("sync", ctypes.c_void_p),
        ("alloc", ctypes.c_void_p),
        ("free", ctypes.c_void_p),
        ("memset8", ctypes.c_void_p),
        ("dtoh", ctypes.c_void_p),
        ("htod", ctypes.c_void_p),
        ("stream", ctypes.c_void_p),
        ("scratch", ctypes.c_uint64),
        ("host_scratch", ctypes.c_void_p),
        ("max_blocks", ctypes.c_int64),
        ("nfunctions", ctypes.c_int64),
        ("functions", ctypes.c_void_p * MAX_FUNCTIONS),
    ]


class _Table(ctypes.Structure):
    _fields_ = [("n", ctypes.c_int64), ("ids", ctypes.c_int64 * 16), ("ctx", ctypes.c_void_p * 16)]


class ContextTable:
    """The (program identity -> context) table one function passes to its CUDA specializations."""

    def __init__(self) -> None:
        self.table = _Table()
        self.keep: list[Any] = []

    @property
    def address(self) -> int:
        return ctypes.addressof(self.table)

    def add(self, program_id: int, ctx: Any) -> None:
        t = self.table
        for k in range(t.n):
            if t.ids[k] == program_id:
                t.ctx[k] = ctypes.addressof(ctx.struct)
                self.keep.append(ctx)
                return
        if t.n == 16:  # the oldest goes (specs are capped at 16 per function too)
            ctypes.memmove(ctypes.byref(t, _Table.ids.offset), ctypes.byref(t, _Table.ids.offset + 8), 15 * 8)
            ctypes.memmove(ctypes.byref(t, _Table.ctx.offset), ctypes.byref(t, _Table.ctx.offset + 8), 15 * 8)
            t.n = 15
        t.ids[t.n] = ctypes.c_int64(_signed(program_id)).value
        t.ctx[t.n] = ctypes.addressof(ctx.struct)
        t.n += 1
        self.keep.append(ctx)


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


class LaunchContext:
    def __init__(self, backend: Any, functions: list, max_blocks: int, program: N.Program):
        from kernelkit.backends.cuda import driver

        pl = cuda_program.plan(program)
        if len(functions) > MAX_FUNCTIONS:
            raise ValueError(f"a program with more than {MAX_FUNCTIONS} kernels")
        slots = 1
        for k in pl.kernels:
            if isinstance(k.node, N.ParallelFor):
                slots = max(slots, len(k.node.shared) + len(k.node.reductions) * max_blocks)
            else:
                slots = max(slots, len(k.assigned))
        self.nbytes = 8 * slots
        self.driver = driver
        self.device_scratch = driver.alloc(self.nbytes, backend.device)
        self.host_scratch = driver.alloc_host(self.nbytes)
        self.program_id = printer.program_id(program)
        s = self.struct = _Ctx()
        sym = driver.symbol_address
        s.launch = sym("cuLaunchKernel")
        s.sync = sym("cuStreamSynchronize")
        s.alloc = sym("cuMemAlloc_v2")
        s.free = sym("cuMemFree_v2")
        s.memset8 = sym("cuMemsetD8Async")
        s.dtoh = sym("cuMemcpyDtoHAsync_v2")
        s.htod = sym("cuMemcpyHtoDAsync_v2")
        s.stream = backend.handle or None
        s.scratch = self.device_scratch
        s.host_scratch = self.host_scratch
        s.max_blocks = max_blocks
        s.nfunctions = len(functions)
        for k, f in enumerate(functions):
            s.functions[k] = f.handle

    def __del__(self) -> None:
        try:
            self.driver.free(self.device_scratch)
            self.driver.free_host(self.host_scratch)
        except Exception:  # interpreter shutdown or a dead context: nothing left to free
            pass


def make_context(backend: Any, functions: list, max_blocks: int, program: N.Program) -> LaunchContext:
    return LaunchContext(backend, functions, max_blocks, program)


class _DeviceBlock:
    """Device memory from cuMemAlloc handed to the caller (freed with cuMemFree with its last user)."""

    def __init__(self, ptr: int):
        self.ptr = ptr

    def __del__(self) -> None:
        try:
            from kernelkit.backends.cuda import driver

            driver.cu().cuMemFree(self.ptr)
        except Exception:  # interpreter shutdown or a dead context
            pass


def result_array(backend: Any, ptr: int, shape: tuple[int, ...], dtype: np.dtype, like: list) -> Any:
    from kernelkit.backends.cuda import driver

    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    owner = _DeviceBlock(ptr)
    if any(type(v).__module__.split(".")[0] == "cupy" for v in like):
        import cupy

        mem = cupy.cuda.UnownedMemory(ptr, max(nbytes, 1), owner, backend.device_id)
        return cupy.ndarray(shape, dtype, cupy.cuda.MemoryPointer(mem, 0))
    out = np.empty(shape, dtype)
    if nbytes:
        driver.memcpy_dtoh(out, ptr, nbytes)
    del owner
    return out
