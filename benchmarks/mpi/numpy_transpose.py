"""The PRK's Python MPI transpose (mpi4py + NumPy), the comparison point of examples/mpi/transpose.py:
PRK/PYTHON/transpose-numpy-mpi.py's algorithm (split A into blocks, all-to-all, transpose the received
blocks into B, A += 1) on the same row-block distribution as the kernelkit version, with `comm.Alltoall` on
buffers instead of the PRK's pickled `comm.alltoall`, so that the comparison is with good NumPy.

`--exchange shm` is the counterpart of examples/mpi/transpose.py's: the PRK's MPI-SHM algorithm, A in an MPI-3
shared window of the node, every rank adding each rank's block of A, transposed, straight from its memory into
B (NumPy slicing), then a barrier, A += 1, a barrier.

    mpiexec -n 2 python benchmarks/mpi/numpy_transpose.py <# iterations> <matrix order> [--exchange shm]
"""

from __future__ import annotations

import sys

import numpy as np
from mpi4py import MPI


def main() -> None:
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    argv = sys.argv[1:]
    shm = False
    if "--exchange" in argv:  # before or after the positional arguments
        k = argv.index("--exchange")
        shm = argv[k + 1 : k + 2] == ["shm"]
        del argv[k : k + 2]
    if len(argv) != 2 or (not shm and "--exchange" in sys.argv):
        sys.exit("Usage: numpy_transpose.py <# iterations> <matrix order> [--exchange shm]")
    iterations, order = int(argv[0]), int(argv[1])
    if order % size:
        sys.exit(f"ERROR: matrix order {order} should be divisible by # procs {size}")
    bo = order // size
    row0 = rank * bo
    B = np.zeros((bo, order))
    if shm:
        node = comm.Split_type(MPI.COMM_TYPE_SHARED, key=rank)
        if node.Get_size() != size:
            sys.exit("ERROR: --exchange shm needs every rank on one node")
        node.Free()
        win = MPI.Win.Allocate_shared(bo * order * 8, 8, comm=comm)
        peers = [
            np.frombuffer(win.Shared_query(s)[0], dtype=float, count=bo * order).reshape(bo, order) for s in range(size)
        ]
        A = peers[rank]
        A[...] = np.fromfunction(lambda i, j: (row0 + i) * order + j, (bo, order), dtype=float)
        win.Lock_all()

        def fence() -> None:
            win.Sync()
            comm.Barrier()
            win.Sync()

        fence()
    else:
        A = np.fromfunction(lambda i, j: (row0 + i) * order + j, (bo, order), dtype=float)
        work = np.empty((size, bo, bo))
        recv = np.empty((size, bo, bo))
    mine = slice(rank * bo, (rank + 1) * bo)
    for k in range(iterations + 1):
        if k == 1:
            comm.Barrier()
            t0 = MPI.Wtime()
        if shm:  # rank s's rows, my columns, read in place from its memory
            for d in range(size):
                s = (rank + d) % size
                B[:, s * bo : (s + 1) * bo] += peers[s][:, mine].T
            fence()
            A += 1.0
            fence()
            continue
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
    if shm:
        del A, peers
        win.Unlock_all()
        win.Free()
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
