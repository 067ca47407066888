"""examples/mpi/heat.py written with mpi4py + NumPy (the comparison point of the heat benchmarks): the same
decomposition, steps and validation; halos packed into contiguous buffers and moved with Sendrecv by hand.

    mpiexec -n 4 python benchmarks/mpi/numpy_heat.py --n 2046 --steps 100
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
from mpi4py import MPI


def block(n: int, p: int, c: int) -> tuple[int, int]:
    base, extra = divmod(n, p)
    return c * base + min(c, extra), base + (1 if c < extra else 0)


def exchange(comm, u: np.ndarray, bufs: dict) -> None:
    down, up = comm.Shift(0, 1)
    left, right = comm.Shift(1, 1)
    ci, cj = u.shape[0] - 2, u.shape[1] - 2
    for name, src, dst, other, tag, halo in (
        ("up", (slice(ci, ci + 1), slice(None)), up, down, 0, (slice(0, 1), slice(None))),
        ("down", (slice(1, 2), slice(None)), down, up, 1, (slice(ci + 1, ci + 2), slice(None))),
        ("right", (slice(None), slice(cj, cj + 1)), right, left, 2, (slice(None), slice(0, 1))),
        ("left", (slice(None), slice(1, 2)), left, right, 3, (slice(None), slice(cj + 1, cj + 2))),
    ):
        send, recv = bufs[name]
        send[...] = u[src]
        comm.Sendrecv(send, dst, tag, recv, other, tag)
        if other != MPI.PROC_NULL:
            u[halo] = recv


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=1022)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--r", type=float, default=0.2)
    args = p.parse_args()
    world = MPI.COMM_WORLD
    dims = MPI.Compute_dims(world.Get_size(), [0, 0])
    comm = world.Create_cart(dims)
    points = args.n + 2
    last = points - 1
    h = 1.0 / last
    (si, ci), (sj, cj) = (block(points, d, c) for d, c in zip(dims, comm.Get_coords(comm.Get_rank()), strict=True))
    gi = np.arange(si - 1, si + ci + 1)[:, None]
    gj = np.arange(sj - 1, sj + cj + 1)[None, :]
    inside = (gi > 0) & (gj > 0) & (gi < last) & (gj < last)
    u = np.where(inside, np.sin(math.pi * gi * h) * np.sin(math.pi * gj * h), 0.0)
    unew = u.copy()
    lo = [max(1, s) - s + 1 for s in (si, sj)]
    hi = [max(min(last, s + c) - s + 1, a) for s, c, a in ((si, ci, lo[0]), (sj, cj, lo[1]))]
    (i0, j0), (i1, j1) = lo, hi
    bufs = {k: (np.empty((1, cj + 2)), np.empty((1, cj + 2))) for k in ("up", "down")}
    bufs.update({k: (np.empty((ci + 2, 1)), np.empty((ci + 2, 1))) for k in ("left", "right")})
    r = args.r
    for step in range(args.steps):
        if step == 1:
            comm.Barrier()
            t0 = MPI.Wtime()
        exchange(comm, u, bufs)
        c = u[i0:i1, j0:j1]
        unew[i0:i1, j0:j1] = c + r * (
            u[i0 - 1 : i1 - 1, j0:j1]
            + u[i0 + 1 : i1 + 1, j0:j1]
            + u[i0:i1, j0 - 1 : j1 - 1]
            + u[i0:i1, j0 + 1 : j1 + 1]
            - 4.0 * c
        )
        u, unew = unew, u
    comm.Barrier()
    seconds = comm.allreduce(MPI.Wtime() - t0, op=MPI.MAX)
    factor = (1.0 - 8.0 * r * math.sin(math.pi * h / 2.0) ** 2) ** args.steps
    exact = factor * np.sin(math.pi * gi * h) * np.sin(math.pi * gj * h)
    err = comm.allreduce(float(np.max(np.abs(u[1:-1, 1:-1] - exact[1:-1, 1:-1]))), op=MPI.MAX)
    if not err / factor < 1e-10:
        if comm.Get_rank() == 0:
            print(f"FAIL: max error {err / factor:.2e}")
        sys.exit(1)
    if comm.Get_rank() == 0:
        print("Solution validates")
        print(f"Avg time (s): {seconds / (args.steps - 1):.6g}")


if __name__ == "__main__":
    main()
