"""Parallel Research Kernels, MPI: stencil, star shape of radius 2 (by default), on a 2-D grid of ranks.

The n x n grid is split into blocks over a Cart of the ranks (`MPI.Compute_dims`, as square as the ranks
factor). Each rank holds its block of `in` with a halo of R cells (`out` has the same shape), exchanged by
`Cart.halo_exchange` before every sweep: no halo is packed or copied by hand. The sweep (the single-process
example's, examples/prk/stencil.py, with the radius baked in) and the increment run on tiled MDRange
policies: out += W * in over the rank's part of the global interior (R <= i, j < n - R), then in += 1 over
the owned cells. With
in(i, j) = i + j (global indices), the PRK's closed form applies: the mean of |out| over the (n - 2R)^2
active points is (iterations + 1) * 2, checked within 1e-8. Output as the PRK's: `Solution validates`,
`Rate (MFlops/s): R Avg time (s): T`.

    mpiexec -n 4 python examples/mpi/stencil.py 10 2000          # <# iterations> <grid size> [star <radius>]
    mpiexec -n 4 python examples/mpi/stencil.py --iterations 10 --order 2000 --radius 2
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mpi_common import Clock, load_example, parser, positional, say, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402
from kernelkit import mpi as kkmpi  # noqa: E402

prk = load_example("prk/stencil.py", "prk_stencil")


@pk.workunit
def init_block(i: int, j: int, i0: int, j0: int, inp: pk.View2D[pk.double], out: pk.View2D[pk.double]):
    inp[i][j] = (i + i0) + (j + j0)  # global coordinates: COEFX * i + COEFY * j with COEFX = COEFY = 1
    out[i][j] = 0.0


def star_of_radius(R: int):
    """examples/prk/stencil.py's sweep with the radius baked in (a closure constant): its loops then have
    constant bounds, which the C++ compiler unrolls and vectorizes (10x faster than a radius argument)."""

    @pk.workunit
    def star(i: int, j: int, W: pk.View2D[pk.double], inp: pk.View2D[pk.double], out: pk.View2D[pk.double]):
        s: float = 0.0
        for jj in range(-R, R + 1):
            s += W[R][R + jj] * inp[i][j + jj]
        for ii in range(-R, 0):
            s += W[R + ii][R] * inp[i + ii][j]
        for ii in range(1, R + 1):
            s += W[R + ii][R] * inp[i + ii][j]
        out[i][j] += s

    return star


def main(argv: list[str] | None = None) -> None:
    p = parser(__doc__)
    p.add_argument("--iterations", type=int, default=10, help="timed iterations (default 10)")
    p.add_argument("-n", "--order", type=int, default=2000, help="global grid size n (default 2000)")
    p.add_argument("--pattern", choices=["star"], default="star", help="stencil shape (PRK's star)")
    p.add_argument("--radius", type=int, default=2, help="stencil radius (default 2)")
    p.add_argument(
        "--tile", type=int, nargs=2, default=[4, 1024], metavar=("TI", "TJ"), help="MDRange tile (default 4 1024)"
    )
    positional(p, "iterations", "order", "pattern", "radius")
    args, space, comm = setup(p, ("iterations", "order", "pattern", "radius"), argv)
    n, R = args.order, args.radius
    if args.iterations < 1 or R < 1 or n < 2 * R + 1:
        p.error(f"iterations >= 1, radius >= 1 and a grid larger than the stencil (n >= {2 * R + 1})")
    cart = kkmpi.Cart([0, 0], comm=comm)
    (si, sj), (ci, cj) = cart.block([n, n])
    if min(ci, cj) < R:
        p.error(f"blocks of {ci} x {cj} cells are smaller than the radius {R}: use fewer ranks or a larger grid")
    say(
        comm,
        "Parallel Research Kernels",
        "MPI/kernelkit stencil execution on 2D grid",
        f"Number of ranks        = {cart.size}",
        f"Grid of ranks          = {cart.dims[0]} x {cart.dims[1]}",
        f"Number of iterations   = {args.iterations}",
        f"Grid size              = {n}",
        f"Type of stencil        = {args.pattern}",
        f"Radius of stencil      = {R}",
    )
    W = pk.View([2 * R + 1, 2 * R + 1], pk.double)
    pk.deep_copy(W, prk.star_weights(R))
    inp = pk.View([ci + 2 * R, cj + 2 * R], pk.double)
    out = pk.View([ci + 2 * R, cj + 2 * R], pk.double)
    # local index = global index - start + R
    lo = [max(R, s) - s + R for s in (si, sj)]
    hi = [min(n - R, s + c) - s + R for s, c in ((si, ci), (sj, cj))]
    active = pk.MDRangePolicy(lo, [max(a, b) for a, b in zip(lo, hi, strict=True)], tile=args.tile)
    owned = pk.MDRangePolicy([R, R], [ci + R, cj + R], tile=args.tile)
    full = pk.MDRangePolicy([0, 0], [ci + 2 * R, cj + 2 * R], tile=args.tile)
    pk.parallel_for("stencil::init", full, init_block, i0=si - R, j0=sj - R, inp=inp, out=out)
    star = star_of_radius(R)

    clock = Clock(comm)
    for it in range(args.iterations + 1):
        if it == 1:
            clock.start()
        cart.halo_exchange(inp, R)
        pk.parallel_for("stencil::star", active, star, W=W, inp=inp, out=out)
        pk.parallel_for("stencil::increment", owned, prk.increment, inp=inp)
    seconds = clock.stop()

    norm = kkmpi.allreduce(pk.parallel_reduce("stencil::norm", active, prk.norm, out=out), comm=comm)
    points = (n - 2 * R) ** 2
    mean = norm / points
    ref = (args.iterations + 1) * 2.0
    ok = abs(mean - ref) < 1e-8
    if ok:
        avg = seconds / args.iterations
        flops = (2 * (4 * R + 1) + 1) * points
        say(comm, "Solution validates", f"Rate (MFlops/s): {1e-6 * flops / avg:.3f} Avg time (s): {avg:.6g}")
    else:
        say(comm, f"ERROR: L1 norm = {mean}, Reference L1 norm = {ref}")
    verdict(comm, ok, f"L1 norm {mean!r}, reference {ref!r}")


if __name__ == "__main__":
    main()
