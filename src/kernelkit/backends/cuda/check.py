"""The CudaCheck space: compile every kernel for CUDA with NVRTC, then run it on OpenMP.

It exists so that a machine without a GPU (CI) proves every generated CUDA kernel compiles: the backend test
suite runs on it like on any other space. The architecture is KERNELKIT_CUDA_CHECK_ARCH, default sm_90.
"""

from __future__ import annotations

import os

from kernelkit.backends.openmp.backend import OpenMPBackend
from kernelkit.runtime.launch import prepare


class CudaCheckBackend(OpenMPBackend):
    name = "cudacheck"

    def __init__(self):
        self.arch = os.environ.get("KERNELKIT_CUDA_CHECK_ARCH", "sm_90")
        self._checked: set[int] = set()

    def available(self) -> tuple[bool, str]:
        from kernelkit.backends.cuda import nvrtc

        ok, detail = super().available()
        if not ok:
            return ok, detail
        if not nvrtc.available():
            return False, "NVRTC not found (pip install nvidia-cuda-nvrtc)"
        return True, f"NVRTC {nvrtc.version()} compile check for {self.arch}, run on OpenMP"

    def launch(self, wu, pattern, lo, hi, tile, kwargs, reducer, init):
        from kernelkit.compile.pipeline import build_cuda

        from kernelkit.api.team import TeamPolicy

        team = lo.__class__ is TeamPolicy
        rank = 0 if team else 1 if lo.__class__ is int else len(lo)
        kernel, _guards, _args = prepare(wu, pattern, rank, kwargs, reducer, init, device=True, team=team)
        if id(kernel) not in self._checked:
            build_cuda(kernel, self.arch)
            self._checked.add(id(kernel))
        return super().launch(wu, pattern, lo, hi, tile, kwargs, reducer, init)
