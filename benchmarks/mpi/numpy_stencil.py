"""The PRK's Python MPI stencil (mpi4py + NumPy): star of radius R on a 2-D grid of ranks, the comparison
point of examples/mpi/stencil.py. PRK/PYTHON/stencil-numpy-mpi.py's decomposition, halo protocol and
validation, with its per-element Python loops replaced by NumPy slices (the sweep as stencil-numpy.py writes
it, halos packed into contiguous buffers and moved with Sendrecv), so that the comparison is with good NumPy.

    mpiexec -n 4 python benchmarks/mpi/numpy_stencil.py <# iterations> <grid size> [star <radius>]
"""

from __future__ import annotations

import sys

import numpy as np
from mpi4py import MPI


def block(n: int, p: int, c: int) -> tuple[int, int]:
    base, extra = divmod(n, p)
    return c * base + min(c, extra), base + (1 if c < extra else 0)


def main() -> None:
    world = MPI.COMM_WORLD
    if len(sys.argv) < 3:
        sys.exit("Usage: numpy_stencil.py <# iterations> <grid size> [star <radius>]")
    iterations, n = int(sys.argv[1]), int(sys.argv[2])
    R = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    dims = MPI.Compute_dims(world.Get_size(), [0, 0])
    comm = world.Create_cart(dims)
    px, py = comm.Get_coords(comm.Get_rank())
    si, ci = block(n, dims[0], px)
    sj, cj = block(n, dims[1], py)
    W = np.zeros((2 * R + 1, 2 * R + 1))
    for k in range(1, R + 1):
        W[R, R + k] = W[R + k, R] = 1.0 / (2.0 * k * R)
        W[R, R - k] = W[R - k, R] = -1.0 / (2.0 * k * R)
    gi = np.arange(si - R, si + ci + R)[:, None]
    gj = np.arange(sj - R, sj + cj + R)[None, :]
    A = (gi + gj).astype(float)  # in, with halos
    B = np.zeros_like(A)  # out
    lo = [max(R, s) - s + R for s in (si, sj)]
    hi = [max(min(n - R, s + c) - s + R, a) for s, c, a in ((si, ci, lo[0]), (sj, cj, lo[1]))]
    (i0, j0), (i1, j1) = lo, hi
    down, up = comm.Shift(0, 1)
    left, right = comm.Shift(1, 1)
    bufs = {k: np.empty((R, cj)) for k in ("us", "ur", "ds", "dr")}
    bufs.update({k: np.empty((ci, R)) for k in ("rs", "rr", "ls", "lr")})
    for it in range(iterations + 1):
        if it == 1:
            comm.Barrier()
            t0 = MPI.Wtime()
        # halo exchange: pack, Sendrecv, unpack (the owned columns only, as the PRK does)
        b = bufs
        b["us"][...] = A[ci : ci + R, R : R + cj]
        b["ds"][...] = A[R : 2 * R, R : R + cj]
        comm.Sendrecv(b["us"], up, 0, b["dr"], down, 0)
        comm.Sendrecv(b["ds"], down, 1, b["ur"], up, 1)
        if down != MPI.PROC_NULL:
            A[0:R, R : R + cj] = b["dr"]
        if up != MPI.PROC_NULL:
            A[ci + R : ci + 2 * R, R : R + cj] = b["ur"]
        b["rs"][...] = A[R : R + ci, cj : cj + R]
        b["ls"][...] = A[R : R + ci, R : 2 * R]
        comm.Sendrecv(b["rs"], right, 2, b["lr"], left, 2)
        comm.Sendrecv(b["ls"], left, 3, b["rr"], right, 3)
        if left != MPI.PROC_NULL:
            A[R : R + ci, 0:R] = b["lr"]
        if right != MPI.PROC_NULL:
            A[R : R + ci, cj + R : cj + 2 * R] = b["rr"]
        # the sweep (stencil-numpy.py's form)
        out = B[i0:i1, j0:j1]
        for k in range(1, R + 1):
            out += W[R, R + k] * A[i0:i1, j0 + k : j1 + k] + W[R, R - k] * A[i0:i1, j0 - k : j1 - k]
            out += W[R + k, R] * A[i0 + k : i1 + k, j0:j1] + W[R - k, R] * A[i0 - k : i1 - k, j0:j1]
        A[R : R + ci, R : R + cj] += 1.0
    comm.Barrier()
    seconds = comm.allreduce(MPI.Wtime() - t0, op=MPI.MAX)
    norm = comm.allreduce(float(np.abs(B[i0:i1, j0:j1]).sum()), op=MPI.SUM)
    points = (n - 2 * R) ** 2
    ref = (iterations + 1) * 2.0
    if abs(norm / points - ref) >= 1e-8:
        if comm.Get_rank() == 0:
            print(f"ERROR: L1 norm = {norm / points}, Reference L1 norm = {ref}")
        sys.exit(1)
    if comm.Get_rank() == 0:
        avg = seconds / iterations
        flops = (2 * (4 * R + 1) + 1) * points
        print("Solution validates")
        print(f"Rate (MFlops/s): {1e-6 * flops / avg:.3f} Avg time (s): {avg:.6g}")


if __name__ == "__main__":
    main()
