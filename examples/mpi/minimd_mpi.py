"""minimd over MPI: the Lennard-Jones mini-app of examples/md/ distributed by spatial decomposition.

The periodic box is cut into equal bricks over a periodic 3-D Cart of the ranks; each rank owns the atoms in
its brick. Every --neigh-every steps (at neighbor-list rebuilds, as ExaMiniMD and LAMMPS do) positions are
wrapped into the box, atoms that left their brick migrate to the neighbouring rank, and the ghost atoms (copies
of the atoms within cutoff + skin of a brick's faces, edges and corners, periodic images shifted by the box)
are exchanged axis by axis; in between, each step only refreshes the ghosts' positions through the same send
lists (pack kernel, Sendrecv of Views, unpack kernel). The kernels are examples/md's: the cell binning and
Verlet list (NeighborList, over local and ghost atoms), the LJ forces and energy (ForceLJ, full list: each
rank computes its own atoms' forces, no reverse communication), velocity Verlet's half kicks and the kinetic
energy; energies and momenta are summed with `kernelkit.mpi.allreduce`. The initial state is the one
examples/md/minimd.py builds (same lattice, same velocities), so the run is the single-process run.

Validation (PASS/FAIL): the number of atoms is conserved; the relative drift of the total energy stays below
--drift-tol; the total momentum stays zero; and (unless --no-compare) the thermodynamic output at every
--thermo step equals that of the single-process minimd, run on rank 0 with the same kernels, to --compare-tol
(the same energy conservation as on one rank, up to the order of floating-point sums).

    mpiexec -n 4 python examples/mpi/minimd_mpi.py --nx 16 --steps 100
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "md"))

import numpy as np  # noqa: E402
from _mpi_common import parser, say, setup, verdict  # noqa: E402
from force import ForceLJ  # noqa: E402
from integrator import IntegratorNVE, final_integrate, kinetic, momentum  # noqa: E402
from neighbor import NeighborList  # noqa: E402
from system import fcc_lattice, thermal_velocities  # noqa: E402

import kernelkit as pk  # noqa: E402
from kernelkit import mpi as kkmpi  # noqa: E402
from kernelkit.mpi import MPI  # noqa: E402


@pk.workunit
def drift(i: int, dt: float, x: pk.View2D[pk.double], v: pk.View2D[pk.double], f: pk.View2D[pk.double]):
    # velocity Verlet's first half: kick and drift, no wrap (atoms are wrapped when they migrate)
    half: float = 0.5 * dt
    for d in range(3):
        v[i][d] += half * f[i][d]
        x[i][d] += dt * v[i][d]


@pk.workunit
def pack_ghosts(
    i: int,
    ox: float,
    oy: float,
    oz: float,
    idx: pk.View1D[pk.int32],
    x: pk.View2D[pk.double],
    buf: pk.View2D[pk.double],
):
    j: int = idx[i]
    buf[i][0] = x[j][0] + ox
    buf[i][1] = x[j][1] + oy
    buf[i][2] = x[j][2] + oz


@pk.workunit
def unpack_ghosts(
    i: int, first: int, ox: float, oy: float, oz: float, buf: pk.View2D[pk.double], x: pk.View2D[pk.double]
):
    x[first + i][0] = buf[i][0] - ox
    x[first + i][1] = buf[i][1] - oy
    x[first + i][2] = buf[i][2] - oz


def sendrecv_rows(comm, rows: np.ndarray, dest: int, source: int, tag: int) -> np.ndarray:
    """Send `rows` (an (n, k) array) to `dest` and receive such an array from `source`."""
    count = comm.sendrecv(len(rows), dest=dest, sendtag=tag, source=source, recvtag=tag)
    out = np.empty((count,) + rows.shape[1:], dtype=rows.dtype)
    comm.Sendrecv(np.ascontiguousarray(rows), dest, tag, out, source, tag)
    return out


class Domain:
    """This rank's brick of the box: migration of atoms and the construction of ghost atoms."""

    def __init__(self, cart, box: np.ndarray, ghost_cut: float):
        self.cart = cart
        self.box = box
        dims, coords = np.array(cart.dims), np.array(cart.coords)
        self.lo = box * coords / dims
        self.hi = box * (coords + 1) / dims
        self.ghost_cut = ghost_cut
        if np.any(self.hi - self.lo < ghost_cut):
            raise ValueError(
                f"bricks {np.min(self.hi - self.lo):.3f} wide are thinner than cutoff + skin ({ghost_cut:.3f}): "
                "use fewer ranks or a larger lattice"
            )
        # The neighbor list's frame: the brick and its ghost margins start at 0, and one empty margin more on
        # the high side keeps the list's minimum-image convention from ever pairing atoms across the frame.
        self.origin = self.lo - ghost_cut
        self.frame = (self.hi - self.lo) + 3.0 * ghost_cut
        self.sends: list[tuple] = []

    def _step(self, x: np.ndarray, d: int) -> np.ndarray:
        """-1, 0 or +1 per atom: the brick along axis d that holds it, relative to this one."""
        p, c = self.cart.dims[d], self.cart.coords[d]
        owner = np.minimum((x[:, d] / self.box[d] * p).astype(np.int64), p - 1)
        delta = (owner - c) % p
        if p > 2 and np.any((delta != 0) & (delta != 1) & (delta != p - 1)):
            raise RuntimeError("an atom moved further than one brick between neighbor-list rebuilds")
        step = np.zeros(len(x), dtype=np.int64)
        step[delta == 1] = 1
        step[(delta == p - 1) & (delta != 1)] = -1
        return step

    def migrate(self, x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Wrap positions into the box and hand the atoms that left the brick to the neighbours, axis by axis."""
        comm = self.cart.comm
        state = np.hstack([x - self.box * np.floor(x / self.box), v])
        for d in range(3):
            if self.cart.dims[d] == 1:
                continue
            lower, upper = self.cart.neighbors[d]
            step = self._step(state, d)
            from_lower = sendrecv_rows(comm, state[step == 1], upper, lower, 10 + d)
            from_upper = sendrecv_rows(comm, state[step == -1], lower, upper, 20 + d)
            state = np.vstack([state[step == 0], from_lower, from_upper])
        return state[:, :3].copy(), state[:, 3:].copy()

    def ghosts(self, x: np.ndarray) -> np.ndarray:
        """Exchange ghost atoms axis by axis (the atoms held so far within cutoff + skin of a face, periodic
        images shifted by the box) and record the send lists; returns local then ghost positions."""
        comm = self.cart.comm
        self.sends = []
        held = x
        for d in range(3):
            lower, upper = self.cart.neighbors[d]
            c, p = self.cart.coords[d], self.cart.dims[d]
            near_lo = np.flatnonzero(held[:, d] < self.lo[d] + self.ghost_cut)
            near_hi = np.flatnonzero(held[:, d] >= self.hi[d] - self.ghost_cut)
            shift_lo, shift_hi = np.zeros(3), np.zeros(3)
            if c == 0:
                shift_lo[d] = self.box[d]  # as the lower neighbour sees them, across the periodic boundary
            if c == p - 1:
                shift_hi[d] = -self.box[d]
            first = len(held)
            from_upper = sendrecv_rows(comm, held[near_lo] + shift_lo, lower, upper, 30 + d)
            from_lower = sendrecv_rows(comm, held[near_hi] + shift_hi, upper, lower, 40 + d)
            self.sends.append(
                (
                    (lower, upper, near_lo, shift_lo, first, len(from_upper), 50 + d),
                    (upper, lower, near_hi, shift_hi, first + len(from_upper), len(from_lower), 60 + d),
                )
            )
            held = np.vstack([held, from_upper, from_lower])
        return held


class GhostRefresh:
    """Each step between rebuilds: the ghosts' positions through the recorded send lists (a pack kernel,
    Sendrecv of Views, an unpack kernel), axis by axis, since edge and corner ghosts are ghosts' ghosts."""

    def __init__(self, comm, dom: Domain):
        self.comm = comm
        self.steps = []
        ox, oy, oz = (float(o) for o in dom.origin)
        self.origin = {"ox": ox, "oy": oy, "oz": oz}
        for axis in dom.sends:
            for dest, source, idx, shift, first, count, tag in axis:
                iv = pk.View([len(idx)], pk.int32)
                pk.deep_copy(iv, idx.astype(np.int32))
                sx, sy, sz = (float(o) for o in dom.origin + shift)  # frame -> global, then the image shift
                send = pk.View([len(idx), 3], pk.double)
                recv = pk.View([count, 3], pk.double)
                self.steps.append((dest, source, tag, iv, send, recv, first, {"ox": sx, "oy": sy, "oz": sz}))

    def refresh(self, x) -> None:
        sendrecv = self.comm.Sendrecv
        for dest, source, tag, iv, send, recv, first, shift in self.steps:
            pk.parallel_for("Comm::pack", send.shape[0], pack_ghosts, idx=iv, x=x, buf=send, **shift)
            sendrecv(kkmpi.message(send), dest, tag, kkmpi.message(recv, write=True), source, tag)
            pk.parallel_for("Comm::unpack", recv.shape[0], unpack_ghosts, first=first, buf=recv, x=x, **self.origin)


