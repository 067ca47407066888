"""`kernelkit bench`: kernelkit against hand-written C/OpenMP, NumPy and Numba, validated, in one run.

    from kernelkit.bench import Options, run
    report = run(Options(quick=True, json_path="bench.json"))

See `core` for the model (Benchmark, Version), `cpu` for the CPU set, `latency` for compile/launch/import.
"""

from .core import Benchmark, Latency, Result, Skip, Version
from .harness import Options, Report, run

__all__ = ["Benchmark", "Latency", "Options", "Report", "Result", "Skip", "Version", "run"]
