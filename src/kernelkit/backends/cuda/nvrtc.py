"""NVRTC through ctypes: CUDA C++ source to a cubin (or PTX), with no GPU and no CUDA toolkit installed.

The library is found, in this order: the `nvidia-cuda-nvrtc` wheel (`nvidia/cu13/lib` for CUDA 13,
`nvidia/cuda_nvrtc/lib` for CUDA 12) on `sys.path`, `$CUDA_HOME`/`$CUDA_PATH`, `/usr/local/cuda`, then the
system loader. It is loaded on first use, never at import.

NVRTC has no C/C++ standard headers. `BUILTIN_HEADERS` supplies small stand-ins (`<stdint.h>`, `<cstdint>`,
`<stddef.h>`, `<limits.h>`, `<float.h>`, `<math.h>`, `<cmath>`, `<limits>`, ...), read once from the files in
`backends/include/kernelkit/nvrtc/`, so that the shared header runtime and `kernelkit/abi.h` compile under
NVRTC as they do under the host C++ compiler.

    >>> from kernelkit.backends.cuda import nvrtc
    >>> src = 'extern "C" __global__ void k(double* x) { x[threadIdx.x] = 1.0; }'
    >>> cubin = nvrtc.compile(src, "k.cu", "sm_90")
    >>> cubin[:4]
    b'\\x7fELF'
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import hashlib
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from kernelkit.errors import CompileError, ToolchainNotFound

__all__ = [
    "BUILTIN_HEADERS",
    "DEFAULT_OPTIONS",
    "Compiled",
    "available",
    "candidate_paths",
    "choose_for_driver",
    "compile",
    "compile_program",
    "identity",
    "library_path",
    "parse_arch",
    "supported_archs",
    "target_for",
    "use_library",
    "version",
]

DEFAULT_OPTIONS: tuple[str, ...] = ("-std=c++17", "-default-device")

_INSTALL_HINT = "install it with `pip install nvidia-cuda-nvrtc` (or `pip install kernelkit[cuda]`)"


# ----------------------------------------------------------------------------------------------------
# Finding and loading the library

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_lib_path: str | None = None
_load_error: str | None = None
_pinned: str | None = None
_archs: tuple[int, ...] | None = None


def _soname_key(path: str) -> tuple[int, ...]:
    # libnvrtc.so.13 -> (13,), libnvrtc.so.12.4.99 -> (12, 4, 99); newest first when sorted in reverse.
    tail = os.path.basename(path).split(".so")[-1]
    return tuple(int(p) for p in tail.split(".") if p.isdigit())


def candidate_paths() -> list[str]:
    """Every libnvrtc this process could load, best first (wheels, newest CUDA first; then CUDA_HOME, then
    /usr/local/cuda). The system loader's own search comes last and is not listed."""
    found: list[str] = []
    roots: list[str] = []
    for entry in sys.path:
        if entry and os.path.isdir(os.path.join(entry, "nvidia")) and entry not in roots:
            roots.append(entry)
    wheel_libs: list[str] = []
    for root in roots:
        # cu13+: nvidia/cu13/lib; cu12: nvidia/cuda_nvrtc/lib.
        for pattern in ("nvidia/cu*/lib/libnvrtc.so*", "nvidia/cuda_nvrtc/lib/libnvrtc.so*"):
            wheel_libs += [p for p in glob.glob(os.path.join(root, pattern)) if _is_nvrtc(p)]
    found += sorted(set(wheel_libs), key=_soname_key, reverse=True)
    homes = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"]
    for home in homes:
        if not home:
            continue
        for sub in ("lib64", "lib", "targets/x86_64-linux/lib", "targets/sbsa-linux/lib"):
            libs = [p for p in glob.glob(os.path.join(home, sub, "libnvrtc.so*")) if _is_nvrtc(p)]
            found += sorted(libs, key=_soname_key, reverse=True)
    unique: list[str] = []
    for path in found:
        real = os.path.realpath(path)
        if real not in {os.path.realpath(u) for u in unique}:
            unique.append(path)
    return unique


