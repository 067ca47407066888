"""Blocked Cholesky factorization with kernelkit.tasks (Parla's blocked Cholesky).

The matrix is cut into nb x nb tiles held as PArrays; one task per tile operation (POTRF on a diagonal tile,
TRSM below it, SYRK and GEMM updates), with the dependencies of the right-looking algorithm. Each kernel has a
CPU variant (tile_blas.py: SciPy's BLAS/LAPACK called with the GIL released, one BLAS thread per task, so tasks
run in parallel) and a GPU variant (CuPy when a physical GPU and CuPy are there; kernelkit kernels with
--kernels kernelkit; NumPy on logical GPUs backed by the host). Each tile moves to the place of the task that
uses it (a copy per logical GPU, counted in `kernelkit.tasks.stats()`) and back to the host at the end. The
result is checked against numpy.linalg.cholesky.

    python examples/tasks/cholesky.py -n 2000 -b 250                     # CPU tasks
    python examples/tasks/cholesky.py -n 2000 -b 250 --placement gpu --gpus 4   # 4 logical GPUs
    KERNELKIT_TRACE=chol.json python examples/tasks/cholesky.py -n 1000 --placement gpu --gpus 4   # + a trace
    python examples/tasks/cholesky.py -n 1000 -b 250 --placement any --kernels kernelkit
"""

# ruff: noqa: B023 - a spawned body sees the loop variables of its own iteration (spawn copies them, as Parla)
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

# one BLAS thread per task (the tasks are the parallelism): read when NumPy and SciPy load their BLAS
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tile_blas, also when imported from elsewhere

import numpy as np  # noqa: E402
from tile_blas import gemm_tile, potrf_tile, trsm_tile  # noqa: E402  (the CPU tile kernels)

import kernelkit as pk  # noqa: E402
from kernelkit.tasks import (  # noqa: E402
    Parla,
    TaskSpace,
    asarray_batch,
    copy,
    cpu,
    get_current_devices,
    gpu,
    spawn,
    specialize,
    stats,
)

# --- tile kernels: the default (host) implementation and the GPU variants; arguments are PArray tiles -------


@pk.workunit
def _gemm_update(i, j, n, c, a, b):
    s = 0.0
    for k in range(n):
        s += a[i, k] * b[j, k]
    c[i, j] -= s


KERNELS = ["numpy"]  # "kernelkit": the GEMM/SYRK updates run as kernelkit kernels on the task's device


def _cupy_here():
    """CuPy, when the running task is on a physical GPU and CuPy is installed; else None (host-backed GPU)."""
    devs = get_current_devices()
    if not devs or devs[0]().physical is None:
        return None
    try:
        import cupy
    except ImportError:
        return None
    return cupy


@contextlib.contextmanager
def _on_host(*tiles):
    """The tiles' arrays for NumPy/SciPy: as they are on the host (and on logical GPUs backed by it); on a
    physical GPU without CuPy, host copies, the first tile (the one written) uploaded back afterwards."""
    arrays = [t.array for t in tiles]
    hosts = [x if isinstance(x, np.ndarray) else x.get() for x in arrays]
    yield hosts
    if hosts[0] is not arrays[0]:
        arrays[0].set(hosts[0])


@specialize
def potrf(a):
    with _on_host(a) as (x,):
        potrf_tile(x)


@specialize
def trsm(factor, panel):
    with _on_host(panel, factor) as (p, f):
        trsm_tile(f, p)


@specialize
def gemm(c, a, b):
    if KERNELS[0] == "kernelkit":  # on the task's device: OpenMP on the host, the task's stream on a GPU
        n = c.shape[0]
        pk.parallel_for(pk.MDRangePolicy([0, 0], [n, n]), _gemm_update, n=a.shape[1], c=c.view, a=a.view, b=b.view)
    else:
        with _on_host(c, a, b) as (x, y, z):
            gemm_tile(x, y, z)


@potrf.variant(gpu)
def potrf_gpu(a):
    cp = _cupy_here()
    if cp is None:
        return potrf._default(a)
    # a PArray's `.array` in a GPU task is the copy on the task's device: no clone needed
    copy(a.array, cp.linalg.cholesky(a.array))  # the upper triangle becomes 0: tiles are read lower only


@trsm.variant(gpu)
def trsm_gpu(factor, panel):
    cp = _cupy_here()
    if cp is None:
        return trsm._default(factor, panel)
    import cupyx.scipy.linalg as cpx

    f, x = factor.array, panel.array
    copy(x, cpx.solve_triangular(cp.tril(f), x.T, lower=True).T)


@gemm.variant(gpu)
def gemm_gpu(c, a, b):
    cp = _cupy_here()
    if cp is None or KERNELS[0] == "kernelkit":
        return gemm._default(c, a, b)
    x = c.array
    x -= a.array @ b.array.T  # in place, on the device copy the task holds for writing


