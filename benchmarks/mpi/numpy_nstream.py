"""The PRK's Python MPI nstream (mpi4py + NumPy), as PRK/PYTHON/nstream-numpy-mpi.py computes it: the
comparison point of examples/mpi/nstream.py. Same arguments, validation and output.

    mpiexec -n 2 python benchmarks/mpi/numpy_nstream.py <# iterations> <vector length>
"""

from __future__ import annotations

import sys

import numpy as np
from mpi4py import MPI


def main() -> None:
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    if len(sys.argv) != 3:
        sys.exit("Usage: numpy_nstream.py <# iterations> <vector length>")
    iterations, total = int(sys.argv[1]), int(sys.argv[2])
    length = total // size + (1 if rank < total % size else 0)
    A = np.zeros(length)
    B = np.full(length, 2.0)
    C = np.full(length, 2.0)
    scalar = 3.0
    for k in range(iterations + 1):
        if k == 1:
            comm.Barrier()
            t0 = MPI.Wtime()
        A += B + scalar * C
    comm.Barrier()
    seconds = comm.allreduce(MPI.Wtime() - t0, op=MPI.MAX)
    ar = sum(2.0 + scalar * 2.0 for _ in range(iterations + 1)) * total
    asum = comm.allreduce(float(np.linalg.norm(A, ord=1)), op=MPI.SUM)
    if abs(ar - asum) / asum > 1e-8:
        if rank == 0:
            print(f"Failed Validation on output array: expected {ar}, observed {asum}")
        sys.exit(1)
    if rank == 0:
        avg = seconds / iterations
        print("Solution validates")
        print(f"Rate (MB/s): {1e-6 * 4 * 8 * total / avg:.3f} Avg time (s): {avg:.6g}")


if __name__ == "__main__":
    main()