def _is_nvrtc(path: str) -> bool:
    base = os.path.basename(path)
    return base.startswith("libnvrtc.so") and os.path.isfile(path)


def _load_builtins_beside(path: str) -> None:
    # libnvrtc dlopen()s libnvrtc-builtins by soname at compile time; loading the copy beside it first makes
    # that resolve here even when the wheel's directory is not on the loader's search path.
    directory = os.path.dirname(path)
    for builtin in sorted(glob.glob(os.path.join(directory, "libnvrtc-builtins.so*")), key=_soname_key, reverse=True):
        try:
            ctypes.CDLL(builtin, mode=ctypes.RTLD_GLOBAL)
            return
        except OSError:
            continue


def _bind(lib: ctypes.CDLL) -> None:
    c_int_p = ctypes.POINTER(ctypes.c_int)
    c_size_p = ctypes.POINTER(ctypes.c_size_t)
    prog_p = ctypes.POINTER(ctypes.c_void_p)
    charpp = ctypes.POINTER(ctypes.c_char_p)
    protos: dict[str, tuple[type | None, list]] = {
        "nvrtcGetErrorString": (ctypes.c_char_p, [ctypes.c_int]),
        "nvrtcVersion": (ctypes.c_int, [c_int_p, c_int_p]),
        "nvrtcGetNumSupportedArchs": (ctypes.c_int, [c_int_p]),
        "nvrtcGetSupportedArchs": (ctypes.c_int, [c_int_p]),
        "nvrtcCreateProgram": (
            ctypes.c_int,
            [prog_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, charpp, charpp],
        ),
        "nvrtcDestroyProgram": (ctypes.c_int, [prog_p]),
        "nvrtcCompileProgram": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, charpp]),
        "nvrtcGetPTXSize": (ctypes.c_int, [ctypes.c_void_p, c_size_p]),
        "nvrtcGetPTX": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p]),
        "nvrtcGetCUBINSize": (ctypes.c_int, [ctypes.c_void_p, c_size_p]),
        "nvrtcGetCUBIN": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p]),
        "nvrtcGetProgramLogSize": (ctypes.c_int, [ctypes.c_void_p, c_size_p]),
        "nvrtcGetProgramLog": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p]),
        "nvrtcAddNameExpression": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p]),
        "nvrtcGetLoweredName": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, charpp]),
    }
    for name, (restype, argtypes) in protos.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def _try_load(path: str) -> ctypes.CDLL:
    if os.path.sep in path:
        _load_builtins_beside(path)
    lib = ctypes.CDLL(path)
    _bind(lib)
    return lib


def _load() -> ctypes.CDLL:
    global _lib, _lib_path, _load_error
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        if _load_error is not None:
            raise ToolchainNotFound(_load_error)
        tried: list[str] = []
        paths = [_pinned] if _pinned else candidate_paths()
        if not _pinned:
            system = ctypes.util.find_library("nvrtc")
            if system:
                paths.append(system)
        for path in paths:
            try:
                lib = _try_load(path)
            except (OSError, AttributeError) as exc:
                tried.append(f"{path}: {exc}")
                continue
            _lib_path = _resolve(lib, path)
            _lib = lib
            return lib
        where = "; ".join(tried) if tried else "none found in the nvidia-cuda-nvrtc wheel, CUDA_HOME, /usr/local/cuda"
        _load_error = f"NVRTC (libnvrtc) is not available ({where}); {_INSTALL_HINT}"
        raise ToolchainNotFound(_load_error)


def _resolve(lib: ctypes.CDLL, path: str) -> str:
    if os.path.sep in path:
        return os.path.abspath(path)
    # A bare soname from find_library: ask the loader where it came from.
    try:
        info = _DlInfo()
        libdl = ctypes.CDLL(None)
        addr = ctypes.cast(lib.nvrtcVersion, ctypes.c_void_p)
        if libdl.dladdr(addr, ctypes.byref(info)) and info.dli_fname:
            return os.path.abspath(info.dli_fname.decode())
    except (OSError, AttributeError):
        pass
    return path


