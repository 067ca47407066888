"""What a run measures: `Options` (one field per command-line flag) and the names the flags accept."""

from __future__ import annotations

from dataclasses import dataclass

ALL_SPACES = ("openmp", "serial", "cuda")
CPU_SPACES = ("openmp", "serial")
# --only names of the latency set -> the metric each selects
LATENCY_METRICS = {"compile": "cold_compile", "warm": "warm_start", "launch": "launch", "import": "import"}
# --only names of the GPU checks (run in the harness process on the cuda space; see gpu_checks)
GPU_CHECKS = ("transfers", "launch", "graph", "sweep")
SCALING_FRAMEWORKS = ("c-openmp", "kernelkit", "kernelkit-team", "kernelkit-teamvector")


@dataclass
class Options:
    """What `python benchmarks/run.py` runs; every field has a command-line flag of the same name."""

    quick: bool = False
    spaces: tuple[str, ...] = ALL_SPACES
    threads: int | None = None
    only: tuple[str, ...] | None = None
    frameworks: tuple[str, ...] | None = None
    size: int | None = None
    repeats: int | None = None
    json_path: str | None = None
    plot_dir: str | None = None
    markdown_path: str | None = None
    scaling: bool | None = None  # None: in a full run on the CPU, not with --quick
    scaling_threads: tuple[int, ...] | None = None
    profile_warm: bool = False  # also profile the warm start of the first kernel (cProfile, a fresh process)
    latency_samples: int | None = None
    launch_calls: int | None = None
    launch_batches: int | None = None
    quiet: bool = False
    settle_s: float = 0.3  # sleep that lets the previous version's helper threads (OpenBLAS spins ~0.2 s) idle

    def budget_s(self, space: str = "openmp") -> float:
        """Seconds of timed calls per version before it stops repeating (after min_repeats)."""
        if space == "cuda":
            return 0.5 if self.quick else 1.0
        return 0.5 if self.quick else 3.0

    @property
    def n_repeats(self) -> int:
        return self.repeats or (5 if self.quick else 20)

    @property
    def min_repeats(self) -> int:
        return min(self.n_repeats, 3 if self.quick else 5)

    @property
    def n_latency_samples(self) -> int:
        return self.latency_samples or (3 if self.quick else 5)

    @property
    def n_launch_calls(self) -> int:
        return self.launch_calls or 20_000

    @property
    def n_launch_batches(self) -> int:
        return self.launch_batches or (5 if self.quick else 10)

    def selected(self, name: str, tags: tuple[str, ...] = ()) -> bool:
        """Whether a benchmark, latency metric or check of this name (and tags) is in the run."""
        if self.only:
            return name in self.only or any(t in self.only for t in tags)
        return "quick" in tags if self.quick else True

    def framework_selected(self, framework: str) -> bool:
        return self.frameworks is None or framework in self.frameworks


def parse_size(text: str) -> int:
    """'1048576', '2**20', '1<<20' or '1M'-style sizes."""
    t = text.strip().lower().replace("_", "")
    suffix = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    if t and t[-1] in suffix:
        return int(t[:-1]) * suffix[t[-1]]
    if "**" in t:
        base, exp = t.split("**", 1)
        return int(base) ** int(exp)
    if "<<" in t:
        base, shift = t.split("<<", 1)
        return int(base) << int(shift)
    return int(t)
