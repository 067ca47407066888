"""Parallel Research Kernels, MPI: transpose, B += A^T then A += 1, on order x order matrices distributed by
blocks of rows (`order` must be a multiple of the number of ranks).

Rank r holds rows [r * bo, (r + 1) * bo) of A and of B (bo = order / ranks). Block s of my rows (columns
[s * bo, (s + 1) * bo)) is, transposed, block r of rank s's rows of B. My own block needs no MPI: a kernel adds
it, transposed, straight from A into B and increments A (fused). The others go in size - 1 rounds of a pairwise
exchange: in round d a kernel copies block rank + d of my rows into one contiguous View and increments A
(fused), `comm.Sendrecv` sends it to rank + d while rank - d's block for me comes in, and a kernel adds that
one, transposed, into B. On one rank nothing is sent; the buffers hold one block each way. (One
`comm.Alltoall` of all blocks, mine included, was 1.3x slower on 2 ranks, an `Alltoallv` without mine as fast
as the rounds; sending straight from A with an MPI vector datatype saves the copy, but MPICH's all-to-all was
3x slower with it.) The two transposing kernels are MDRange kernels tiled by `--tile`: a 32 x 8 tile touches 8
lines of the strided side per row of the tile, which stay in the L1 cache at power-of-two orders (with 32 x 32
the local kernel was 5x slower at order 2048).

`--exchange shm` is the PRK's MPI-SHM variant for ranks that share a node's memory: A lives in an MPI-3 shared
window (`MPI.Win.Allocate_shared` on the node's communicator), every rank adds each other rank's block of A,
transposed, straight from that rank's memory into its own B (a kernel per rank, no message and no copy), and
after a barrier increments its own A; a second barrier orders the increment before the next reads. Ranks on
several nodes (or a GPU space) fall back to the rounds, saying so.

With A(i, j) = i * order + j initially, the PRK's closed form applies: B(i, j) = (iterations + 1) * (j * order
+ i) + (iterations + 1) * iterations / 2, and the summed absolute error over all ranks must be below 1e-8.
Output as the PRK's: `Solution validates`, `Rate (MB/s): R Avg time (s): T` (2 x 8 bytes per element and
iteration, PRK's count); `--phases` adds where that time goes (each kernel, and the rest: MPI and Python).

    mpiexec -n 2 python examples/mpi/transpose.py 10 2048        # <# iterations> <matrix order>
    mpiexec -n 2 python examples/mpi/transpose.py --iterations 10 --order 2048
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mpi_common import Clock, parser, positional, say, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402
from kernelkit import mpi as kkmpi  # noqa: E402

# A and B are held as [bo rows][ranks][bo columns]: element (i, r, jj) is the global (row0 + i, r * bo + jj),
# so that no kernel divides an index


@pk.workunit
def init(i: int, r: int, jj: int, order: int, bo: int, row0: int, A: pk.View3D[pk.double], B: pk.View3D[pk.double]):
    A[i][r][jj] = (row0 + i) * order + r * bo + jj
    B[i][r][jj] = 0.0


@pk.workunit
def transpose_local(i: int, jj: int, me: int, A: pk.View3D[pk.double], B: pk.View3D[pk.double]):
    B[jj][me][i] += A[i][me][jj]  # my diagonal block, rows and columns mine: no message; then A += 1 (fused)
    A[i][me][jj] += 1.0


@pk.workunit
def pack(i: int, jj: int, r: int, A: pk.View3D[pk.double], work: pk.View2D[pk.double]):
    work[i][jj] = A[i][r][jj]  # block r of my rows, contiguous for the exchange; then A += 1 (fused)
    A[i][r][jj] += 1.0


@pk.workunit
def pack_all(i: int, r: int, jj: int, me: int, A: pk.View3D[pk.double], out: pk.View3D[pk.double]):
    if r != me:  # every block but mine, each contiguous for its destination; then A += 1 (fused)
        out[r][i][jj] = A[i][r][jj]
        A[i][r][jj] += 1.0


@pk.workunit
def accumulate(i: int, jj: int, s: int, recv: pk.View2D[pk.double], B: pk.View3D[pk.double]):
    B[i][s][jj] += recv[jj][i]  # recv is block (rank s's rows, my columns) of A: transposed on the way in


@pk.workunit
def accumulate_peer(i: int, jj: int, s: int, me: int, Apeer: pk.View3D[pk.double], B: pk.View3D[pk.double]):
    B[i][s][jj] += Apeer[jj][me][i]  # rank s's rows of A, my columns: read in place from its shared memory


@pk.workunit
def increment(i: int, r: int, jj: int, A: pk.View3D[pk.double]):
    A[i][r][jj] += 1.0


@pk.workunit
def accumulate_from(i: int, jj: int, s: int, recv: pk.View3D[pk.double], B: pk.View3D[pk.double]):
    B[i][s][jj] += recv[s][jj][i]  # the block rank s sent (--exchange overlap keeps one per rank)


@pk.workunit
def abserr(
    i: int,
    r: int,
    jj: int,
    acc: pk.Acc[pk.double],
    order: int,
    bo: int,
    row0: int,
    iterations: int,
    B: pk.View3D[pk.double],
):
    addit: float = (iterations + 1.0) * (iterations / 2.0)
    ref: float = ((r * bo + jj) * order + (row0 + i)) * (iterations + 1.0) + addit
    acc += abs(B[i][r][jj] - ref)


def exchange_overlapped(comm, rank, size, rows, block, A, B, work, recv, blocks_out, blocks_in) -> None:
    """One iteration with every message in flight at once: pack all blocks but mine (one kernel), post the
    receives and sends, transpose my own block meanwhile, then add each block as it arrives."""
    from mpi4py import MPI

    pk.parallel_for("transpose::pack_all", rows, pack_all, me=rank, A=A, out=work)
    sources = [(rank - d) % size for d in range(1, size)]
    recvs = [comm.Irecv(kkmpi.message(blocks_in[s], write=True), source=s, tag=7) for s in sources]
    sends = [comm.Isend(kkmpi.message(blocks_out[(rank + d) % size]), (rank + d) % size, tag=7) for d in range(1, size)]
    pk.parallel_for("transpose::local", block, transpose_local, me=rank, A=A, B=B)
    for _ in sources:
        k = MPI.Request.Waitany(recvs)
        s = sources[k]
        pk.parallel_for("transpose::accumulate_from", block, accumulate_from, s=s, recv=recv, B=B)
    MPI.Request.Waitall(sends)


class SharedA:
    """A in an MPI-3 shared window of the ranks of one node: `mine` (this rank's rows) and `peers[s]` (rank s's),
    NumPy arrays over the window wrapped as Views (pk.asarray: no copy), for kernels on a host space."""

    def __init__(self, comm, bo: int, size: int):
        import numpy as np
        from mpi4py import MPI

        self.win = MPI.Win.Allocate_shared(bo * size * bo * 8, 8, comm=comm)
        self.peers = []
        for s in range(size):
            buf, itemsize = self.win.Shared_query(s)
            arr = np.frombuffer(buf, dtype=np.float64, count=bo * size * bo).reshape(bo, size, bo)
            self.peers.append(pk.asarray(arr))
        self.mine = self.peers[comm.Get_rank()]
        self.win.Lock_all()  # one passive epoch: Sync() + Barrier() order the ranks' loads and stores

    def fence(self, comm) -> None:
        self.win.Sync()
        comm.Barrier()
        self.win.Sync()

    def free(self) -> None:
        """End the epoch and free the window (the Views over it must not be used after)."""
        self.peers, self.mine = [], None
        self.win.Unlock_all()
        self.win.Free()


def shm_usable(comm, space) -> str | None:
    """None when every rank shares this node's memory and kernels run on the host; else why not."""
    from mpi4py import MPI

    if space.backend_name not in ("openmp", "serial", "debug"):
        return f"the {space.name} space runs kernels on a GPU"
    node = comm.Split_type(MPI.COMM_TYPE_SHARED, key=comm.Get_rank())
    try:
        if node.Get_size() != comm.Get_size():
            return "the ranks are on several nodes"
    finally:
        node.Free()
    return None


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__)
    p.add_argument("--iterations", type=int, default=10, help="timed iterations (default 10)")
    p.add_argument("-n", "--order", type=int, default=2048, help="global matrix order (default 2048)")
    p.add_argument(
        "--tile", type=int, nargs=2, default=[32, 8], metavar=("TI", "TJ"), help="transposes' tile (default 32 8)"
    )
    p.add_argument("--phases", action="store_true", help="also print each kernel's time and the rest (MPI)")
    p.add_argument(
        "--exchange",
        choices=("rounds", "overlap", "shm"),
        default="rounds",
        help="rounds: size - 1 pairwise Sendrecv rounds of one block (default); overlap: every block packed "
        "at once, all messages posted, my block transposed while they travel, each received block added as "
        "it arrives (one block of buffer per rank each way); shm: A in a shared window of the node, every "
        "block read in place (ranks of one node, host spaces)",
    )
    positional(p, "iterations", "order")
    args, space, comm = setup(p, ("iterations", "order"), argv)
    rank, size = comm.Get_rank(), comm.Get_size()
    order = args.order
    if args.iterations < 1 or order < 1 or order % size:
        p.error(f"iterations >= 1 and a matrix order divisible by the number of ranks ({size})")
    bo = order // size
    row0 = rank * bo
    say(
        comm,
        "Parallel Research Kernels",
        "MPI/kernelkit Matrix transpose: B = A^T",
        f"Number of ranks      = {size}",
        f"Number of iterations = {args.iterations}",
        f"Matrix order         = {order}",
    )
    shared = None
    if args.exchange == "shm":
        why = shm_usable(comm, space)
        if why is None:
            shared = SharedA(comm, bo, size)
        else:
            say(comm, f"--exchange shm: {why}; the pairwise rounds instead")
    A = shared.mine if shared is not None else pk.View([bo, size, bo], pk.double)
    B = pk.View([bo, size, bo], pk.double)
    overlap = args.exchange == "overlap" and size > 1
    if overlap:  # a block per rank each way (mine unused)
        work = pk.View([size, bo, bo], pk.double)
        recv = pk.View([size, bo, bo], pk.double)
    else:  # the block in flight each way
        work = pk.View([bo, bo], pk.double)
        recv = pk.View([bo, bo], pk.double)
    rows = pk.MDRangePolicy([0, 0, 0], [bo, size, bo], tile=[args.tile[0], 1, args.tile[1]])
    block = pk.MDRangePolicy([0, 0], [bo, bo], tile=args.tile)
    copy = pk.MDRangePolicy([0, 0], [bo, bo])  # whole rows: a plain copy
    copy3 = pk.MDRangePolicy([0, 0, 0], [bo, size, bo])  # all of my rows, in memory order
    pk.parallel_for("transpose::init", rows, init, order=order, bo=bo, row0=row0, A=A, B=B)
    if shared is not None:
        shared.fence(comm)  # every rank's A initialized before anyone reads it
    whole = slice(None)
    blocks_out = [pk.subview(work, s, whole, whole) for s in range(size)] if overlap else []
    blocks_in = [pk.subview(recv, s, whole, whole) for s in range(size)] if overlap else []

    clock = Clock(comm, phases=args.phases)
    for it in range(args.iterations + 1):
        if it == 1:
            clock.start()
        if overlap:
            exchange_overlapped(comm, rank, size, rows, block, A, B, work, recv, blocks_out, blocks_in)
            continue
        if shared is not None:  # every block read in place, mine first; then A += 1 once all have read it
            for d in range(size):
                s = (rank + d) % size
                pk.parallel_for("transpose::peer", block, accumulate_peer, s=s, me=rank, Apeer=shared.peers[s], B=B)
            shared.fence(comm)
            pk.parallel_for("transpose::increment", copy3, increment, A=A)
            shared.fence(comm)
            continue
        pk.parallel_for("transpose::local", block, transpose_local, me=rank, A=A, B=B)
        for d in range(1, size):
            dest, source = (rank + d) % size, (rank - d) % size
            pk.parallel_for("transpose::pack", copy, pack, r=dest, A=A, work=work)
            comm.Sendrecv(kkmpi.message(work), dest, recvbuf=kkmpi.message(recv, write=True), source=source)
            pk.parallel_for("transpose::accumulate", block, accumulate, s=source, recv=recv, B=B)
    seconds = clock.stop()

    err = kkmpi.allreduce(
        pk.parallel_reduce(
            "transpose::abserr", rows, abserr, order=order, bo=bo, row0=row0, iterations=args.iterations, B=B
        ),
        comm=comm,
    )
    ok = err < 1e-8
    if ok:
        avg = seconds / args.iterations
        say(
            comm, "Solution validates", f"Rate (MB/s): {1e-6 * 2 * 8 * order * order / avg:.3f} Avg time (s): {avg:.6g}"
        )
        if args.phases:
            say(comm, *clock.phases(args.iterations))
    else:
        say(comm, f"error {err} exceeds threshold 1e-8")
    if shared is not None:
        shared.free()
    verdict(comm, ok, f"summed absolute error {err!r}")


if __name__ == "__main__":
    main()
