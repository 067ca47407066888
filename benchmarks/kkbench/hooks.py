"""The one module where the benchmarks reach into kernelkit beyond `import kernelkit as pk`.

Every kernelkit version is written and timed through the public API. The harness needs a few things more:
which spaces are usable here and why not (for the report); the compiler and flags of kernelkit's OpenMP
space (so the hand-written C is built the same way); NVRTC and the CUDA driver binding (to build and launch
the hand-written CUDA on the same device buffers); the host<->device transfer counters; the CudaCheck space
(NVRTC compiles, OpenMP runs: CI checks the GPU set's kernels without a GPU). Each is one name below, so a
refactor of kernelkit's internals changes this file and nothing else in benchmarks/.

Device addresses of Views come from the public `__cuda_array_interface__` (see `device_pointer`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# ---- spaces ------------------------------------------------------------------------------------------------


def space_status() -> dict[str, tuple[bool, str]]:
    """Every space kernelkit knows: name -> (usable here, why not / details)."""
    from kernelkit.backends.base import space_report

    return {
        str(entry["name"]).lower(): (bool(entry["available"]), str(entry.get("detail", ""))) for entry in space_report()
    }


def cuda_check_space() -> Any:
    """The CudaCheck space: kernels are compiled for CUDA with NVRTC (and checked), then run on OpenMP."""
    from kernelkit.api.spaces import CudaCheck

    return CudaCheck


# The module of kernelkit's compiler pipeline: the import-time probe reports whether `import kernelkit` loaded it.
COMPILER_MODULE = "kernelkit.compile.pipeline"


# ---- the host compiler -------------------------------------------------------------------------------------


@dataclass
class HostCompiler:
    """The C++ compiler of kernelkit's OpenMP space and the flags it passes (C++-only flags left out)."""

    path: str
    version: str
    flags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "version": self.version, "flags": list(self.flags)}


# Flags of kernelkit's C++ command that mean nothing to (or only warn in) a C compile.
_CXX_ONLY = ("-std=", "-fno-rtti", "-fno-exceptions", "-I")


def host_compiler() -> HostCompiler | None:
    """kernelkit's OpenMP compiler and flags, or None when there is no C++ compiler."""
    from kernelkit.backends.openmp import toolchain

    found = toolchain.find_cxx()
    if found is None:
        return None
    flags = [f for f in found.flags("openmp") if not f.startswith(_CXX_ONLY)]
    return HostCompiler(path=str(found.path), version=str(found.version or "unknown"), flags=flags)


# ---- host<->device transfers -------------------------------------------------------------------------------


def reset_transfer_counts() -> None:
    from kernelkit.runtime import coherence as memory

    memory.reset_stats()


def transfer_counts() -> dict[str, int]:
    """Copies kernelkit made since `reset_transfer_counts`: `h2d`, `d2h`, `d2d` and their `*_bytes`."""
    from kernelkit.runtime import coherence as memory

    return dict(memory.stats())


def device_pointer(view: Any) -> int:
    """The device address of a CudaSpace View's element 0 (public API: the View is device-current after
    this and kernelkit treats its device copy as written, which is what the GPU set needs)."""
    return int(view.__cuda_array_interface__["data"][0])


# ---- NVRTC and the CUDA driver -----------------------------------------------------------------------------


def nvrtc_available() -> bool:
    from kernelkit.backends.cuda import nvrtc

    return bool(nvrtc.available())


def nvrtc_compile(source: str, name: str, arch: str, options: tuple[str, ...] = ()) -> bytes:
    """A cubin of CUDA C++ `source` for `arch` ("sm_90"), with kernelkit's NVRTC (its default options, then
    `options`)."""
    from kernelkit.backends.cuda import nvrtc

    return nvrtc.compile(source, name, arch, options=options)


def kernel_options() -> tuple[str, ...]:
    """The NVRTC options kernelkit compiles a kernel of this process with: IEEE (no contraction of a * b + c)
    unless KERNELKIT_FAST_MATH asks for fast math. Hand-written references compile with the same."""
    from kernelkit import config
    from kernelkit.backends.cuda.backend import FAST_OPTIONS, IEEE_OPTIONS

    return FAST_OPTIONS if config.get().fast_math else IEEE_OPTIONS


