"""The CUDA backend: NVRTC (`nvrtc`) compiles generated CUDA C++ to cubins, the driver API (`driver`) loads
and launches them. Both load their native libraries lazily, on first use, never at import."""
