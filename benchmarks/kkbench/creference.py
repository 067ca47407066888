"""The hand-written C/OpenMP reference: compiled by the harness in the same run, called through ctypes.

Same compiler and flags as kernelkit's OpenMP space, same NumPy arrays, same thread count: the only thing
that differs from the kernelkit version is who wrote the loop.
"""

from __future__ import annotations

import ctypes
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .hooks import HostCompiler, host_compiler

CSRC = Path(__file__).resolve().parent / "csrc"

_P = ctypes.c_void_p
_I64 = ctypes.c_int64
_F64 = ctypes.c_double

# Signatures of the entry points in csrc/cpu_reference.c: name -> (restype, argtypes).
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "kkref_set_threads": (None, [ctypes.c_int]),
    "kkref_get_threads": (ctypes.c_int, []),
    "kkref_copy": (None, [_P, _P, _I64]),
    "kkref_copy_memcpy": (None, [_P, _P, _I64]),
    "kkref_mul": (None, [_P, _P, _F64, _I64]),
    "kkref_add": (None, [_P, _P, _P, _I64]),
    "kkref_triad": (None, [_P, _P, _P, _F64, _I64]),
    "kkref_dot": (_F64, [_P, _P, _I64]),
    "kkref_sum": (_F64, [_P, _I64]),
    "kkref_pi": (_F64, [_I64, _F64]),
    "kkref_nstream": (None, [_P, _P, _P, _F64, _I64]),
    "kkref_stencil": (None, [_P, _P, _I64]),
    "kkref_jacobi": (None, [_P, _P, _I64]),
    "kkref_transpose": (None, [_P, _P, _I64]),
    "kkref_yax": (_F64, [_P, _P, _P, _I64, _I64]),
    "kkref_gups": (None, [_P, _P, _P, _I64]),
    "kkref_gather": (None, [_P, _P, _P, _I64]),
    "kkref_dgemm": (None, [_P, _P, _P, _I64]),
}


class CompileError(RuntimeError):
    """The reference source did not compile; the message carries the command and the compiler's log."""


def openmp_compiler() -> HostCompiler:
    """The C++ compiler and flags kernelkit's OpenMP space uses."""
    found = host_compiler()
    if found is None:
        raise CompileError("no C++ compiler found (set KERNELKIT_CXX, or install g++ or clang++)")
    return found


class CReference:
    """A loaded build of a reference source; attribute access gives the typed ctypes functions."""

    def __init__(self, lib: ctypes.CDLL, compiler: HostCompiler, command: list[str], compile_s: float, workdir: str):
        self._lib = lib
        self.compiler = compiler
        self.command = command
        self.compile_s = compile_s
        self._workdir = workdir
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = restype
                fn.argtypes = argtypes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lib, name)

    def set_threads(self, n: int) -> None:
        self._lib.kkref_set_threads(int(n))

    def threads(self) -> int:
        return int(self._lib.kkref_get_threads())

    def close(self) -> None:
        shutil.rmtree(self._workdir, ignore_errors=True)


def ptr(a: np.ndarray) -> int:
    """The data address of a C-contiguous float64 or int64 array, checked (ctypes would take anything)."""
    if a.dtype not in (np.float64, np.int64) or not a.flags.c_contiguous:
        raise TypeError("the C reference takes C-contiguous float64 or int64 arrays")
    return a.ctypes.data


def compile_reference(source: str = "cpu_reference.c", compiler: HostCompiler | None = None) -> CReference:
    """Compile `csrc/<source>` as C with the OpenMP space's compiler and flags, and load it."""
    compiler = compiler or openmp_compiler()
    workdir = tempfile.mkdtemp(prefix="kernelkit-bench-")
    src = str(CSRC / source)
    out = os.path.join(workdir, os.path.splitext(source)[0] + ".so")
    # `-x c`: the source is C whichever driver (c++, g++, clang++) kernelkit uses; the flags are the same.
    cmd = [compiler.path, "-x", "c", "-std=c11", *compiler.flags, src, "-o", out]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        raise CompileError(f"{shlex.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")
    return CReference(ctypes.CDLL(out), compiler, cmd, elapsed, workdir)