class _DlInfo(ctypes.Structure):
    _fields_ = [
        ("dli_fname", ctypes.c_char_p),
        ("dli_fbase", ctypes.c_void_p),
        ("dli_sname", ctypes.c_char_p),
        ("dli_saddr", ctypes.c_void_p),
    ]


def use_library(path: str | None) -> None:
    """Pin the libnvrtc to load (a full path), or `None` to go back to searching. A library already loaded
    stays mapped, but later calls use the new one."""
    global _pinned, _lib, _lib_path, _load_error, _archs
    with _lock:
        _pinned = path
        _lib = None
        _lib_path = None
        _load_error = None
        _archs = None


def choose_for_driver(cuda_major: int) -> str | None:
    """Pin the newest libnvrtc whose CUDA major version is at most `cuda_major` (the driver's, from
    `driver.driver_version()`): a driver loads no cubin or PTX from a newer major version. Returns the path,
    or None (and changes nothing) when no candidate qualifies or the default choice already does."""
    candidates = candidate_paths()
    majors = [(_soname_key(p) or (0,))[0] for p in candidates]
    if candidates and 0 < majors[0] <= cuda_major:
        return None
    for path, major in zip(candidates, majors, strict=True):
        if 0 < major <= cuda_major:
            use_library(path)
            return path
    return None


def available() -> bool:
    """True when a libnvrtc can be loaded (loads it)."""
    try:
        _load()
    except ToolchainNotFound:
        return False
    return True


def library_path() -> str | None:
    """The path of the loaded libnvrtc, or None when none can be loaded."""
    return _lib_path if available() else None


def version() -> tuple[int, int]:
    """NVRTC's (major, minor), e.g. (13, 5). Raises ToolchainNotFound without NVRTC."""
    lib = _load()
    major, minor = ctypes.c_int(), ctypes.c_int()
    _check(lib, lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor)), "nvrtcVersion")
    return major.value, minor.value


def supported_archs() -> tuple[int, ...]:
    """The real architectures this NVRTC can generate cubins for, as integers (75, 80, 86, 89, 90, ...)."""
    global _archs
    if _archs is None:
        lib = _load()
        n = ctypes.c_int()
        _check(lib, lib.nvrtcGetNumSupportedArchs(ctypes.byref(n)), "nvrtcGetNumSupportedArchs")
        arr = (ctypes.c_int * n.value)()
        _check(lib, lib.nvrtcGetSupportedArchs(arr), "nvrtcGetSupportedArchs")
        _archs = tuple(sorted(arr))
    return _archs


def _check(lib: ctypes.CDLL, status: int, call: str) -> None:
    if status != 0:
        text = lib.nvrtcGetErrorString(status)
        raise CompileError(f"{call} failed: {text.decode() if text else status}")


# ----------------------------------------------------------------------------------------------------
# Architectures

_ARCH_RE = re.compile(r"^(?:sm_|compute_|sm|compute)?(\d+)([a-z]?)$")


def parse_arch(arch: str | int | tuple[int, int]) -> tuple[int, str]:
    """("sm_90a" | "compute_90" | "90" | 90 | (9, 0) | "9.0") -> (90, suffix), suffix "" or "a"/"f"."""
    if isinstance(arch, tuple):
        return arch[0] * 10 + arch[1], ""
    if isinstance(arch, int):
        return arch, ""
    text = arch.strip().lower()
    if re.fullmatch(r"\d+\.\d", text):
        major, minor = text.split(".")
        return int(major) * 10 + int(minor), ""
    m = _ARCH_RE.match(text)
    if not m:
        raise CompileError(f"not a CUDA architecture: {arch!r} (expected e.g. 'sm_90')")
    return int(m.group(1)), m.group(2)


def target_for(arch: str | int | tuple[int, int]) -> tuple[str, bool]:
    """What to compile for a device of architecture `arch`: ("sm_XY", False) when this NVRTC emits a cubin
    for it, else ("compute_XY", True) for the newest virtual architecture not above it, whose PTX the driver
    JIT-compiles.

    Raises CompileError when the device is older than every architecture this NVRTC supports."""
    number, suffix = parse_arch(arch)
    archs = supported_archs()
    if number in archs:
        return f"sm_{number}{suffix}", False
    older = [a for a in archs if a <= number]
    if not older:
        raise CompileError(
            f"NVRTC {'.'.join(map(str, version()))} cannot generate code for sm_{number}: it supports "
            f"{', '.join(f'sm_{a}' for a in archs)}; use an older nvidia-cuda-nvrtc (e.g. -cu12) for this GPU"
        )
    return f"compute_{older[-1]}", True


