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
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

# What kernelkit's OpenMP space passes; used when the toolchain module does not say (see `openmp_flags`).
DEFAULT_OPENMP_FLAGS: tuple[str, ...] = ("-O3", "-march=native", "-fopenmp", "-fPIC", "-shared")

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


@dataclass
class Compiler:
    path: str
    version: str
    flags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "version": self.version, "flags": list(self.flags)}


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.splitlines()[0].strip() if out else "unknown"


# Flags of kernelkit's C++ command that mean nothing to (or only warn in) a C compile.
_CXX_ONLY = ("-std=", "-fno-rtti", "-fno-exceptions", "-I")


def openmp_compiler() -> Compiler:
    """The C++ compiler and flags kernelkit's OpenMP space uses (from kernelkit.compile.toolchain)."""
    from kernelkit import config

    path: str | None = None
    version = ""
    flags: list[str] | None = None
    try:
        from kernelkit.compile import toolchain
    except ImportError:
        toolchain = None  # type: ignore[assignment]
    if toolchain is not None:
        found = toolchain.find_cxx()
        if found is not None:
            path = str(found.path)
            version = str(getattr(found, "version", "") or "")
            if callable(getattr(found, "flags", None)):
                flags = [f for f in found.flags("openmp") if not f.startswith(_CXX_ONLY)]
    if path is None:
        settings = config.get()
        for name in [settings.cxx] if settings.cxx else ["c++", "g++", "clang++"]:
            if name and shutil.which(shlex.split(name)[0]):
                path = shutil.which(shlex.split(name)[0])
                break
    if path is None:
        raise CompileError("no C++ compiler found (set CXX, or install g++ or clang++)")
    if not version:
        version = _first_line([path, "--version"])
    if flags is None:
        flags = list(DEFAULT_OPENMP_FLAGS) + shlex.split(config.get().cxxflags)
    return Compiler(path=path, version=version, flags=flags)


class CReference:
    """A loaded build of a reference source; attribute access gives the typed ctypes functions."""

    def __init__(
        self, lib: ctypes.CDLL, compiler: Compiler, command: list[str], compile_s: float, workdir: str
    ):
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


def compile_reference(source: str = "cpu_reference.c", compiler: Compiler | None = None) -> CReference:
    """Compile `csrc/<source>` as C with the OpenMP space's compiler and flags, and load it."""
    compiler = compiler or openmp_compiler()
    workdir = tempfile.mkdtemp(prefix="kernelkit-bench-")
    src = os.path.join(workdir, source)
    with open(src, "w") as f:
        f.write(resources.files("kernelkit.bench").joinpath("csrc", source).read_text())
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
