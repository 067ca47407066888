"""The backend interface, places, and the registry.

A backend is what the launcher (kernelkit.runtime.launcher) and the build (kernelkit.compile.pipeline) call to run a
kernel on one target; it never calls back up. A compiled backend renders a kernel's IR to source, compiles the
source to a binary file, loads that file, wraps the loaded entry point in a native specialization ("spec") that
the C launcher matches against a launch's arguments, and names the C launcher to call (`native`, with the
per-instance `handle`: a place code for host launchers, a CUDA stream for the CUDA one). An interpreted backend
(Debug) `execute`s the IR itself. Each backend runs at one *place*: where the data its kernels read and write must
be current (host memory, a GPU, a logical device). Moving data between places is the coherence layer's job
(kernelkit.runtime.coherence), done with the places' own copy operations.

Spaces name backends; `get(name)` imports one on first use, and an unknown name lists the known ones.
A new target is one subclass of `Backend`, registered here by name: nothing else in kernelkit names targets.
"""

from __future__ import annotations

import ctypes
import importlib
import os
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import numpy as np

from kernelkit import _native
from kernelkit.errors import KernelMemoryError, KernelValueError, SpaceUnavailable, format_bytes
from kernelkit.ir import nodes as N

INCLUDE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")  # the shared C++ headers


class Records(Protocol):
    """Small private records that survive the process (the compile cache provides them): a backend memoizes
    its toolchain's identity there so that a warm start does not load the toolchain."""

    def read(self, name: str) -> dict | None: ...

    def write(self, name: str, data: dict) -> bool: ...  # False: not kept (a memo is recomputed next time)


_records: Callable[[], Records] | None = None  # set by kernelkit.compile.cache: the cache's records


def set_records(provider: Callable[[], Records]) -> None:
    global _records
    _records = provider


def records() -> Records | None:
    """The persistent records (None before kernelkit.compile is imported)."""
    return _records() if _records is not None else None


# --------------------------------------------------------------------------------------------------- places


class Place:
    """Where one copy of a View's data lives. `code` is what the C launchers compare with a View's described copy
    (`KK_PLACE_HOST` = -1 for host memory, a CUDA ordinal for a GPU, 64 + k for logical device k)."""

    code: int = _native.PLACE_HOST
    kind: str = "host"
    device: int = -1  # the CUDA ordinal whose memory holds the copies (-1: host memory)
    host_backed: bool = True
    generation: int = 0  # changes when the place's memory is forgotten wholesale (a driver library replaced)

    def alloc(self, nbytes: int) -> int:
        raise NotImplementedError(f"{self!r} has no buffers of its own")

    def free(self, ptr: int) -> None:
        raise NotImplementedError

    def upload(self, ptr: int, host_address: int, nbytes: int) -> None:
        """Copy `nbytes` of host memory at `host_address` to `ptr` in this place."""
        raise NotImplementedError

    def download(self, host_address: int, ptr: int, nbytes: int) -> None:
        """Copy `nbytes` at `ptr` in this place to host memory at `host_address`."""
        raise NotImplementedError

    def copy_from(self, ptr: int, src: Place, src_ptr: int, nbytes: int) -> str:
        """Copy between two places (this one the destination); returns the path taken: "local" (same memory),
        "peer" (GPU to GPU directly) or "staged" (through host memory)."""
        raise NotImplementedError

    def memset(self, ptr: int, byte: int, nbytes: int) -> None:
        raise NotImplementedError

    def synchronize(self) -> None:
        """Wait until every copy and kernel queued for this place has finished."""

    def __repr__(self) -> str:
        return f"<place {self.kind}:{self.code}>"


class HostPlace(Place):
    """Host memory: a View's own `_array` (never allocated here)."""


HOST = HostPlace()


