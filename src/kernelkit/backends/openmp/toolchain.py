"""Finding and running the host C++ compiler.

The compiler is found once per process: KERNELKIT_CXX or CXX, else the first of c++, g++, clang++ on PATH. Its
identity for cache keys is (resolved path, size, mtime), read with stat() so that a warm start runs no
subprocess; the version string is read only when someone asks (`kernelkit info`).
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass

from kernelkit import config
from kernelkit.backends.base import INCLUDE_DIR
from kernelkit.errors import CompileError, ToolchainNotFound

# -fno-math-errno lets sqrt & co. vectorize (kernels never read errno); no -ffast-math: results keep IEEE rules.
BASE_FLAGS = [
    "-std=c++17",
    "-O3",
    "-march=native",
    "-fPIC",
    "-shared",
    "-fno-exceptions",
    "-fno-rtti",
    "-fno-math-errno",
    "-fno-plt",
    "-pipe",
]
TARGET_FLAGS = {"openmp": ["-fopenmp"], "serial": ["-fopenmp-simd"]}


@dataclass(frozen=True)
class Toolchain:
    path: str
    identity: str

    @functools.cached_property
    def version(self) -> str:
        try:
            out = subprocess.run([self.path, "--version"], capture_output=True, text=True, timeout=30)
            return out.stdout.splitlines()[0] if out.stdout else "unknown"
        except (OSError, subprocess.SubprocessError):
            return "unknown"

    def flags(self, target: str) -> list[str]:
        extra = shlex.split(config.get().cxxflags)
        return BASE_FLAGS + TARGET_FLAGS[target] + [f"-I{INCLUDE_DIR}"] + extra

    def compile(self, source_path: str, out_path: str, target: str, label: str) -> None:
        cmd = [self.path, *self.flags(target), source_path, "-o", out_path]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as e:
            raise CompileError(f"could not run the C++ compiler {self.path!r} for kernel {label!r}: {e}") from None
        if proc.returncode != 0:
            log = (proc.stderr or proc.stdout).strip()
            raise CompileError(
                f"the C++ compiler failed on kernel {label!r} (this is a kernelkit bug if the kernel passed the "
                "frontend: please report it with the log below)",
                detail=f"command: {shlex.join(cmd)}\n{log}",
            )


_found: Toolchain | None | bool = False


def find_cxx() -> Toolchain | None:
    """The host C++ compiler, or None."""
    global _found
    if _found is not False:
        return _found  # type: ignore[return-value]
    cfg = config.get()
    candidates = [cfg.cxx] if cfg.cxx else ["c++", "g++", "clang++"]
    found = None  # published once complete: threads of kernelkit.tasks may ask at the same time
    for name in candidates:
        argv0 = shlex.split(name)[0] if name else ""
        path = shutil.which(argv0) if argv0 else None
        if path:
            real = os.path.realpath(path)
            st = os.stat(real)
            found = Toolchain(path, f"{real}:{st.st_size}:{st.st_mtime_ns}")
            break
    _found = found
    return found


def require_cxx() -> Toolchain:
    tc = find_cxx()
    if tc is None:
        raise ToolchainNotFound(
            "no C++ compiler found for the Serial/OpenMP spaces: install one (Debian/Ubuntu: "
            "`apt-get install g++`; Fedora: `dnf install gcc-c++`; macOS: `xcode-select --install` and "
            "`brew install libomp`) or point KERNELKIT_CXX at it. The pk.Debug space needs no compiler."
        )
    return tc
