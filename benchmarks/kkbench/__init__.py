"""kernelkit's benchmark harness: kernelkit against hand-written C/OpenMP and CUDA, NumPy, Numba, Warp and
CuPy, every version validated against NumPy, in one run (`python benchmarks/run.py`, README.md beside it).

    import sys; sys.path.insert(0, "benchmarks")
    from kkbench import Options, run
    report = run(Options(quick=True, json_path="bench.json"))

`core` is the model (Benchmark, Version, Result), `problems` the data and NumPy's answers, `cpu` and `gpu`
the versions per space, `latency` and `gpu_checks` what is not a rate, `hooks` the one place that reaches
into kernelkit beyond its public API.
"""

from .cli import main
from .core import Benchmark, Check, Latency, Result, Skip, Version
from .harness import Report, run
from .options import Options

__all__ = ["Benchmark", "Check", "Latency", "Options", "Report", "Result", "Skip", "Version", "main", "run"]
