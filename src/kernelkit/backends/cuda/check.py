"""The CudaCheck space: compile every kernel for CUDA with NVRTC, then run it on OpenMP.

It exists so that a machine without a GPU (CI) proves every generated CUDA kernel compiles: the backend test
suite runs on it like on any other space. The architecture is KERNELKIT_CUDA_CHECK_ARCH, default sm_90.
"""

from __future__ import annotations

from typing import Any

from kernelkit import _native, config
from kernelkit.backends.cuda.backend import CudaTarget
from kernelkit.backends.openmp.backend import OpenMPBackend


class CudaCheckBackend(OpenMPBackend):
    name = "cudacheck"

    def __init__(self) -> None:
        super().__init__()
        self.arch = config.get().cuda_check_arch
        from kernelkit.backends.cuda.program_host import CudaProgramHost

        # every kernel's CUDA source through NVRTC; a @pk.jit program's host unit for pk.Cuda through g++ too
        self.companions = (CudaTarget(self.arch), CudaProgramHost.instance())

    def available(self) -> tuple[bool, str]:
        from kernelkit.backends.cuda import nvrtc

        ok, detail = super().available()
        if not ok:
            return ok, detail
        if not nvrtc.available():
            return False, "NVRTC not found (pip install nvidia-cuda-nvrtc)"
        return True, f"NVRTC {nvrtc.version()} compile check for {self.arch}, run on OpenMP"

    def for_launch(self, rec: Any) -> CudaCheckBackend:
        """A team launch is compile-checked for the block shape pk.Cuda would give it (and run on OpenMP)."""
        if not rec.is_team:
            return self
        b = CudaCheckBackend.__new__(CudaCheckBackend)
        b.__dict__.update(self.__dict__)
        target = CudaTarget(self.arch)
        target.team_shape = _native.cuda_team_shape(rec)
        b.companions = (target,)
        return b
