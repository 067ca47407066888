"""`Context`: what the versions of a run share — options, thread counts, spaces, the compiled references, the
peers (NumPy, Numba, Warp, CuPy), each made once, on first use."""

from __future__ import annotations

from typing import Any

from . import hooks
from .core import Skip
from .options import ALL_SPACES, Options

SPACE_NAMES = {"openmp": "OpenMP", "serial": "Serial", "cuda": "Cuda", "debug": "Debug"}


def quiet_warp(wp: Any) -> None:
    """No banner and no per-module load lines from Warp (the setting moved between Warp versions)."""
    wp.config.quiet = True
    wp.config.log_level = 30  # logging.WARNING


class Context:
    """What versions need from the run: spaces, thread counts, the compiled references, the peers."""

    def __init__(self, options: Options):
        self.options = options
        self.notes: list[str] = []
        self._pk: Any = None
        self._spaces: dict[str, tuple[bool, str]] | None = None
        self._c: Any = None
        self._c_error: Exception | None = None
        self._numba: Any = None
        self._warp: Any = None
        self._cupy: Any = None
        self._gpu: Any = None
        self._gpu_error: Exception | None = None
        self._warp_arrays: dict[tuple[int, str], Any] = {}
        self.threads = options.threads or int(self.kernelkit().get_num_threads())

    # -- kernelkit -----------------------------------------------------------------------------------------

    def kernelkit(self) -> Any:
        if self._pk is None:
            import kernelkit as pk

            self._pk = pk
        return self._pk

    def space_status(self, space: str) -> tuple[bool, str]:
        """(available, detail) from kernelkit's space report."""
        if self._spaces is None:
            try:
                self._spaces = hooks.space_status()
            except ImportError as e:
                self._spaces = {s: (False, f"kernelkit backends unavailable: {e}") for s in ALL_SPACES}
        return self._spaces.get(space, (False, "unknown space"))

    def kernelkit_space(self, space: str) -> Any:
        """The execution space object, with the run's thread count set for OpenMP."""
        pk = self.kernelkit()
        available, detail = self.space_status(space)
        if not available:
            raise Skip(f"{space} space not available" + (f": {detail}" if detail else ""))
        if space == "openmp":
            pk.set_num_threads(self.threads)
        return getattr(pk, SPACE_NAMES[space])

    def threads_for(self, space: str) -> int | None:
        return None if space == "cuda" else 1 if space == "serial" else self.threads

    # -- the hand-written references and the peers ---------------------------------------------------------

    def c_reference(self) -> Any:
        """The compiled C/OpenMP reference (`creference.CReference`); a failed build is raised again on every
        C version, and the rest of the run goes on."""
        if self._c is None and self._c_error is None:
            from .creference import compile_reference

            try:
                self._c = compile_reference()
            except Exception as e:  # kept and re-raised below, for every version that needs it
                self._c_error = e
        if self._c_error is not None:
            raise self._c_error
        return self._c

    def gpu(self) -> Any:
        """The GPU of the run (`cudareference.Gpu`): device, compiled CUDA reference."""
        if self._gpu is None and self._gpu_error is None:
            from .cudareference import Gpu

            try:
                self._gpu = Gpu()
            except Exception as e:  # kept and re-raised below, for every version that needs it
                self._gpu_error = e
        if self._gpu_error is not None:
            raise self._gpu_error
        return self._gpu

    def compiler_info(self) -> dict[str, Any] | None:
        if self._c is not None:
            info = self._c.compiler.as_dict()
            info["reference_compile_s"] = self._c.compile_s
            return info
        found = hooks.host_compiler()
        return None if found is None else found.as_dict()

    def gpu_info(self) -> dict[str, Any] | None:
        return self._gpu.info() if self._gpu is not None else None

    def numba(self) -> Any:
        if self._numba is None:
            try:
                import numba
            except ImportError as e:
                raise Skip("numba not installed (pip install numba)") from e
            most = int(getattr(numba.config, "NUMBA_NUM_THREADS", self.threads))
            if self.threads > most:
                raise Skip(f"numba was started with {most} threads (NUMBA_NUM_THREADS)")
            self._numba = numba
        return self._numba

    def warp(self) -> tuple[Any, Any]:
        """(warp, kkbench.warp_kernels), initialized once; Skip when warp-lang is not installed."""
        if self._warp is None:
            try:
                import warp as wp
            except ImportError as e:
                raise Skip("warp not installed (pip install warp-lang)") from e
            quiet_warp(wp)
            wp.init()
            from . import warp_kernels

            self._warp = (wp, warp_kernels)
        return self._warp

    def warp_array(self, x: Any, device: str) -> Any:
        """A Warp array over a NumPy array's memory (no copy), one per array and device."""
        key = (id(x), device)
        arr = self._warp_arrays.get(key)
        if arr is None or arr[0] is not x:
            wp, _ = self.warp()
            dtype = wp.int64 if x.dtype.kind == "i" else wp.float64
            arr = (x, wp.array(x, dtype=dtype, device=device, copy=False))
            self._warp_arrays[key] = arr
        return arr[1]

    def cupy(self) -> Any:
        if self._cupy is None:
            try:
                import cupy
            except ImportError as e:
                raise Skip("cupy not installed (pip install cupy-cuda12x)") from e
            self._cupy = cupy
        return self._cupy

    def forget_arrays(self) -> None:
        self._warp_arrays.clear()

    def close(self) -> None:
        if self._c is not None:
            self._c.close()
