"""What the MPI examples share: the examples' command line (`--space`, `--threads`) plus PRK's positional
arguments, `kernelkit.mpi.init()` after the space is chosen (so each node-local rank gets its GPU), output
from rank 0 only, PRK's timing (a barrier, then the slowest rank's time) and a verdict every rank agrees on.

Run an example as `mpiexec -n 4 python examples/mpi/stencil.py 10 1000` (or `--iterations 10 --order
1000`); without mpiexec it runs on one rank.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import parser, space_named  # noqa: E402

import kernelkit as pk  # noqa: E402
from kernelkit import mpi as kkmpi  # noqa: E402

__all__ = ["parser", "setup", "say", "verdict", "positional", "Clock", "load_example"]


def positional(p: argparse.ArgumentParser, *names: str) -> None:
    """PRK's positional arguments (`<# iterations> <length>`), each also an option (`--iterations`)."""
    p.add_argument("prk_args", nargs="*", metavar="|".join(n.upper() for n in names), help="PRK's positional form")


def setup(p: argparse.ArgumentParser, positional_names: tuple[str, ...] = (), argv: list[str] | None = None):
    """Parse the command line (positional PRK arguments fill `positional_names`), choose the space, initialize
    kernelkit.mpi, and return `(args, space, comm)`. Rank 0 prints the space, ranks and threads."""
    args = p.parse_args(argv)
    extra = getattr(args, "prk_args", [])
    if len(extra) > len(positional_names):
        p.error(f"at most {len(positional_names)} positional arguments: {' '.join(positional_names)}")
    for name, value in zip(positional_names, extra, strict=False):
        setattr(args, name, type(getattr(args, name))(value) if getattr(args, name) is not None else int(value))
    name = args.space or pk.get_default_space().name.lower()
    space = space_named(name)
    if not space.available():
        p.exit(2, f"{p.prog}: the {name} space is not available here (see `kernelkit info`)\n")
    pk.set_default_space(space)
    comm = kkmpi.init()  # after the space: binds a GPU per node-local rank when it is pk.Cuda
    if args.threads:
        pk.set_num_threads(args.threads)
    space = pk.get_default_space()
    threads = f", {pk.get_num_threads()} threads per rank" if space.backend_name in ("openmp", "cudacheck") else ""
    say(comm, f"{os.path.basename(sys.argv[0])}: space {space.name}, {comm.Get_size()} ranks{threads}")
    return args, space, comm


def say(comm, *lines: str) -> None:
    """Print from rank 0."""
    if comm.Get_rank() == 0:
        print("\n".join(lines), flush=True)


def verdict(comm, ok: bool, detail: str = "") -> None:
    """PASS or FAIL on rank 0 (`ok` must already agree on all ranks); every rank exits 1 on FAIL."""
    ok = bool(kkmpi.allreduce(bool(ok), kkmpi.MPI.LAND, comm))
    say(comm, ("PASS" if ok else "FAIL") + (f": {detail}" if detail else ""))
    if not ok:
        sys.exit(1)


class Clock:
    """PRK's timing: `start()` and `stop()` each fence and barrier; `seconds` is the slowest rank's time. With
    `phases=True` the kernels in between are timed per label too (`pk.profile`), for `phases()`."""

    def __init__(self, comm, phases: bool = False):
        self.comm = comm
        self.seconds = 0.0
        self._profile = contextlib.ExitStack() if phases else None
        self._kernels: dict[str, float] = {}

    def start(self) -> None:
        pk.fence()
        self.comm.Barrier()
        if self._profile is not None:
            self._timer = self._profile.enter_context(pk.profile())
        self._t = kkmpi.MPI.Wtime()

    def stop(self) -> float:
        pk.fence()
        self.comm.Barrier()
        mine = kkmpi.MPI.Wtime() - self._t
        if self._profile is not None:
            self._kernels = {label: s["total"] for label, s in self._timer.summary().items()}
            self._profile.close()
            self._kernels["the rest (MPI, Python)"] = mine - sum(self._kernels.values())
        self.seconds = kkmpi.allreduce(mine, pk.Max, self.comm)
        return self.seconds

    def phases(self, iterations: int) -> list[str]:
        """Per phase (kernel label, then the rest), its time per iteration: the slowest rank's, and the
        fastest's. Call it on every rank."""
        ranks = self.comm.allgather(self._kernels)
        lines = []
        for label in self._kernels:
            times = [r.get(label, 0.0) / iterations for r in ranks]
            lines.append(f"  {label:<28} {max(times) * 1e3:9.3f} ms (fastest rank {min(times) * 1e3:.3f})")
        return ["Phases per iteration (slowest rank):", *lines]


def load_example(relative: str, name: str):
    """Import a single-process example module (examples/<relative>) under another name, to reuse its kernels."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / relative
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
