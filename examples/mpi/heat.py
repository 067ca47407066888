"""2-D heat equation (explicit Jacobi-style sweeps) on a grid of ranks, with halo exchange on Views; CPU or
GPU ranks (`--space cuda`: each node-local rank gets a GPU, the Views live in its memory).

The unit square carries (n + 2)^2 grid points, boundary included (u = 0 there); the points are split into
blocks over a Cart of the ranks, each held with a halo of one cell. Each step exchanges the halo of u
(`Cart.halo_exchange`: in place on the host; on a GPU in place with a CUDA-aware MPI, else one staged copy
per halo plane), then one MDRange kernel computes

    u_new = u + r (u_E + u_W + u_N + u_S - 4 u)            (r = alpha dt / h^2 <= 1/4)

over the rank's interior points, and the two Views swap. Validation: from u0 = sin(pi x) sin(pi y) the discrete
solution is known exactly, u_k = g^k u0 with g = 1 - 8 r sin^2(pi h / 2); the largest difference over all
points, relative to g^k, must stay below 1e-10. Reports the time per step, million lattice updates per second
(MLUP/s), the share of the time spent in halo exchange, and, on GPUs, the host copies the loop made.

    mpiexec -n 4 python examples/mpi/heat.py --n 2046 --steps 200
    mpiexec -n 1 python examples/mpi/heat.py --space cuda --n 8190 --steps 500
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mpi_common import parser, say, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402
from kernelkit import mpi as kkmpi  # noqa: E402


@pk.workunit
def init(i: int, j: int, i0: int, j0: int, last: int, h: float, u: pk.View2D[pk.double], v: pk.View2D[pk.double]):
    gi: int = i + i0
    gj: int = j + j0
    x: float = 0.0
    if gi > 0 and gj > 0 and gi < last and gj < last:
        x = math.sin(math.pi * gi * h) * math.sin(math.pi * gj * h)
    u[i][j] = x
    v[i][j] = x


@pk.workunit
def step(i: int, j: int, r: float, u: pk.View2D[pk.double], unew: pk.View2D[pk.double]):
    unew[i][j] = u[i][j] + r * (u[i - 1][j] + u[i + 1][j] + u[i][j - 1] + u[i][j + 1] - 4.0 * u[i][j])


@pk.workunit
def max_error(
    i: int, j: int, acc: pk.Acc[pk.double], i0: int, j0: int, h: float, factor: float, u: pk.View2D[pk.double]
):
    exact: float = factor * math.sin(math.pi * (i + i0) * h) * math.sin(math.pi * (j + j0) * h)
    acc = max(acc, abs(u[i][j] - exact))


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__)
    p.add_argument("--n", type=int, default=1022, help="interior points per side (default 1022: 1024^2 points)")
    p.add_argument("--steps", type=int, default=100, help="time steps (default 100)")
    p.add_argument("--r", type=float, default=0.2, help="alpha dt / h^2, at most 0.25 (default 0.2)")
    p.add_argument("--tile", type=int, nargs=2, default=[32, 32], metavar=("TI", "TJ"), help="MDRange tile")
    args, space, comm = setup(p, (), argv)
    if args.n < 1 or args.steps < 1 or not 0.0 < args.r <= 0.25:
        p.error("--n and --steps must be >= 1, and 0 < --r <= 0.25 (stability)")
    points = args.n + 2
    last = points - 1
    h = 1.0 / last
    cart = kkmpi.Cart([0, 0], comm=comm)
    (si, sj), (ci, cj) = cart.block([points, points])
    u = pk.View([ci + 2, cj + 2], pk.double)
    unew = pk.View([ci + 2, cj + 2], pk.double)
    # local index = global index - start + 1; update the global interior 1 .. last - 1
    lo = [max(1, s) - s + 1 for s in (si, sj)]
    hi = [max(min(last, s + c) - s + 1, a) for s, c, a in ((si, ci, lo[0]), (sj, cj, lo[1]))]
    interior = pk.MDRangePolicy(lo, hi, tile=args.tile)
    owned = pk.MDRangePolicy([1, 1], [ci + 1, cj + 1], tile=args.tile)
    full = pk.MDRangePolicy([0, 0], [ci + 2, cj + 2], tile=args.tile)
    pk.parallel_for("heat::init", full, init, i0=si - 1, j0=sj - 1, last=last, h=h, u=u, v=unew)
    say(comm, f"heat: {points} x {points} points on a {cart.dims[0]} x {cart.dims[1]} grid of ranks, r = {args.r}")

    # one warm-up step (compiles, allocates staging buffers), then the clock
    cart.halo_exchange(u, 1)
    pk.parallel_for("heat::step", interior, step, r=args.r, u=u, unew=unew)
    u, unew = unew, u
    memory = None
    if space.backend_name == "cuda":
        from kernelkit.runtime import coherence as memory

        memory.reset_stats()
    kkmpi.reset_stats()
    pk.fence()
    comm.Barrier()
    t0 = kkmpi.MPI.Wtime()
    halo = 0.0
    for _ in range(args.steps - 1):
        th = kkmpi.MPI.Wtime()
        cart.halo_exchange(u, 1)
        halo += kkmpi.MPI.Wtime() - th
        pk.parallel_for("heat::step", interior, step, r=args.r, u=u, unew=unew)
        u, unew = unew, u
    pk.fence()
    comm.Barrier()
    seconds = kkmpi.allreduce(kkmpi.MPI.Wtime() - t0, pk.Max, comm)
    halo = kkmpi.allreduce(halo, pk.Max, comm)

    g = 1.0 - 8.0 * args.r * math.sin(math.pi * h / 2.0) ** 2
    factor = g**args.steps
    err = kkmpi.allreduce(
        pk.parallel_reduce("heat::error", owned, max_error, pk.Max, i0=si - 1, j0=sj - 1, h=h, factor=factor, u=u),
        pk.Max,
        comm,
    )
    timed = args.steps - 1
    if timed:
        per_step = seconds / timed
        say(
            comm,
            f"time per step {per_step * 1e3:.4f} ms, {1e-6 * args.n * args.n / per_step:.1f} MLUP/s, "
            f"halo exchange {100.0 * halo / seconds if seconds else 0.0:.1f}% of the time",
            f"Avg time (s): {per_step:.6g}",
        )
    if memory is not None:
        st, ex = memory.stats(), kkmpi.stats()
        say(
            comm,
            f"device: whole-View copies in the loop: {st['h2d']} h2d, {st['d2h']} d2h; staged halo copies "
            f"{ex['staged_d2h']} d2h + {ex['staged_h2d']} h2d ({ex['staged_bytes']} bytes), pack kernels "
            f"{ex['packs']}, CUDA-aware MPI: {kkmpi.cuda_aware()}",
        )
    rel = err / factor
    if rel < 1e-10:
        say(comm, "Solution validates")
    verdict(comm, rel < 1e-10, f"max |u - g^k u0| / g^k = {rel:.2e} after {args.steps} steps (g^k = {factor:.6f})")


if __name__ == "__main__":
    main()
