"""Zero-copy exchange with other array libraries: DLPack capsules and the CUDA Array Interface.

`foreign(obj)` describes another library's GPU array (CuPy, PyTorch, Numba, JAX) without copying it;
`dlpack.capsule(...)` exports kernelkit device memory. Coherence (which copy of a View is current) is not here:
that is kernelkit.runtime.coherence.
"""

from kernelkit.interop.foreign import (
    KDL_CPU,
    KDL_CUDA,
    KDL_CUDA_MANAGED,
    Foreign,
    dlpack_device,
    foreign,
    is_gpu_array,
)

__all__ = ["Foreign", "foreign", "dlpack_device", "is_gpu_array", "KDL_CPU", "KDL_CUDA", "KDL_CUDA_MANAGED"]