class HostBackedPlace(Place):
    """A logical device whose copies are separate buffers in host memory (`KERNELKIT_VIRTUAL_GPUS` without a
    GPU): the same coherence and scheduling code runs as for GPUs, and its copies are real copies."""

    kind = "logical"
    host_backed = True

    def __init__(self, code: int):
        self.code = code
        self._buffers: dict[int, np.ndarray] = {}

    def alloc(self, nbytes: int) -> int:
        try:
            buf = np.empty(max(nbytes, 1) + 64, dtype=np.uint8)
        except (MemoryError, ValueError):
            raise KernelMemoryError(
                f"cannot allocate {format_bytes(nbytes)} ({nbytes} bytes) for a copy on logical device "
                f"{self.code - LOGICAL_BASE} (host memory backs it)"
            ) from None
        address = buf.ctypes.data
        ptr = address + (-address % 64)  # the same alignment as View memory
        self._buffers[ptr] = buf
        return ptr

    def free(self, ptr: int) -> None:
        self._buffers.pop(ptr, None)

    def upload(self, ptr: int, host_address: int, nbytes: int) -> None:
        ctypes.memmove(ptr, host_address, nbytes)

    def download(self, host_address: int, ptr: int, nbytes: int) -> None:
        ctypes.memmove(host_address, ptr, nbytes)

    def copy_from(self, ptr: int, src: Place, src_ptr: int, nbytes: int) -> str:
        if src.host_backed:
            ctypes.memmove(ptr, src_ptr, nbytes)
            return "local"
        src.download(ptr, src_ptr, nbytes)
        return "staged"

    def memset(self, ptr: int, byte: int, nbytes: int) -> None:
        ctypes.memset(ptr, byte, nbytes)


LOGICAL_BASE = 64  # place codes of logical devices start here (CUDA ordinals stay below)


# --------------------------------------------------------------------------------------------------- backends


class Backend:
    """One target. Subclasses set the class attributes and implement the methods of their kind."""

    name: ClassVar[str] = ""
    interpreted: ClassVar[bool] = False  # True: `execute` runs the IR; no binaries
    suffix: ClassVar[str] = ".cpp"  # of the generated source (KERNELKIT_DUMP)
    device_memory: ClassVar[bool] = False  # arguments are typed as device arrays (CuPy, PyTorch accepted)
    max_specs: ClassVar[int] = 16  # per workunit and launch kind; ever-new argument types evict the oldest

    place: Place = HOST
    native: Callable[..., Any] = staticmethod(_native.launch)  # the C launcher: (specs, rec, kwargs, handle)
    handle: int = _native.PLACE_HOST
    spec_key: object = ""  # specs are shared between backends with the same key (e.g. a GPU's streams)
    companions: tuple[Backend, ...] = ()  # also built, never loaded, for every kernel (CudaCheck)

    def available(self) -> tuple[bool, str]:
        """(usable here, why not / details)."""
        return True, ""

    def fence(self) -> None:
        """Wait for the work this backend launched."""

    # -- compiled backends -------------------------------------------------------------------------------------

    def codegen_files(self) -> tuple[str, ...]:
        """Source files of this backend's code generator (their text is part of every cache key)."""
        return ()

    def identity(self, records: Records) -> str:
        """The target, toolchain identity and flags: part of the cache key."""
        raise NotImplementedError

    def render(self, kernel: N.Kernel) -> str:
        raise NotImplementedError

    def compile(self, source: str, kernel: N.Kernel, out_path: str) -> None:
        """Compile `source` into the file `out_path` (raises CompileError with the toolchain's log)."""
        raise NotImplementedError

    def load(self, path: str, kernel: N.Kernel) -> Any:
        """Load the binary at `path`; the result is what `make_spec` receives."""
        raise NotImplementedError

    def verify(self, path: str) -> str | None:
        """Why the cached binary at `path` must not be loaded (it would crash the loader), or None. Called
        before `load` on every entry found in the cache; such an entry is rebuilt."""
        return None

    def make_spec(self, kernel: N.Kernel, binary: Any, params: tuple, guards: tuple, rec: Any) -> Any:
        """The native specialization for `native` to match and run."""
        raise NotImplementedError

    def for_launch(self, rec: Any) -> Backend:
        """The backend that builds and makes the spec for a launch described by `rec`: this one, or a variant
        compiled for a property of the launch (CUDA compiles a team kernel for its team shape; its specs reject
        other shapes, so the native launcher needs no help)."""
        return self

    # -- graphs (runtime/graph.py) -------------------------------------------------------------------------------

    def capture_available(self) -> bool:
        """Whether `capture` can record launches into a replayable graph (else a graph replays them in order)."""
        return False

    def capture(self, enqueue: Callable[[int], Any]) -> Any:
        """Record what `enqueue(stream)` queues on a capturing stream (native launches with that stream as their
        handle, `queue_copy`); the instantiated graph, for `replay`. Nothing runs while it records."""
        raise NotImplementedError

    def queue_copy(self, dst: int, src: int, nbytes: int, stream: int) -> None:
        """Queue a copy between two buffers at this backend's place on `stream`."""
        raise NotImplementedError

    def replay(self, graph: Any) -> None:
        """Queue one replay of a graph `capture` made, on this backend's stream."""
        raise NotImplementedError

    # -- interpreted backends ----------------------------------------------------------------------------------

    def execute(self, kernel: N.Kernel, rec: Any, args: dict[str, Any]) -> Any:
        raise NotImplementedError


