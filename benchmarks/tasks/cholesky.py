"""Blocked Cholesky: kernelkit.tasks against Dask (dask.delayed, threaded scheduler, the same tiles and the
same in-place tile kernels, so only the schedulers differ) and one LAPACK call on the whole matrix, in the same
run. The performance contract: within 10% of Dask or faster on the CPU; on a GPU, faster than on the CPU and
than Dask + CuPy where CuPy exists.

Every tile kernel (examples/tasks/tile_blas.py) runs single-threaded BLAS with the GIL released (the tasks are
the parallelism; SciPy's own wrappers would hold the GIL and run one tile at a time); the LAPACK reference uses
as many BLAS threads as there are workers (through threadpoolctl when installed, else one).

    python benchmarks/tasks/cholesky.py [-n 4000] [-b 500] [--workers 2] [--gpu] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from _common import dask_compute, dump, have_dask, interleaved, machine  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "tasks"))
import cholesky as example  # noqa: E402  (examples/tasks/cholesky.py: the task graph and tile kernels)


def tiles_of(a: np.ndarray, b: int) -> list[list[np.ndarray]]:
    nb = a.shape[0] // b
    return [[np.array(a[i * b : (i + 1) * b, j * b : (j + 1) * b]) for j in range(nb)] for i in range(nb)]


def assemble(tiles: list[list[np.ndarray]]) -> np.ndarray:
    return np.tril(np.block([[np.asarray(t) for t in row] for row in tiles]))


def _potrf(x):
    example.potrf_tile(x)
    return x


def _trsm(factor, panel):
    example.trsm_tile(factor, panel)
    return panel


def _update(c, a, b):
    example.gemm_tile(c, a, b)
    return c


def dask_cholesky(a: np.ndarray, b: int, workers: int) -> np.ndarray:
    """The same right-looking algorithm as a dask.delayed graph over the same tiles."""
    from dask import delayed

    t = [[delayed(x) for x in row] for row in tiles_of(a, b)]
    nb = len(t)
    for j in range(nb):
        for k in range(j):
            t[j][j] = delayed(_update)(t[j][j], t[j][k], t[j][k])
        t[j][j] = delayed(_potrf)(t[j][j])
        for i in range(j + 1, nb):
            for k in range(j):
                t[i][j] = delayed(_update)(t[i][j], t[i][k], t[j][k])
            t[i][j] = delayed(_trsm)(t[j][j], t[i][j])
    lower = [[t[i][j] if j <= i else np.zeros((b, b)) for j in range(nb)] for i in range(nb)]
    return assemble(dask_compute(lower, workers))


def dask_cupy_cholesky(a: np.ndarray, b: int, workers: int) -> np.ndarray:
    import cupy as cp
    import cupyx.scipy.linalg as cpx
    from dask import delayed

    def potrf(x):
        return cp.linalg.cholesky(x)

    def trsm(f, p):
        return cpx.solve_triangular(f, p.T, lower=True).T

    def update(c, x, y):
        return c - x @ y.T

    t = [[delayed(cp.asarray)(x) for x in row] for row in tiles_of(a, b)]
    nb = len(t)
    for j in range(nb):
        for k in range(j):
            t[j][j] = delayed(update)(t[j][j], t[j][k], t[j][k])
        t[j][j] = delayed(potrf)(t[j][j])
        for i in range(j + 1, nb):
            for k in range(j):
                t[i][j] = delayed(update)(t[i][j], t[i][k], t[j][k])
            t[i][j] = delayed(trsm)(t[j][j], t[i][j])
    out = dask_compute([[t[i][j] for j in range(i + 1)] for i in range(nb)], workers)
    cp.cuda.Device().synchronize()
    full = [[cp.asnumpy(out[i][j]) if j <= i else np.zeros((b, b)) for j in range(nb)] for i in range(nb)]
    return assemble(full)


def warm_gpu_libraries(b: int) -> None:
    """CuPy's first cholesky, triangular solve and matmul of a process create the cuSOLVER and cuBLAS handles
    and compile CuPy's kernels (hundreds of milliseconds): done once before any timing, so that neither GPU
    contender (kernelkit.tasks and Dask both compute tiles with CuPy) pays them in its first round."""
    try:
        import cupy as cp
        import cupyx.scipy.linalg as cpx
    except ImportError:
        return
    x = cp.asarray(example.spd_matrix(b))
    f = cp.linalg.cholesky(x)
    y = cpx.solve_triangular(cp.tril(f), x.T, lower=True).T
    x -= y @ f.T
    _ = x - y @ f.T
    cp.asnumpy(x)
    cp.cuda.Device().synchronize()


def lapack(a: np.ndarray, workers: int) -> np.ndarray:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return np.linalg.cholesky(a)
    with threadpool_limits(workers):
        return np.linalg.cholesky(a)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=4000)
    p.add_argument("-b", type=int, default=500)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--gpu", action="store_true", help="also GPU tasks (CuPy) and Dask + CuPy")
    p.add_argument("--gpus", type=int, default=None, help="logical GPUs for --gpu (default: the physical ones)")
    p.add_argument(
        "--logical-gpus",
        type=int,
        default=0,
        help="also GPU placement on this many logical GPUs (backed by the host without a GPU: real copies of the "
        "tiles between separate buffers, so this measures the data movement)",
    )
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    n, b, w = args.n, args.b, args.workers
    a = example.spd_matrix(n)
    ref = np.linalg.cholesky(a)
    report = {"benchmark": "blocked cholesky", "n": n, "b": b, "workers": w, "machine": machine(), "results": {}}

    def check(name: str, L: np.ndarray) -> None:
        err = float(np.max(np.abs(L - ref)) / np.max(np.abs(ref)))
        if err > 1e-8:
            raise SystemExit(f"{name}: wrong factor (relative error {err:.1e})")

    runs = {
        "kernelkit.tasks cpu": lambda: example.factor(a, b, example.cpu, w, None),
        "lapack (one call)": lambda: (lapack(a, w), 0.0),
    }
    if have_dask():
        runs["dask threads cpu"] = lambda: (dask_cholesky(a, b, w), 0.0)
    if args.logical_gpus:
        runs[f"kernelkit.tasks {args.logical_gpus} lgpus"] = lambda: example.factor(
            a, b, example.gpu, w, args.logical_gpus
        )
    if args.gpu:
        runs["kernelkit.tasks gpu"] = lambda: example.factor(a, b, example.gpu, w, args.gpus)
        try:
            import cupy  # noqa: F401

            if have_dask():
                runs["dask threads + cupy"] = lambda: (dask_cupy_cholesky(a, b, w), 0.0)
        except ImportError:
            print("CuPy is not installed: no Dask + CuPy run, and GPU tasks compute with NumPy")
    nb = n // b
    n_tasks = nb + nb * (nb - 1) + nb * (nb - 1) * (nb - 2) // 6
    print(f"cholesky n={n} b={b} ({n_tasks} tile tasks), {w} workers, best of {args.repeats}")
    flops = n**3 / 3
    factors: dict[str, np.ndarray] = {}

    def keep(name, fn):
        def run():
            factors[name] = fn()[0]

        return run

    from kernelkit.tasks import reset_stats, stats

    copies: dict[str, list[int]] = {}

    def counted(name, fn):
        def run():
            reset_stats()
            fn()
            s = stats()
            copies[name] = [s["copies"], s["copy_bytes"]]

        return run

    if args.gpu:
        warm_gpu_libraries(b)
    results = interleaved({name: counted(name, keep(name, fn)) for name, fn in runs.items()}, args.repeats)
    for name, m in results.items():
        check(name, factors[name])
        m["gflops"] = flops / m["wall_s"] / 1e9
        m["copies"], m["copy_bytes"] = copies.get(name, [0, 0])
        report["results"][name] = m
        moved = f"  {m['copies']} copies, {m['copy_bytes'] / 1e6:.1f} MB" if m["copies"] else ""
        print(
            f"  {name:22s} {m['wall_s'] * 1e3:9.1f} ms  {m['gflops']:6.1f} GFLOP/s  (median {m['median_s'] * 1e3:.1f})"
            + moved
        )
    r = report["results"]
    if "dask threads cpu" in r:
        ratio = r["dask threads cpu"]["wall_s"] / r["kernelkit.tasks cpu"]["wall_s"]
        report["dask_over_kernelkit_cpu"] = ratio
        print(f"  Dask / kernelkit.tasks (cpu): {ratio:.2f}x")
    dump(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