class CudaDevice:
    """GPU 0 through kernelkit's CUDA driver binding: modules, launches, memory, synchronization.

    `launch(kernel, grid, block, args)` queues a kernel on the default stream; `args` are ctypes objects in
    the kernel's parameter order (`ctypes.c_void_p(ptr)`, `ctypes.c_double(x)`, `ctypes.c_int64(n)`)."""

    def __init__(self, ordinal: int = 0) -> None:
        from kernelkit.backends.cuda import driver

        self._driver = driver
        self._dev = driver.Device(ordinal)
        self._dev.set_current()
        self._launch = driver.launch
        self.arch: str = self._dev.arch
        self.name: str = self._dev.name
        self.multiprocessors: int = self._dev.multiprocessor_count
        self.max_threads_per_multiprocessor: int = self._dev.max_threads_per_multiprocessor

    def load(self, cubin: bytes) -> Any:
        """A loaded module; `module.function(name)` gives a kernel for `launch`."""
        return self._driver.Module.from_cubin(cubin, self._dev)

    def launch(
        self, kernel: Any, grid: Any, block: Any, args: list[Any], shared_bytes: int = 0, stream: int | None = None
    ) -> None:
        self._launch(kernel, grid, block, shared_bytes, stream, args)

    def capture(self, enqueue: Any) -> Any:
        """Record what `enqueue(stream)` queues (launches, `copy_async`) as a CUDA graph on a new stream; a
        no-argument callable that replays it there."""
        driver = self._driver
        stream = driver.Stream(self._dev)
        driver.begin_capture(stream.handle)
        try:
            enqueue(stream.handle)
        except BaseException:
            driver.end_capture(stream.handle)
            raise
        graph = driver.end_capture(stream.handle)
        replay = graph.instantiate()
        keep = (stream, graph)
        return lambda: replay.launch(keep[0].handle)

    def copy_async(self, dst: int, src: int, nbytes: int, stream: int) -> None:
        self._driver.memcpy_dtod_async(dst, src, nbytes, stream)

    def launcher(self, kernel: Any, grid: Any, block: Any, args: list[Any]) -> Any:
        """A no-argument callable that queues one launch, with nothing between it and the driver binding's
        launch (the floor of the in-process launch-overhead check)."""
        launch = self._launch
        return lambda: launch(kernel, grid, block, 0, None, args)

    def alloc(self, nbytes: int) -> int:
        return int(self._driver.alloc(nbytes))

    def free(self, ptr: int) -> None:
        self._driver.free(ptr)

    def memset(self, ptr: int, byte: int, nbytes: int) -> None:
        self._driver.memset_d8(ptr, byte, nbytes)

    def download(self, out: np.ndarray, ptr: int) -> None:
        """Device -> `out` (all of it): a synchronous copy on the default stream, so after what is queued
        there (work on other streams: `synchronize` first)."""
        self._driver.memcpy_dtoh(out, ptr, out.nbytes)

    def upload(self, ptr: int, array: np.ndarray) -> None:
        self._driver.memcpy_htod(ptr, array, array.nbytes)
        self._dev.synchronize()

    def copy(self, dst: int, src: int, nbytes: int) -> None:
        """cuMemcpyDtoD: the driver's own copy (the bandwidth ceiling)."""
        self._driver.memcpy_dtod(dst, src, nbytes)

    def synchronize(self) -> None:
        self._dev.synchronize()

    def info(self) -> dict[str, Any]:
        d = self._dev
        out: dict[str, Any] = {
            "name": d.name,
            "arch": d.arch,
            "multiprocessors": d.multiprocessor_count,
            "memory_gib": round(d.total_memory / 2**30, 1),
            "l2_cache_mib": round(d.l2_cache_size / 2**20, 1),
            "pci_bus_id": d.pci_bus_id,
            "driver": ".".join(map(str, self._driver.driver_version())),
        }
        from kernelkit.backends.cuda import nvrtc

        if nvrtc.available():
            out["nvrtc"] = ".".join(map(str, nvrtc.version()))
        return out