def build_list(nl: NeighborList, nlocal: int) -> None:
    """NeighborList.update, binning every atom (local and ghost) but listing neighbours of local atoms only."""
    pk.parallel_for("Binning::clear", nl.nbins, nl.clear_bins)
    pk.parallel_for("Binning::count", nl.n, nl.count_bins)
    pk.parallel_scan("Binning::offsets", nl.nbins, nl.scan_offsets)
    pk.parallel_for("Binning::clear", nl.nbins, nl.clear_bins)
    pk.parallel_for("Binning::fill", nl.n, nl.fill_bins)
    while True:
        pk.parallel_for("Neighbor::build", nlocal, nl.build)
        most = int(pk.parallel_reduce("Neighbor::max", nlocal, nl.most_neighbors, pk.Max)) if nlocal else 0
        if most <= nl.max_neigh:
            break
        nl.max_neigh = most + most // 8 + 1
        nl.neigh = pk.View([nl.n, nl.max_neigh], pk.int32)
    nl.builds += 1


class Rank:
    """The atoms of this rank (local first, then ghosts) in Views, with their neighbor list and forces."""

    def __init__(self, comm, dom: Domain, args, max_neigh: int = 96):
        self.comm, self.dom, self.args = comm, dom, args
        self.max_neigh = max_neigh

    def rebuild(self, x_global: np.ndarray, v: np.ndarray) -> None:
        held = self.dom.ghosts(x_global)
        self.nlocal = len(x_global)
        self.x = pk.View([len(held), 3], pk.double)
        pk.deep_copy(self.x, held - self.dom.origin)
        self.v = pk.View([self.nlocal, 3], pk.double)
        pk.deep_copy(self.v, np.ascontiguousarray(v))
        self.f = pk.View([self.nlocal, 3], pk.double)
        a = self.args
        self.nl = NeighborList(self.x, self.dom.frame, a.cutoff, a.skin, half=False, max_neigh=self.max_neigh)
        build_list(self.nl, self.nlocal)
        self.max_neigh = self.nl.max_neigh
        self.force = ForceLJ(self.x, self.f, self.nl, a.cutoff, shift=True)
        self.force.n = self.nlocal  # forces and energy of local atoms; ghosts are only neighbours
        self.ghost_comm = GhostRefresh(self.comm, self.dom)

    def warm_up(self) -> None:
        """Compile the time-step kernels before the clock starts (a ghost refresh changes nothing)."""
        pk.parallel_for(0, drift, dt=self.args.dt, x=self.x, v=self.v, f=self.f)
        pk.parallel_for(0, final_integrate, dt=self.args.dt, v=self.v, f=self.f)
        self.ghost_comm.refresh(self.x)

    def positions_and_velocities(self) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(self.x)[: self.nlocal] + self.dom.origin
        return x, np.array(self.v)

    def step(self, step: int) -> None:
        dt = self.args.dt
        pk.parallel_for("IntegratorNVE::initial_integrate", self.nlocal, drift, dt=dt, x=self.x, v=self.v, f=self.f)
        if step % self.args.neigh_every == 0:
            self.rebuild(*self.dom.migrate(*self.positions_and_velocities()))
        else:
            self.ghost_comm.refresh(self.x)
        self.force.compute()
        pk.parallel_for("IntegratorNVE::final_integrate", self.nlocal, final_integrate, dt=dt, v=self.v, f=self.f)

    def energies(self) -> tuple[float, float]:
        ke = pk.parallel_reduce("KinE", self.nlocal, kinetic, v=self.v) if self.nlocal else 0.0
        pe = self.force.potential_energy() if self.nlocal else 0.0
        return kkmpi.allreduce(pe, comm=self.comm), kkmpi.allreduce(ke, comm=self.comm)

    def momentum(self) -> np.ndarray:
        parts = [
            pk.parallel_reduce("Momentum", self.nlocal, momentum, d=d, v=self.v) if self.nlocal else 0.0
            for d in range(3)
        ]
        return np.array([kkmpi.allreduce(m, comm=self.comm) for m in parts])