# --- the task graph ------------------------------------------------------------------------------------------


def cholesky_blocked(tiles: list, placement) -> object:
    """Spawn the factorization of the nb x nb PArray tiles in place; returns the last task."""
    nb = len(tiles)
    syrk = TaskSpace("syrk")
    potrf_t = TaskSpace("potrf")
    gemm_t = TaskSpace("gemm")
    solve = TaskSpace("solve")
    for j in range(nb):
        for k in range(j):

            @spawn(
                syrk[j, k], [solve[j, k], syrk[j, 0:k]], placement=placement, input=[tiles[j][k]], inout=[tiles[j][j]]
            )
            def t_syrk():
                gemm(tiles[j][j], tiles[j][k], tiles[j][k])

        @spawn(potrf_t[j], [syrk[j, 0:j]], placement=placement, inout=[tiles[j][j]])
        def t_potrf():
            potrf(tiles[j][j])

        for i in range(j + 1, nb):
            for k in range(j):

                @spawn(
                    gemm_t[i, j, k],
                    [solve[j, k], solve[i, k], gemm_t[i, j, 0:k]],
                    placement=placement,
                    input=[tiles[i][k], tiles[j][k]],
                    inout=[tiles[i][j]],
                )
                def t_gemm():
                    gemm(tiles[i][j], tiles[i][k], tiles[j][k])

            @spawn(
                solve[i, j],
                [gemm_t[i, j, 0:j], potrf_t[j]],
                placement=placement,
                input=[tiles[j][j]],
                inout=[tiles[i][j]],
            )
            def t_trsm():
                trsm(tiles[j][j], tiles[i][j])

    return potrf_t[nb - 1]


def spd_matrix(n: int, seed: int = 10) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.random((n, n))
    return a @ a.T + n * np.eye(n)


def factor(a: np.ndarray, b: int, placement, workers: int | None, gpus: int | None) -> tuple[np.ndarray, float]:
    """(L, seconds of the task graph) for `a` in b x b tiles."""
    n = a.shape[0]
    nb = n // b
    tiles = asarray_batch(
        [[np.array(a[i * b : (i + 1) * b, j * b : (j + 1) * b]) for j in range(nb)] for i in range(nb)]
    )
    with Parla(n_workers=workers, virtual_gpus=gpus):
        t0 = time.perf_counter()
        last = cholesky_blocked(tiles, placement)
        last.wait()
        t1 = time.perf_counter()
    out = np.zeros_like(a)
    for i in range(nb):
        for j in range(i + 1):
            out[i * b : (i + 1) * b, j * b : (j + 1) * b] = np.asarray(tiles[i][j])
    return np.tril(out), t1 - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("-n", type=int, default=1000, help="matrix size (a multiple of -b)")
    p.add_argument("-b", type=int, default=250, help="tile size")
    p.add_argument("--placement", choices=["cpu", "gpu", "any"], default="cpu")
    p.add_argument(
        "--gpus", type=int, default=None, help="logical GPUs (default: KERNELKIT_VIRTUAL_GPUS or the physical ones)"
    )
    p.add_argument("--workers", type=int, default=None, help="worker threads (default: physical cores)")
    p.add_argument(
        "--space",
        choices=["debug", "serial", "openmp", "cuda", "cudacheck"],
        default=None,
        help="the default execution space: where kernelkit kernels of CPU tasks run (default: "
        "pk.get_default_space()); GPU tasks run theirs on their GPU",
    )
    p.add_argument(
        "--kernels",
        choices=["numpy", "kernelkit"],
        default="numpy",
        help="tile updates with NumPy/SciPy/CuPy, or the GEMM updates as kernelkit kernels",
    )
    args = p.parse_args(argv)
    if args.n % args.b:
        p.error("-n must be a multiple of -b")
    KERNELS[0] = args.kernels
    if args.space:
        from kernelkit.api.spaces import space_from

        pk.set_default_space(space_from(args.space))
    print(f"cholesky.py: space {pk.get_default_space().name} (kernels of CPU tasks)")
    placement = {"cpu": cpu, "gpu": gpu, "any": [gpu, cpu]}[args.placement]
    a = spd_matrix(args.n)
    L, seconds = factor(a, args.b, placement, args.workers, args.gpus)
    ref = np.linalg.cholesky(a)
    err = float(np.max(np.abs(L - ref)) / np.max(np.abs(ref)))
    print(
        f"cholesky n={args.n} b={args.b} placement={args.placement} kernels={args.kernels}: {seconds:.3f} s, "
        f"relative error {err:.2e}"
    )
    moved = stats()
    print(f"copies between places: {moved['copies']} ({moved['copy_bytes']} bytes)")
    ok = err < 1e-10
    print("PASS" if ok else f"FAIL: relative error {err:.2e}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
