"""The compiled host spaces: pk.OpenMP (threads) and pk.Serial (one thread, no OpenMP runtime).

The same C++ source (render.py) serves both: compiled with -fopenmp, or with -fopenmp-simd only (the pragmas
that vectorize stay, the threading ones vanish). The binary is a shared library with one `kk_entry` that the
native host launcher calls with the GIL released. A host backend bound to a logical device (`at(place)`) runs
the same binaries on that place's buffers.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

from kernelkit import _native, config
from kernelkit.backends.base import Backend, Place, Records
from kernelkit.backends.cpp import result_tag, uses_fast_math
from kernelkit.backends.openmp import elf, program, render
from kernelkit.backends.openmp.toolchain import find_cxx, native_target, require_cxx
from kernelkit.ir import nodes as N

_HERE = os.path.dirname(os.path.abspath(__file__))


class Library:
    """A loaded kernel library: the entry address and the ctypes handle that keeps it mapped."""

    __slots__ = ("address", "handle", "path")

    def __init__(self, address: int, handle: Any, path: str):
        self.address = address
        self.handle = handle
        self.path = path


class HostBackend(Backend):
    target = ""

    def __init__(self) -> None:
        self.spec_key = self.name
        self.native = _native.launch  # instance attributes: the launcher reads them on every launch
        self.handle = self.place.code
        self._logical: dict[int, HostBackend] = {}

    def available(self) -> tuple[bool, str]:
        tc = find_cxx()
        if tc is None:
            return False, "no C++ compiler (install g++ or clang++, or set KERNELKIT_CXX)"
        return True, tc.path

    def at(self, place: Place) -> HostBackend:
        """This backend running on the buffers of a host-backed logical device (same specs, same binaries)."""
        b = self._logical.get(place.code)
        if b is None:
            b = type(self).__new__(type(self))
            b.__dict__.update(self.__dict__)
            b.place, b.handle = place, place.code
            self._logical[place.code] = b
        return b

    def codegen_files(self) -> tuple[str, ...]:
        return (
            os.path.join(_HERE, "render.py"),
            os.path.join(_HERE, "program.py"),
            os.path.join(_HERE, "toolchain.py"),
        )

    def identity(self, records: Records) -> str:
        tc = require_cxx()
        native = native_target(tc, records)  # what -march=native means here: binaries are for this CPU
        return f"{self.target}\0{tc.identity}\0{' '.join(tc.flags(self.target))}\0{native}"

    def render(self, kernel: N.Kernel) -> str:
        if isinstance(kernel, N.Program):  # a whole @pk.jit function
            return program.render(kernel, bounds_check=config.get().bounds_check)
        return render.render(kernel, bounds_check=config.get().bounds_check)

    def compile(self, source: str, kernel: N.Kernel, out_path: str) -> None:
        # the source and the compiler's own temporary files go next to the output (`out_path + ".d"`, which
        # the cache removes with the output, and sweeps when a killed build left it behind)
        tmp = out_path + ".d"
        os.makedirs(tmp, mode=0o700, exist_ok=True)
        src = os.path.join(tmp, f"{kernel.name}.cpp")
        with open(src, "w", encoding="utf-8") as f:
            f.write(source)
        require_cxx().compile(src, out_path, self.target, kernel.name, fast_math=uses_fast_math(kernel), tmpdir=tmp)

    def verify(self, path: str) -> str | None:
        return elf.problem(path)  # a truncated library would kill the process with SIGBUS inside dlopen

    def load(self, path: str, kernel: N.Kernel) -> Library:
        lib = ctypes.CDLL(path, mode=os.RTLD_NOW | os.RTLD_LOCAL)
        return Library(ctypes.cast(lib.kk_entry, ctypes.c_void_p).value or 0, lib, path)

    def make_spec(self, kernel: N.Kernel, binary: Library, params: tuple, guards: tuple, rec: Any) -> Any:
        tag = "i" if isinstance(kernel, N.Program) else result_tag(kernel)  # a program answers its identity
        return _native.Spec(binary.address, params, guards, tag, binary)


class OpenMPBackend(HostBackend):
    name = "openmp"
    target = "openmp"


class SerialBackend(HostBackend):
    name = "serial"
    target = "serial"
