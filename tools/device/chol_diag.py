"""Where the GPU blocked Cholesky's time goes, kernelkit.tasks against Dask + CuPy (issue 11's last figure).

Each contender's call is cut into its phases (tiles made, the task graph, the factor brought back and
assembled), at several worker counts, best of --repeats; one kernelkit run also writes a task trace. Prints one
table and writes --json.

    python tools/device/chol_diag.py -n 8000 -b 1000 --workers 4,16 --repeats 3 --json out.json --trace t.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "tasks"))
import importlib.util  # noqa: E402

import numpy as np  # noqa: E402
from _common import dask_compute  # noqa: E402

# benchmarks/tasks/cholesky.py imports the example as `cholesky`: loaded here under another name
_spec = importlib.util.spec_from_file_location("cholesky_bench", ROOT / "benchmarks" / "tasks" / "cholesky.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

ex = bench.example


def kk_phases(a: np.ndarray, b: int, workers: int, trace: str | None) -> dict[str, float]:
    from kernelkit.tasks import Parla, asarray_batch

    n = a.shape[0]
    nb = n // b
    t = {"start": time.perf_counter()}
    tiles = asarray_batch(
        [[np.array(a[i * b : (i + 1) * b, j * b : (j + 1) * b]) for j in range(nb)] for i in range(nb)]
    )
    t["tiles"] = time.perf_counter()
    ctx = Parla(n_workers=workers, trace=trace) if trace else Parla(n_workers=workers)
    with ctx:
        t["enter"] = time.perf_counter()
        last = ex.cholesky_blocked(tiles, ex.gpu)
        t["spawned"] = time.perf_counter()
        last.wait()
        t["graph"] = time.perf_counter()
    t["exit"] = time.perf_counter()
    out = np.zeros_like(a)
    for i in range(nb):
        for j in range(i + 1):
            out[i * b : (i + 1) * b, j * b : (j + 1) * b] = np.asarray(tiles[i][j])
    t["back"] = time.perf_counter()
    np.tril(out)
    t["assembled"] = time.perf_counter()
    return _durations(t)


def dask_phases(a: np.ndarray, b: int, workers: int) -> dict[str, float]:
    import cupy as cp
    import cupyx.scipy.linalg as cpx
    from dask import delayed

    t = {"start": time.perf_counter()}
    host = bench.tiles_of(a, b)
    t["tiles"] = time.perf_counter()
    tl = [[delayed(cp.asarray)(x) for x in row] for row in host]
    nb = len(tl)

    def potrf(x):
        return cp.linalg.cholesky(x)

    def trsm(f, p):
        return cpx.solve_triangular(f, p.T, lower=True).T

    def update(c, x, y):
        return c - x @ y.T

    for j in range(nb):
        for k in range(j):
            tl[j][j] = delayed(update)(tl[j][j], tl[j][k], tl[j][k])
        tl[j][j] = delayed(potrf)(tl[j][j])
        for i in range(j + 1, nb):
            for k in range(j):
                tl[i][j] = delayed(update)(tl[i][j], tl[i][k], tl[j][k])
            tl[i][j] = delayed(trsm)(tl[j][j], tl[i][j])
    t["enter"] = t["spawned"] = time.perf_counter()
    out = dask_compute([[tl[i][j] for j in range(i + 1)] for i in range(nb)], workers)
    cp.cuda.Device().synchronize()
    t["graph"] = t["exit"] = time.perf_counter()
    full = [[cp.asnumpy(out[i][j]) if j <= i else np.zeros((b, b)) for j in range(nb)] for i in range(nb)]
    t["back"] = time.perf_counter()
    bench.assemble(full)
    t["assembled"] = time.perf_counter()
    return _durations(t)


def _durations(t: dict[str, float]) -> dict[str, float]:
    keys = list(t)
    d = {k: (t[k] - t[p]) * 1e3 for p, k in zip(keys, keys[1:], strict=False)}
    d["total"] = (t[keys[-1]] - t[keys[0]]) * 1e3
    return d


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("-n", type=int, default=8000)
    p.add_argument("-b", type=int, default=1000)
    p.add_argument("--workers", default="4,16")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", default=None)
    p.add_argument("--trace", default=None)
    args = p.parse_args()
    a = ex.spd_matrix(args.n)
    bench.warm_gpu_libraries(args.b)
    rows = {}
    for w in (int(x) for x in args.workers.split(",")):
        for name, fn in (
            ("kernelkit", lambda w=w: kk_phases(a, args.b, w, None)),
            ("dask+cupy", lambda w=w: dask_phases(a, args.b, w)),
        ):
            runs = [fn() for _ in range(args.repeats)]
            best = min(runs, key=lambda r: r["total"])
            rows[f"{name} w={w}"] = best
            print(f"{name:10s} w={w:2d} " + "  ".join(f"{k} {v:7.1f}" for k, v in best.items()), flush=True)
    if args.trace:
        w = int(args.workers.split(",")[-1])
        r = kk_phases(a, args.b, w, args.trace)
        print("traced     " + "  ".join(f"{k} {v:7.1f}" for k, v in r.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
