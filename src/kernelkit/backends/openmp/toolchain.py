"""Finding and running the host C++ compiler.

The compiler is found once per process: KERNELKIT_CXX or CXX, else the first of c++, g++, clang++ on PATH. Its
identity for cache keys is (resolved path, size, mtime), read with stat() so that a warm start runs no
subprocess; the version string is read only when someone asks (`kernelkit info`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass

from kernelkit import config
from kernelkit.backends.base import INCLUDE_DIR, Records
from kernelkit.errors import CompileError, ToolchainNotFound

# -fno-math-errno lets sqrt & co. vectorize (kernels never read errno); it changes no result. IEEE by default
# (docs/numerics.md): -ffp-contract=off keeps `a * b + c` two rounded operations, as NumPy and the Debug space
# compute it (GCC's default for GNU C++ is `fast`, which fuses it into an FMA). A kernel built with fast math
# (`@pk.workunit(fast_math=True)` or KERNELKIT_FAST_MATH=1) gets FAST_FLAGS instead.
# -frounding-math also stops GCC folding `-abs(x) + 0.0` into `-abs(x)` (wrong for x = 0: -0.0 + 0.0 is +0.0, found
# by tests/fuzz); it costs nothing measurable here (the frontend folds constant expressions itself).
IEEE_FLAGS = ["-ffp-contract=off", "-frounding-math"]
FAST_FLAGS = ["-ffp-contract=fast", "-ffast-math"]
BASE_FLAGS = [
    "-std=c++17",
    "-O3",
    "-march=native",
    "-fPIC",
    "-shared",
    "-fno-exceptions",
    "-fno-rtti",
    "-fno-math-errno",
    "-fwrapv",  # signed integers wrap, as the kernel language defines them (docs/numerics.md), never UB
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

    def flags(self, target: str, fast_math: bool = False) -> list[str]:
        extra = shlex.split(config.get().cxxflags)
        fp = FAST_FLAGS if fast_math else IEEE_FLAGS
        return BASE_FLAGS + fp + TARGET_FLAGS[target] + [f"-I{INCLUDE_DIR}"] + extra

    def compile(
        self, source_path: str, out_path: str, target: str, label: str, fast_math: bool = False, tmpdir: str = ""
    ) -> None:
        cmd = [self.path, *self.flags(target, fast_math), source_path, "-o", out_path]
        env = dict(os.environ, TMPDIR=tmpdir) if tmpdir else None  # the compiler's temporaries: cleaned with ours
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
        except (OSError, subprocess.SubprocessError) as e:
            raise CompileError(f"could not run the C++ compiler {self.path!r} for kernel {label!r}: {e}") from None
        if proc.returncode < 0:
            try:
                name = signal.Signals(-proc.returncode).name
            except ValueError:
                name = f"signal {-proc.returncode}"
            raise CompileError(
                f"the C++ compiler was killed by {name} while compiling kernel {label!r} (out of memory, a timeout "
                "or someone stopped it); nothing was cached, so the next launch compiles it again",
                detail=f"command: {shlex.join(cmd)}\n{(proc.stderr or '').strip()}",
            )
        if proc.returncode != 0:
            log = (proc.stderr or proc.stdout).strip()
            raise CompileError(
                f"the C++ compiler failed on kernel {label!r} (this is a kernelkit bug if the kernel passed the "
                "frontend: please report it with the log below)",
                detail=f"command: {shlex.join(cmd)}\n{log}",
            )


# ----------------------------------------------------------------------------------------- -march=native

NATIVE_RECORD = "host-march"
_native_memo: dict[str, str] = {}


def cpu_signature() -> str:
    """A hash of what this CPU offers (vendor, model, feature flags): the first processor of /proc/cpuinfo,
    read once per process (a few hundred bytes; the rest of the file repeats it per core)."""
    lines = []
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    break
                key = line.split(":", 1)[0].strip()
                if key in ("vendor_id", "cpu family", "model", "model name", "flags", "Features", "CPU part"):
                    lines.append(line.strip())
    except OSError:
        import platform

        lines = [platform.machine(), platform.processor()]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def _resolve_native(tc: Toolchain) -> str:
    """What -march=native means to this compiler on this CPU: GCC's resolved target options, or clang's
    target CPU and features."""
    for cmd in (
        [tc.path, "-march=native", "-Q", "--help=target"],  # GCC: every -m option, resolved
        [tc.path, "-march=native", "-###", "-x", "c++", "-c", os.devnull],  # clang: -target-cpu, -target-feature
    ):
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            continue
        text = proc.stdout + proc.stderr
        if proc.returncode == 0 and ("-march=" in text or "-target-cpu" in text):
            march = ""
            for line in text.splitlines():
                parts = line.split()
                if parts and parts[0] == "-march=" and len(parts) > 1:
                    march = parts[1]
                elif '"-target-cpu"' in line:
                    march = line.split('"-target-cpu"', 1)[1].split('"')[1]
            relevant = [ln for ln in text.splitlines() if ln.strip().startswith("-m") or "-target-" in ln]
            return f"{march or 'native'}:{hashlib.sha256(chr(10).join(relevant).encode()).hexdigest()[:16]}"
    return f"native:{cpu_signature()}"  # a compiler that explains neither: the CPU itself stands for it


def native_target(tc: Toolchain, records: Records | None) -> str:
    """The CPU target -march=native resolves to (part of the cache key: a cache shared between machines must
    not hand one CPU's binary to another). Memoized in the cache's records per compiler identity and CPU
    signature, so a warm start runs no compiler."""
    memo_key = f"{tc.identity}|{cpu_signature()}"
    hit = _native_memo.get(memo_key)
    if hit is not None:
        return hit
    record = (records.read(NATIVE_RECORD) if records is not None else None) or {}
    value = record.get(memo_key)
    if not isinstance(value, str):
        value = _resolve_native(tc)
        if records is not None:
            fresh = {k: v for k, v in record.items() if isinstance(v, str) and k.split("|", 1)[0] == tc.identity}
            records.write(NATIVE_RECORD, dict(fresh, **{memo_key: value}))
    _native_memo[memo_key] = value
    return value


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