# name -> "module:Class": backends are imported on first use, so `import kernelkit` stays cheap
_REGISTRY: dict[str, str] = {
    "debug": "kernelkit.backends.debug.backend:DebugBackend",
    "serial": "kernelkit.backends.openmp.backend:SerialBackend",
    "openmp": "kernelkit.backends.openmp.backend:OpenMPBackend",
    "cuda": "kernelkit.backends.cuda.backend:CudaBackend",
    "cudacheck": "kernelkit.backends.cuda.check:CudaCheckBackend",  # NVRTC compile check, runs on OpenMP
}
_instances: dict[str, Backend] = {}


def register(name: str, target: str) -> None:
    """Register a backend class ("package.module:Class") under `name`."""
    _REGISTRY[name] = target
    _instances.pop(name, None)


def names() -> list[str]:
    return list(_REGISTRY)


def get(name: str) -> Backend:
    b = _instances.get(name)
    if b is not None:
        return b
    target = _REGISTRY.get(name)
    if target is None:
        raise KernelValueError(f"unknown execution space {name!r}; known: {', '.join(_REGISTRY)}")
    mod, cls = target.split(":")
    try:
        b = getattr(importlib.import_module(mod), cls)()
    except ImportError as e:
        raise SpaceUnavailable(f"the {name} space is not available in this installation: {e}") from None
    _instances[name] = b
    return b


def loaded() -> list[Backend]:
    """The backends created so far (pk.fence waits for each)."""
    return list(_instances.values())


def space_report() -> list[dict]:
    """Every registered space: name, whether it is usable here, and details (for `kernelkit info`)."""
    out = []
    for name in _REGISTRY:
        try:
            ok, detail = get(name).available()
        except Exception as e:  # a broken optional backend must not break `kernelkit info`
            ok, detail = False, f"{type(e).__name__}: {e}"
        out.append({"name": name, "available": ok, "detail": detail})
    return out


def gpu_place(device: int | None = None) -> Place | None:
    """The place of GPU `device` (the current GPU when None), or None when no GPU is usable. Loads the CUDA
    driver on first call; `import kernelkit` does not."""
    try:
        b = get("cuda")
    except SpaceUnavailable:
        return None
    place_of: Callable[[int | None], Place | None] = getattr(b, "place_of")  # noqa: B009 (the CUDA backend's)
    return place_of(device)  # None without a usable driver