# ----------------------------------------------------------------------------------------------------
# Standard headers (NVRTC ships none): files under backends/include/kernelkit/nvrtc/, read once on first use.
# They live under include/kernelkit/ so the code generator's fingerprint (part of every cache key) covers them.

HEADER_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "include", "kernelkit", "nvrtc")

# the name code includes -> the file standing in for it
HEADER_FILES: Mapping[str, str] = {
    "stdint.h": "stdint.h",
    "cstdint": "cstdint.h",
    "stddef.h": "stddef.h",
    "cstddef": "cstddef.h",
    "limits.h": "limits.h",
    "climits": "climits.h",
    "float.h": "float.h",
    "cfloat": "cfloat.h",
    "math.h": "math.h",
    "cmath": "cmath.h",
    "limits": "numeric_limits.h",
}


class _StandardHeaders(Mapping[str, str]):
    """The stand-in headers by include name, read from HEADER_DIR on first access (never at import)."""

    def __init__(self) -> None:
        self._texts: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        texts = self._texts
        if texts is None:
            with _lock:
                if self._texts is None:
                    self._texts = {name: _read_header(file) for name, file in HEADER_FILES.items()}
                texts = self._texts
        return texts

    def __getitem__(self, name: str) -> str:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(HEADER_FILES)

    def __len__(self) -> int:
        return len(HEADER_FILES)


def _read_header(file: str) -> str:
    path = os.path.join(HEADER_DIR, file)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise ToolchainNotFound(
            f"kernelkit's NVRTC standard header {file} is missing from {HEADER_DIR} ({exc}); reinstall kernelkit"
        ) from None


BUILTIN_HEADERS: Mapping[str, str] = _StandardHeaders()


# ----------------------------------------------------------------------------------------------------
# Compiling


@dataclass(frozen=True)
class Compiled:
    """What one NVRTC compile produced. `binary` is a cubin (ELF) or, when `ptx`, PTX text without its NUL."""

    binary: bytes
    ptx: bool
    arch: str
    log: str
    seconds: float
    lowered_names: dict[str, str] = field(default_factory=dict)


def identity(options: Sequence[str] = ()) -> str:
    """A string that changes whenever the output of `compile` could: NVRTC's version and path, the in-memory
    headers and the options. Part of the compiled-kernel cache key."""
    digest = hashlib.sha256()
    for name in sorted(BUILTIN_HEADERS):
        digest.update(name.encode() + b"\0" + BUILTIN_HEADERS[name].encode() + b"\0")
    digest.update("\0".join((*DEFAULT_OPTIONS, *options)).encode())
    major, minor = version()
    return f"nvrtc-{major}.{minor}:{library_path()}:{digest.hexdigest()[:16]}"


def _options(arch: str, ptx: bool, options: Sequence[str], include_dirs: Sequence[str]) -> list[str]:
    number, suffix = parse_arch(arch)
    if ptx:
        archs = supported_archs()
        older = [a for a in archs if a <= number]
        # PTX for a newer device than NVRTC knows: the newest virtual arch not above it still JITs there.
        if number not in archs and older:
            number, suffix = older[-1], ""
        target = f"compute_{number}{suffix}"
    else:
        target = f"sm_{number}{suffix}"
    opts = [f"--gpu-architecture={target}"]
    user_std = any(o.startswith(("-std", "--std")) for o in options)
    opts += [o for o in DEFAULT_OPTIONS if not (user_std and o.startswith("-std"))]
    opts += [f"-I{d}" for d in include_dirs]
    opts += list(options)
    return opts


def _first_error(log: str) -> str:
    for line in log.splitlines():
        if "error" in line:
            return line.strip()
    return ""


