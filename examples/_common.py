"""What every example shares: command-line parsing (`--space`, `--threads`, sizes), the execution space it
selects, timing, and the PASS/FAIL verdict.

An example builds its parser with `parser(__doc__)`, adds its own size options, and calls `setup(p)`, which
parses the command line, makes the chosen space the default (so Views are allocated in that space's memory:
GPU memory for Cuda) and returns `(args, space)`. It ends with `verdict(ok, detail)`, which prints `PASS` or
`FAIL` and exits with status 1 on FAIL.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import kernelkit as pk

SPACES = {
    "debug": "Debug",
    "serial": "Serial",
    "openmp": "OpenMP",
    "cuda": "Cuda",
    "cudacheck": "CudaCheck",  # no GPU: compile every kernel for CUDA with NVRTC, run on OpenMP (CI)
}


def space_named(name: str):
    """The execution space for a `--space` value."""
    key = name.lower()
    if key == "cudacheck":
        from kernelkit.api.spaces import CudaCheck

        return CudaCheck
    return getattr(pk, SPACES[key])


def default_space_name() -> str:
    return pk.get_default_space().name.lower()


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser whose description is the example's docstring, with --space and --threads already added."""
    p = argparse.ArgumentParser(description=(doc or "").strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--space",
        default=None,
        choices=["debug", "serial", "openmp", "cuda", "cudacheck"],
        help="execution space (default: pk.get_default_space(), i.e. KERNELKIT_SPACE, else cuda when a GPU "
        "is usable, else openmp); debug runs the kernels in the Python interpreter (use small sizes)",
    )
    p.add_argument("--threads", type=int, default=None, help="OpenMP threads (default: OMP_NUM_THREADS or all)")
    return p


def setup(p: argparse.ArgumentParser, argv: list[str] | None = None):
    """Parse the command line, select the execution space (it becomes the default space) and return
    `(args, space)`. Prints one line naming the space."""
    args = p.parse_args(argv)
    name = args.space or default_space_name()
    space = space_named(name)
    if not space.available():
        p.exit(2, f"{p.prog}: the {name} space is not available here (see `kernelkit info`)\n")
    pk.set_default_space(space)
    if args.threads:
        pk.set_num_threads(args.threads)
    threads = f", {pk.get_num_threads()} threads" if name in ("openmp", "cudacheck") else ""
    print(f"{os.path.basename(sys.argv[0])}: space {space.name}{threads}")
    return args, space


class Stopwatch:
    """Wall time of fenced work: `with sw: ...` adds the block's time (fenced at both ends)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0

    def __enter__(self) -> Stopwatch:
        pk.fence()
        self._t = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        pk.fence()
        self.total += time.perf_counter() - self._t
        self.count += 1

    @property
    def mean(self) -> float:
        return self.total / max(self.count, 1)


def close(a: float, b: float, rtol: float = 1e-12, atol: float = 0.0) -> bool:
    """|a - b| <= atol + rtol * |b| (NaN is never close)."""
    return abs(a - b) <= atol + rtol * abs(b)


def verdict(ok: bool, detail: str = "") -> None:
    """Print PASS or FAIL (with `detail`), and exit with status 1 on FAIL."""
    line = ("PASS" if ok else "FAIL") + (f": {detail}" if detail else "")
    print(line, flush=True)
    if not ok:
        sys.exit(1)
