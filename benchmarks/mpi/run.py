"""Strong and weak scaling of the MPI applications, kernelkit next to the same program in mpi4py + NumPy, in
the same run: PRK nstream, stencil and transpose (examples/mpi/ against benchmarks/mpi/numpy_*.py, the PRK
Python MPI versions) and the 2-D heat solver.

Every program is started with `mpiexec -n P` for each P of --ranks, one core per rank (OMP_NUM_THREADS=1:
MPI is the only parallelism, as in the NumPy versions), --repeat times; the time is the smallest "Avg time
(s)" the program printed (the slowest rank's time per iteration). Strong scaling keeps the global size;
weak scaling grows it with P (the vector length by P, grid sides by sqrt(P)). Reported per P: both times,
the speedup of kernelkit over NumPy, and each version's parallel efficiency (strong: T1 / (P TP); weak:
T1 / TP).

    python benchmarks/mpi/run.py --ranks 1 2 --json benchmarks/mpi/results/cpu-2core.json
    python benchmarks/mpi/run.py --ranks 1 2 4 8 16 --repeat 2 --md results.md      # the GPU machine's CPUs
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "mpi"
HERE = Path(__file__).resolve().parent
AVG = re.compile(r"Avg time \(s\):\s*([0-9.eE+-]+)")


TRANSPOSE_ORDER = 2048  # the global order of the transpose on one rank (--transpose-order)


def sizes(app: str, mode: str, ranks: int, quick: bool, order: int = TRANSPOSE_ORDER) -> list[str]:
    """The arguments of both versions of `app` on `ranks` ranks."""
    grow = ranks if mode == "weak" else 1
    side = math.sqrt(grow)
    if app == "nstream":
        base = 1 << (21 if quick else 24)
        return ["10", str(base * grow)]
    if app == "stencil":
        return ["10", str(int((600 if quick else 2000) * side))]
    if app == "transpose":
        order = int((512 if quick else order) * side)
        order -= order % ranks
        return ["10", str(order)]
    if app == "heat":
        return ["--n", str(int((510 if quick else 2046) * side)), "--steps", "50"]
    raise ValueError(app)


PROGRAMS = {
    "nstream": (EXAMPLES / "nstream.py", HERE / "numpy_nstream.py"),
    "stencil": (EXAMPLES / "stencil.py", HERE / "numpy_stencil.py"),
    "transpose": (EXAMPLES / "transpose.py", HERE / "numpy_transpose.py"),
    "heat": (EXAMPLES / "heat.py", HERE / "numpy_heat.py"),
}


def run_once(mpiexec: str, ranks: int, script: Path, args: list[str], space: list[str], timeout: float) -> float:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    cmd = [mpiexec, "-n", str(ranks), sys.executable, str(script), *space, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    m = AVG.search(proc.stdout)
    if proc.returncode != 0 or m is None or "Solution validates" not in proc.stdout:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return float(m.group(1))


def efficiency(mode: str, t1: float, tp: float, p: int) -> float:
    return t1 / (p * tp) if mode == "strong" else t1 / tp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--apps", nargs="+", default=list(PROGRAMS), choices=list(PROGRAMS))
    ap.add_argument("--modes", nargs="+", default=["strong", "weak"], choices=["strong", "weak"])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each program; the fastest counts (default 3)")
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--space", default="openmp", help="kernelkit's --space (default openmp)")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--transpose-order", type=int, default=TRANSPOSE_ORDER, help="the transpose's order on 1 rank")
    ap.add_argument(
        "--transpose-exchange",
        choices=["rounds", "overlap", "shm"],
        default="rounds",
        help="kernelkit's transpose schedule (examples/mpi/transpose.py --exchange); shm runs the NumPy version's "
        "MPI-SHM counterpart too",
    )
    ap.add_argument("--json", default=None)
    ap.add_argument("--md", default=None)
    args = ap.parse_args()
    mpiexec = shutil.which("mpiexec", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if mpiexec is None:
        sys.exit("no mpiexec: pip install 'kernelkit[mpi]'")
    rows = []
    started = time.time()
    for mode in args.modes:
        for app in args.apps:
            base: dict[str, float] = {}
            for p in args.ranks:
                if app == "transpose" and sizes(app, mode, p, args.quick, args.transpose_order)[1] == "0":
                    continue
                t = {}
                for impl, script in zip(("kernelkit", "numpy"), PROGRAMS[app], strict=True):
                    space = ["--space", args.space] if impl == "kernelkit" else []
                    if app == "transpose" and (impl == "kernelkit" or args.transpose_exchange == "shm"):
                        space += ["--exchange", args.transpose_exchange]  # shm: both versions (the same algorithm)
                    a = sizes(app, mode, p, args.quick, args.transpose_order)
                    t[impl] = min(run_once(mpiexec, p, script, a, space, args.timeout) for _ in range(args.repeat))
                    base.setdefault(impl, t[impl])
                row = {
                    "mode": mode,
                    "app": app,
                    "ranks": p,
                    "args": " ".join(sizes(app, mode, p, args.quick, args.transpose_order)),
                    "kernelkit_s": t["kernelkit"],
                    "numpy_s": t["numpy"],
                    "speedup": t["numpy"] / t["kernelkit"],
                    "eff_kernelkit": efficiency(mode, base["kernelkit"], t["kernelkit"], p / args.ranks[0]),
                    "eff_numpy": efficiency(mode, base["numpy"], t["numpy"], p / args.ranks[0]),
                }
                rows.append(row)
                print(
                    f"{mode:6} {app:9} P={p:<3} ({row['args']}): kernelkit {row['kernelkit_s'] * 1e3:9.3f} ms, "
                    f"NumPy {row['numpy_s'] * 1e3:9.3f} ms, speedup {row['speedup']:5.2f}x, efficiency "
                    f"{row['eff_kernelkit']:.2f} vs {row['eff_numpy']:.2f}",
                    flush=True,
                )
    print(f"({time.time() - started:.0f} s)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as f:
            meta = {"ranks": args.ranks, "repeat": args.repeat, "quick": args.quick}
            meta |= {"transpose_order": args.transpose_order, "transpose_exchange": args.transpose_exchange}
            json.dump({**meta, "rows": rows}, f, indent=1)
    if args.md:
        lines = [
            "| mode | app | ranks | size | kernelkit (ms) | NumPy (ms) | speedup | efficiency kernelkit | NumPy |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['mode']} | {r['app']} | {r['ranks']} | {r['args']} | {r['kernelkit_s'] * 1e3:.3f} | "
                f"{r['numpy_s'] * 1e3:.3f} | {r['speedup']:.2f}x | {r['eff_kernelkit']:.2f} | {r['eff_numpy']:.2f} |"
            )
        Path(args.md).parent.mkdir(parents=True, exist_ok=True)
        Path(args.md).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