def compile_program(
    source: str,
    name: str,
    arch: str,
    options: Sequence[str] = (),
    include_dirs: Sequence[str] = (),
    *,
    ptx: bool = False,
    name_expressions: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
) -> Compiled:
    """Compile `source` (named `name` in messages, e.g. "axpy.cu") for `arch` ("sm_90"): a cubin, or PTX when
    `ptx`. `name_expressions` (e.g. "fill<double>") come back in `lowered_names` as their mangled names.
    `headers` add to or replace `BUILTIN_HEADERS`. Raises CompileError with NVRTC's full log as `detail`.

    The GIL is released while NVRTC runs, so threads compile in parallel."""
    lib = _load()
    opts = _options(arch, ptx, options, include_dirs)
    all_headers = dict(BUILTIN_HEADERS)
    if headers:
        all_headers.update(headers)
    n_headers = len(all_headers)
    header_src = (ctypes.c_char_p * n_headers)(*(v.encode() for v in all_headers.values()))
    header_names = (ctypes.c_char_p * n_headers)(*(k.encode() for k in all_headers))
    prog = ctypes.c_void_p()
    _check(
        lib,
        lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), name.encode(), n_headers, header_src, header_names),
        "nvrtcCreateProgram",
    )
    try:
        for expr in name_expressions:
            _check(lib, lib.nvrtcAddNameExpression(prog, expr.encode()), "nvrtcAddNameExpression")
        c_opts = (ctypes.c_char_p * len(opts))(*(o.encode() for o in opts))
        start = time.perf_counter()
        status = lib.nvrtcCompileProgram(prog, len(opts), c_opts)
        seconds = time.perf_counter() - start
        log = _log(lib, prog)
        if status != 0:
            what = lib.nvrtcGetErrorString(status).decode()
            first = _first_error(log)
            message = f"NVRTC failed to compile {name} for {opts[0].split('=', 1)[1]} ({what})"
            if first:
                message += f": {first}"
            raise CompileError(message, loc=None, detail=log or f"(empty log; options: {' '.join(opts)})")
        size = ctypes.c_size_t()
        if ptx:
            _check(lib, lib.nvrtcGetPTXSize(prog, ctypes.byref(size)), "nvrtcGetPTXSize")
            buf = ctypes.create_string_buffer(size.value)
            _check(lib, lib.nvrtcGetPTX(prog, buf), "nvrtcGetPTX")
            binary = buf.raw.rstrip(b"\0")
        else:
            _check(lib, lib.nvrtcGetCUBINSize(prog, ctypes.byref(size)), "nvrtcGetCUBINSize")
            buf = ctypes.create_string_buffer(size.value)
            _check(lib, lib.nvrtcGetCUBIN(prog, buf), "nvrtcGetCUBIN")
            binary = buf.raw
        lowered: dict[str, str] = {}
        for expr in name_expressions:
            out = ctypes.c_char_p()
            _check(lib, lib.nvrtcGetLoweredName(prog, expr.encode(), ctypes.byref(out)), "nvrtcGetLoweredName")
            lowered[expr] = (out.value or b"").decode()
        return Compiled(binary, ptx, opts[0].split("=", 1)[1], log, seconds, lowered)
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))


def _log(lib: ctypes.CDLL, prog: ctypes.c_void_p) -> str:
    size = ctypes.c_size_t()
    if lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size)) != 0 or size.value <= 1:
        return ""
    buf = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, buf)
    return buf.value.decode(errors="replace").rstrip()


def compile(
    source: str,
    name: str,
    arch: str,
    options: Sequence[str] = (),
    include_dirs: Sequence[str] = (),
    *,
    ptx: bool = False,
) -> bytes:
    """Compile CUDA C++ `source` to a cubin for `arch` (e.g. "sm_90"), or to PTX when `ptx` (then an `arch`
    newer than this NVRTC knows gives PTX for the newest one it does). Options default to `DEFAULT_OPTIONS`
    (`-std=c++17 -default-device`; no fast math); `include_dirs` become `-I`. Raises CompileError whose
    `detail` is the full NVRTC log, ToolchainNotFound without NVRTC."""
    return compile_program(source, name, arch, options, include_dirs, ptx=ptx).binary
