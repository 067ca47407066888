"""The hand-written CUDA reference: `csrc/cuda_reference.cu`, compiled with kernelkit's NVRTC in the same run
for the device's architecture with the options kernelkit's kernels get (`hooks.kernel_options`: IEEE, no
contraction of a * b + c, unless KERNELKIT_FAST_MATH; nvcc's default would contract), launched through
kernelkit's driver binding on the same device buffers the kernelkit versions use (`hooks.CudaDevice`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .hooks import CudaDevice, kernel_options, nvrtc_compile

SOURCE = Path(__file__).resolve().parent / "csrc" / "cuda_reference.cu"
BLOCK = 256  # threads per block of the hand-written 1-D kernels (as kernelkit's Range launches)


class Gpu:
    """What the cuda versions of one run share: the device and the compiled reference kernels."""

    def __init__(self) -> None:
        self.device = CudaDevice(0)
        self._module: Any = None
        self.compile_s: float | None = None

    def module(self) -> Any:
        if self._module is None:
            t0 = time.perf_counter()
            cubin = nvrtc_compile(SOURCE.read_text(), SOURCE.name, self.device.arch, kernel_options())
            self.compile_s = time.perf_counter() - t0
            self._module = self.device.load(cubin)
        return self._module

    def function(self, name: str) -> Any:
        return self.module().function(name)

    @property
    def reduction_grid(self) -> int:
        """Blocks of a grid-stride reduction: enough to fill every SM."""
        per_sm = max(self.device.max_threads_per_multiprocessor // BLOCK, 1)
        return self.device.multiprocessors * per_sm

    def synchronize(self) -> None:
        self.device.synchronize()

    def info(self) -> dict[str, Any]:
        out = self.device.info()
        if self.compile_s is not None:
            out["reference_compile_s"] = self.compile_s
        return out
