"""Parallel Research Kernels, MPI: nstream (STREAM triad, A += B + scalar * C) over the ranks.

The vectors of `--length` doubles in total are split into contiguous blocks, one per rank (the first
`length % ranks` ranks hold one more element); each rank runs the single-process example's fused kernel
(examples/prk/nstream.py) on its block, `--iterations` + 1 times (the first untimed). Validation as in the
PRK: the sum of |A| over all ranks equals length * sum over the iterations of (B + scalar * C) within a
relative 1e-8. Output as the PRK's: `Solution validates`, `Rate (MB/s): R Avg time (s): T` (the slowest
rank's time, 4 x 8 bytes per element and iteration).

    mpiexec -n 2 python examples/mpi/nstream.py 10 10000000      # PRK's positional form
    mpiexec -n 2 python examples/mpi/nstream.py --iterations 10 --length 10000000
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mpi_common import Clock, load_example, parser, positional, say, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402
from kernelkit import mpi as kkmpi  # noqa: E402

prk = load_example("prk/nstream.py", "prk_nstream")


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__)
    p.add_argument("--iterations", type=int, default=10, help="timed iterations (default 10)")
    p.add_argument("--length", type=int, default=1 << 23, help="total vector length over all ranks (default 2^23)")
    positional(p, "iterations", "length")
    args, space, comm = setup(p, ("iterations", "length"), argv)
    size = comm.Get_size()
    if args.iterations < 1 or args.length < size:
        p.error("iterations must be >= 1 and the length at least the number of ranks")
    cart = kkmpi.Cart([size], comm=comm)
    (start,), (length,) = cart.block([args.length])
    say(
        comm,
        "Parallel Research Kernels",
        "MPI/kernelkit STREAM triad: A = B + scalar * C",
        f"Number of ranks      = {size}",
        f"Number of iterations = {args.iterations}",
        f"Vector length        = {args.length}",
    )
    scalar = 3.0
    w = prk.Nstream(args.iterations, length, scalar)
    pk.parallel_for("nstream::init", length, w.init)
    clock = Clock(comm)
    for it in range(args.iterations + 1):
        if it == 1:
            clock.start()
        pk.parallel_for("nstream", length, w.nstream)
    seconds = clock.stop()
    asum = kkmpi.allreduce(pk.parallel_reduce("nstream::asum", length, w.res_reduce), comm=comm)

    ar = 0.0
    for _ in range(args.iterations + 1):
        ar += 2.0 + scalar * 2.0
    ref = ar * args.length
    err = abs(asum - ref) / ref
    ok = err < 1e-8
    if ok:
        avg = seconds / args.iterations
        say(comm, "Solution validates", f"Rate (MB/s): {1e-6 * 4 * 8 * args.length / avg:.3f} Avg time (s): {avg:.6g}")
    else:
        say(comm, "Failed Validation on output array", f"        Expected checksum: {ref}", f"        Observed: {asum}")
    verdict(comm, ok, f"sum|A| = {asum!r}, reference {ref!r} (relative error {err:.2e}), block {start}+{length}")


if __name__ == "__main__":
    main()