def serial_reference(pos: np.ndarray, vel: np.ndarray, box: np.ndarray, args) -> list[tuple[int, float, float]]:
    """examples/md's single-process run of the same system: (step, potential, kinetic) at each thermo step."""
    n = len(pos)
    x, v, f = pk.View([n, 3], pk.double), pk.View([n, 3], pk.double), pk.View([n, 3], pk.double)
    pk.deep_copy(x, pos)
    pk.deep_copy(v, vel)

    class S:  # what IntegratorNVE reads of a System
        pass

    s = S()
    s.n, s.box, s.x, s.v, s.f = n, box, x, v, f
    nl = NeighborList(x, box, args.cutoff, args.skin, half=False)
    force = ForceLJ(x, f, nl, args.cutoff, shift=True)
    integ = IntegratorNVE(s, args.dt)
    nl.update()
    force.compute()
    out = [(0, force.potential_energy(), integ.kinetic_energy())]
    for step in range(1, args.steps + 1):
        integ.initial()
        if step % args.neigh_every == 0:
            nl.update()
        force.compute()
        integ.final()
        if step % args.thermo == 0 or step == args.steps:
            out.append((step, force.potential_energy(), integ.kinetic_energy()))
    return out


def main(argv: list[str] | None = None) -> None:
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
    p.add_argument("--neigh-every", type=int, default=20, help="rebuild (and migrate) every N steps (default 20)")
    p.add_argument("--seed", type=int, default=87287, help="velocity seed (default 87287, as in.lj)")
    p.add_argument("--drift-tol", type=float, default=2e-4, help="relative energy drift allowed (default 2e-4)")
    p.add_argument("--no-compare", action="store_true", help="skip the single-process reference run on rank 0")
    p.add_argument("--compare-tol", type=float, default=1e-9, help="relative difference allowed (default 1e-9)")
    args, space, comm = setup(p, (), argv)
    nx = args.nx
    ny, nz = args.ny or nx, args.nz or nx
    if args.neigh_every < 1 or args.steps < 1 or args.thermo < 1 or min(nx, ny, nz) < 1:
        p.error("--neigh-every, --steps, --thermo and the lattice sizes must be >= 1")
    pos, box = fcc_lattice(nx, ny, nz, args.density)
    vel = thermal_velocities(len(pos), args.temperature, args.seed)
    natoms = len(pos)
    cart = kkmpi.Cart([0, 0, 0], periods=True, comm=comm)
    try:
        dom = Domain(cart, box, args.cutoff + args.skin)
        mine = np.all((pos >= dom.lo) & (pos < dom.hi), axis=1)
        rank = Rank(comm, dom, args)
        rank.rebuild(pos[mine], vel[mine])
    except ValueError as e:
        p.error(str(e))
    rank.force.compute()
    dof = 3 * natoms - 3
    say(
        comm,
        f"minimd_mpi: {natoms} atoms, box {box[0]:.4f} x {box[1]:.4f} x {box[2]:.4f}, "
        f"{cart.dims[0]} x {cart.dims[1]} x {cart.dims[2]} bricks, dt {args.dt}",
        f"{'Step':>8} {'Temp':>12} {'PotEng':>14} {'KinEng':>14} {'TotEng':>14}   (energies per atom)",
    )
    thermo = []

    def report(step: int) -> None:
        pe, ke = rank.energies()
        thermo.append((step, pe, ke))
        say(
            comm,
            f"{step:>8d} {2.0 * ke / dof:>12.6f} {pe / natoms:>14.8f} {ke / natoms:>14.8f} {(pe + ke) / natoms:>14.8f}",
        )

    report(0)
    rank.warm_up()
    counts_ok = True
    comm.Barrier()
    t0 = MPI.Wtime()
    for step in range(1, args.steps + 1):
        rank.step(step)
        if step % args.neigh_every == 0:
            counts_ok &= kkmpi.allreduce(rank.nlocal, comm=comm) == natoms
        if step % args.thermo == 0 or step == args.steps:
            report(step)
    pk.fence()
    seconds = kkmpi.allreduce(MPI.Wtime() - t0, pk.Max, comm)
    e0 = thermo[0][1] + thermo[0][2]
    e_end = thermo[-1][1] + thermo[-1][2]
    drift_rel = (e_end - e0) / abs(e0)
    mom = rank.momentum()
    ghosts = kkmpi.allreduce(rank.x.shape[0] - rank.nlocal, comm=comm)
    say(
        comm,
        f"loop {seconds:.3f} s for {args.steps} steps, {natoms * args.steps / seconds:.4g} atom-steps/s, "
        f"{ghosts} ghost atoms over {cart.size} ranks",
        f"energy drift: (E_end - E_0) / |E_0| = {drift_rel:.3e}",
    )
    problems = []
    if not counts_ok:
        problems.append("atoms were lost or duplicated in migration")
    if not abs(drift_rel) < args.drift_tol:
        problems.append(f"energy drift {drift_rel:.3e} exceeds {args.drift_tol:.1e}")
    if not np.all(np.abs(mom) < 1e-9 * natoms):
        problems.append(f"total momentum {mom} is not zero")
    if not args.no_compare:
        worst = 0.0
        if comm.Get_rank() == 0:
            ref = serial_reference(pos, vel, box, args)
            for (s1, pe1, ke1), (s2, pe2, ke2) in zip(thermo, ref, strict=True):
                assert s1 == s2
                worst = max(worst, abs(pe1 - pe2) / abs(pe2), abs(ke1 - ke2) / abs(ke2))
        worst = comm.bcast(worst, root=0)
        say(comm, f"single-process reference: largest relative difference of the energies {worst:.2e}")
        if not worst < args.compare_tol:
            problems.append(f"energies differ from the single-process run by {worst:.2e}")
    verdict(comm, not problems, "; ".join(problems) or f"drift {drift_rel:.2e}, momentum {np.max(np.abs(mom)):.1e}")


if __name__ == "__main__":
    main()
