"""The PRK's Python MPI transpose (mpi4py + NumPy), the comparison point of examples/mpi/transpose.py:
PRK/PYTHON/transpose-numpy-mpi.py's algorithm (split A into blocks, all-to-all, transpose the received
blocks into B, A += 1) on the same row-block distribution as the kernelkit version, with `comm.Alltoall` on
buffers instead of the PRK's pickled `comm.alltoall`, so that the comparison is with good NumPy.

    mpiexec -n 2 python benchmarks/mpi/numpy_transpose.py <# iterations> <matrix order>
"""

from __future__ import annotations

import sys

import numpy as np
from mpi4py import MPI


def main() -> None:
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    if len(sys.argv) != 3:
        sys.exit("Usage: numpy_transpose.py <# iterations> <matrix order>")
    iterations, order = int(sys.argv[1]), int(sys.argv[2])
    if order % size:
        sys.exit(f"ERROR: matrix order {order} should be divisible by # procs {size}")
    bo = order // size
    row0 = rank * bo
    A = np.fromfunction(lambda i, j: (row0 + i) * order + j, (bo, order), dtype=float)
    B = np.zeros((bo, order))
    work = np.empty((size, bo, bo))
    recv = np.empty((size, bo, bo))
    for k in range(iterations + 1):
        if k == 1:
            comm.Barrier()
            t0 = MPI.Wtime()
        np.copyto(work, A.reshape(bo, size, bo).transpose(1, 2, 0))  # block r of my rows, transposed
        comm.Alltoall(work, recv)
        B += recv.transpose(1, 0, 2).reshape(bo, order)
        A += 1.0
    comm.Barrier()
    seconds = comm.allreduce(MPI.Wtime() - t0, op=MPI.MAX)
    i = np.arange(bo)[:, None] + row0
    j = np.arange(order)[None, :]
    ref = (j * order + i) * (iterations + 1.0) + (iterations + 1.0) * (iterations / 2.0)
    err = comm.allreduce(float(np.abs(B - ref).sum()), op=MPI.SUM)
    if err >= 1e-8:
        if rank == 0:
            print(f"error {err} exceeds threshold 1e-8")
        sys.exit(1)
    if rank == 0:
        avg = seconds / iterations
        print("Solution validates")
        print(f"Rate (MB/s): {1e-6 * 2 * 8 * order * order / avg:.3f} Avg time (s): {avg:.6g}")


if __name__ == "__main__":
    main()
