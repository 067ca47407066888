"""minimd: a Lennard-Jones molecular-dynamics mini-app in the spirit of ExaMiniMD (the PyKokkos paper's
flagship application).

Atoms start on an FCC lattice of nx x ny x nz unit cells (4 atoms each) at the given reduced density, with
random velocities of zero total momentum scaled to the target temperature, in a periodic box. They are
sorted by cell once (pk.BinSort), then each step integrates Newton's equations with velocity Verlet (NVE):
half kick, drift, forces from a Verlet neighbor list (LJ 12-6, cut off at --cutoff, list radius cutoff +
--skin, rebuilt every --neigh-every steps by binning atoms into cells with kernels and atomics), half kick.
Every --thermo steps it prints the temperature and the potential, kinetic and total energy per atom; at the
end, the relative drift of the total energy and the atom-steps per second of the time-step loop.

Units are reduced LJ units (sigma = epsilon = mass = k_B = 1). The defaults are ExaMiniMD's in.lj (density
0.8442, T = 1.44, dt = 0.005, cutoff 2.5, skin 0.3, rebuild every 20 steps, 100 steps) on a 16^3 lattice
(16384 atoms). Everything after the setup stays in the execution space's memory; only scalars come back.

Validation (PASS/FAIL):
  * energy: |E_end - E_0| / |E_0| below --drift-tol (default 2e-4; the default input drifts by -1.4e-5);
    the energy includes the shift that makes the truncated potential continuous (--no-shift prints the raw
    truncated energy, which jumps whenever a pair crosses the cutoff, and skips this check);
  * momentum: the total momentum stays zero (below 1e-9 per atom);
  * forces: at the end, the forces of --check-atoms atoms equal a brute-force NumPy sum over all atoms
    (minimum image) to a relative 1e-9: this also catches a neighbor list that went stale because atoms
    moved more than skin/2 between rebuilds.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from _common import parser, setup, verdict  # noqa: E402
from force import ForceLJ  # noqa: E402
from integrator import IntegratorNVE  # noqa: E402
from neighbor import NeighborList  # noqa: E402
from system import System  # noqa: E402

import kernelkit as pk  # noqa: E402


def brute_force(x: np.ndarray, box: np.ndarray, atoms: np.ndarray, cutoff: float) -> np.ndarray:
    """LJ forces on `atoms` from every other atom (minimum image), in NumPy."""
    out = np.zeros((len(atoms), 3))
    for k, i in enumerate(atoms):
        d = x[i] - x
        d -= box * np.round(d / box)
        rsq = np.einsum("ij,ij->i", d, d)
        rsq[i] = np.inf
        m = rsq < cutoff * cutoff
        sr2 = 1.0 / rsq[m]
        sr6 = sr2**3
        out[k] = np.sum(d[m] * (48.0 * sr6 * (sr6 - 0.5) * sr2)[:, None], axis=0)
    return out


def sort_atoms(s: System, nbins: list[int]) -> None:
    """Reorder the atoms by cell (Kokkos::BinSort), so that neighbors are close in memory."""
    op = pk.BinOp3D(s.x, nbins, [0.0, 0.0, 0.0], list(s.box * (1.0 + 1e-12)))
    sorter = pk.BinSort(s.x, op)
    sorter.create_permute_vector()
    sorter.sort(s.x)
    sorter.sort(s.v)


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--nx", type=int, default=16, help="unit cells along x (default 16); also y, z unless given")
    p.add_argument("--ny", type=int, default=None, help="unit cells along y (default: nx)")
    p.add_argument("--nz", type=int, default=None, help="unit cells along z (default: nx)")
    p.add_argument("--density", type=float, default=0.8442, help="reduced density (default 0.8442)")
    p.add_argument("--temperature", type=float, default=1.44, help="initial temperature (default 1.44)")
    p.add_argument("--dt", type=float, default=0.005, help="time step (default 0.005)")
    p.add_argument("--steps", type=int, default=100, help="time steps (default 100)")
    p.add_argument("--thermo", type=int, default=10, help="thermodynamic output every K steps (default 10)")
    p.add_argument("--cutoff", type=float, default=2.5, help="LJ cutoff (default 2.5)")
    p.add_argument("--skin", type=float, default=0.3, help="neighbor list skin (default 0.3)")
    p.add_argument("--neigh-every", type=int, default=20, help="rebuild the neighbor list every N steps (default 20)")
    p.add_argument(
        "--list",
        choices=["half", "full"],
        default="full",
        help="neighbor list: full (each pair twice, no atomics; the default) or half (each pair "
        "once, the partner updated with atomics)",
    )
    p.add_argument("--no-shift", action="store_true", help="print the unshifted truncated energy (no drift check)")
    p.add_argument("--no-sort", action="store_true", help="do not sort the atoms by cell at the start")
    p.add_argument("--seed", type=int, default=87287, help="velocity seed (default 87287, as in.lj)")
    p.add_argument("--drift-tol", type=float, default=2e-4, help="relative energy drift allowed (default 2e-4)")
    p.add_argument("--check-atoms", type=int, default=64, help="atoms whose forces are checked (default 64)")
    args, space = setup(p)
    sizes = (args.nx, args.ny or 1, args.nz or 1)
    if args.neigh_every < 1 or args.steps < 0 or args.thermo < 0 or min(sizes) < 1:
        p.error("--neigh-every and the lattice sizes must be >= 1, --steps and --thermo >= 0")
    nx = args.nx
    ny, nz = args.ny or nx, args.nz or nx
    half = args.list == "half"

    timer = pk.Timer()
    s = System(nx, ny, nz, args.density, args.temperature, args.seed)
    try:
        nl = NeighborList(s.x, s.box, args.cutoff, args.skin, half)
    except ValueError as e:
        p.error(str(e))
    if not args.no_sort:
        sort_atoms(s, [nl.nbx, nl.nby, nl.nbz])
    force = ForceLJ(s.x, s.f, nl, args.cutoff, shift=not args.no_shift)
    integ = IntegratorNVE(s, args.dt)
    for part in (nl, force, integ):
        part.warm_up()  # compile everything before the clock starts
    nl.update()
    force.compute()
    pk.fence()
    setup_time = timer.seconds()
    dof = 3 * s.n - 3

    print(
        f"minimd: {s.n} atoms, box {s.box[0]:.4f} x {s.box[1]:.4f} x {s.box[2]:.4f}, "
        f"{nl.nbx} x {nl.nby} x {nl.nbz} cells, {'half' if half else 'full'} neighbor list, dt {args.dt}"
    )
    print(f"{'Step':>8} {'Temp':>12} {'PotEng':>14} {'KinEng':>14} {'TotEng':>14}   (energies per atom)")

    def thermo(step: int) -> float:
        ke = integ.kinetic_energy()
        pe = force.potential_energy()
        print(f"{step:>8d} {2.0 * ke / dof:>12.6f} {pe / s.n:>14.8f} {ke / s.n:>14.8f} {(pe + ke) / s.n:>14.8f}")
        return pe + ke

    e0 = thermo(0)
    energies = [e0]
    loop = pk.Timer()
    for step in range(1, args.steps + 1):
        integ.initial()
        if step % args.neigh_every == 0:
            nl.update()
        force.compute()
        integ.final()
        if args.thermo and step % args.thermo == 0:
            pk.fence()
            energies.append(thermo(step))  # thermo time is part of the loop, as in ExaMiniMD
    pk.fence()
    loop_time = loop.seconds()
    e_end = thermo(args.steps) if not args.thermo or args.steps % args.thermo else energies[-1]

    drift = (e_end - e0) / abs(e0)
    atom_steps = s.n * args.steps / loop_time if loop_time > 0 else float("nan")
    print(
        f"setup {setup_time:.3f} s, loop {loop_time:.3f} s for {args.steps} steps, "
        f"{nl.builds} neighbor builds{f' ({nl.regrows} regrows)' if nl.regrows else ''}"
    )
    print(f"performance: {atom_steps:.4g} atom-steps/s ({space.name})")
    print(
        f"energy drift: (E_end - E_0) / |E_0| = {drift:.3e} over {args.steps} steps of {args.dt}"
        f"{'' if not args.no_shift else ' (unshifted energy: not checked)'}"
    )

    problems = []
    if not args.no_shift and not abs(drift) < args.drift_tol:
        problems.append(f"energy drift {drift:.3e} exceeds {args.drift_tol:.1e}")
    mom = np.array(integ.momentum())
    if not np.all(np.abs(mom) < 1e-9 * s.n):
        problems.append(f"total momentum {mom} is not zero")
    if args.check_atoms > 0:
        xs = np.array(s.x)  # a host copy of the final positions
        atoms = np.random.default_rng(1).choice(s.n, size=min(args.check_atoms, s.n), replace=False)
        ref = brute_force(xs, s.box, atoms, args.cutoff)
        got = np.asarray(s.f)[atoms]
        scale = max(float(np.max(np.abs(ref))), 1.0)
        err = float(np.max(np.abs(got - ref))) / scale
        print(f"forces of {len(atoms)} atoms vs brute force: max relative difference {err:.2e}")
        if not err < 1e-9:
            problems.append(f"forces differ from the brute-force sum by {err:.2e}")
    verdict(
        not problems,
        "; ".join(problems)
        if problems
        else f"drift {drift:.2e}, momentum {np.max(np.abs(mom)):.1e}, {atom_steps:.3g} atom-steps/s",
    )


if __name__ == "__main__":
    main()
