"""Lennard-Jones forces and potential energy over a neighbor list (ClassSty).

U(r) = 4 (r^-12 - r^-6) - U(rc) for r < rc (epsilon = sigma = 1). The forces are those of the truncated
potential; the energy shift U(rc) (`shift=True`) makes the potential continuous at the cutoff, so that the
total energy printed is the quantity velocity Verlet conserves (without it, every pair crossing the cutoff
makes the energy jump by U(rc), as in ExaMiniMD's output). With a full list each atom sums its own force;
with a half list each pair is visited once and both atoms are updated, the partner with `pk.atomic_add`.
"""

from __future__ import annotations

from neighbor import NeighborList, min_image

import kernelkit as pk


@pk.functor
class ForceLJ:
    def __init__(self, x: pk.View2D[pk.double], f: pk.View2D[pk.double], nl: NeighborList, cutoff: float, shift: bool):
        self.n: int = x.extent(0)
        self.x: pk.View2D[pk.double] = x
        self.f: pk.View2D[pk.double] = f
        self.nl = nl
        self.neigh: pk.View2D[pk.int32] = nl.neigh
        self.num_neigh: pk.View1D[pk.int32] = nl.num_neigh
        self.half: bool = nl.half
        self.lx: float = nl.lx
        self.ly: float = nl.ly
        self.lz: float = nl.lz
        self.cutsq: float = cutoff * cutoff
        sr6 = cutoff**-6
        self.eshift: float = 4.0 * sr6 * (sr6 - 1.0) if shift else 0.0

    @pk.workunit
    def zero(self, i: int):
        self.f[i][0] = 0.0
        self.f[i][1] = 0.0
        self.f[i][2] = 0.0

    @pk.workunit
    def force_full(self, i: int):
        xi: float = self.x[i][0]
        yi: float = self.x[i][1]
        zi: float = self.x[i][2]
        fx: float = 0.0
        fy: float = 0.0
        fz: float = 0.0
        for k in range(self.num_neigh[i]):
            j: int = self.neigh[i][k]
            dx: float = min_image(xi - self.x[j][0], self.lx)
            dy: float = min_image(yi - self.x[j][1], self.ly)
            dz: float = min_image(zi - self.x[j][2], self.lz)
            rsq: float = dx * dx + dy * dy + dz * dz
            if rsq < self.cutsq:
                sr2: float = 1.0 / rsq
                sr6: float = sr2 * sr2 * sr2
                fpair: float = 48.0 * sr6 * (sr6 - 0.5) * sr2
                fx += dx * fpair
                fy += dy * fpair
                fz += dz * fpair
        self.f[i][0] = fx
        self.f[i][1] = fy
        self.f[i][2] = fz

    @pk.workunit
    def force_half(self, i: int):
        xi: float = self.x[i][0]
        yi: float = self.x[i][1]
        zi: float = self.x[i][2]
        fx: float = 0.0
        fy: float = 0.0
        fz: float = 0.0
        for k in range(self.num_neigh[i]):
            j: int = self.neigh[i][k]
            dx: float = min_image(xi - self.x[j][0], self.lx)
            dy: float = min_image(yi - self.x[j][1], self.ly)
            dz: float = min_image(zi - self.x[j][2], self.lz)
            rsq: float = dx * dx + dy * dy + dz * dz
            if rsq < self.cutsq:
                sr2: float = 1.0 / rsq
                sr6: float = sr2 * sr2 * sr2
                fpair: float = 48.0 * sr6 * (sr6 - 0.5) * sr2
                fx += dx * fpair
                fy += dy * fpair
                fz += dz * fpair
                pk.atomic_add(self.f, [j, 0], -dx * fpair)
                pk.atomic_add(self.f, [j, 1], -dy * fpair)
                pk.atomic_add(self.f, [j, 2], -dz * fpair)
        pk.atomic_add(self.f, [i, 0], fx)
        pk.atomic_add(self.f, [i, 1], fy)
        pk.atomic_add(self.f, [i, 2], fz)

    @pk.workunit
    def energy(self, i: int, acc: pk.Acc[pk.double]):
        xi: float = self.x[i][0]
        yi: float = self.x[i][1]
        zi: float = self.x[i][2]
        e: float = 0.0
        for k in range(self.num_neigh[i]):
            j: int = self.neigh[i][k]
            dx: float = min_image(xi - self.x[j][0], self.lx)
            dy: float = min_image(yi - self.x[j][1], self.ly)
            dz: float = min_image(zi - self.x[j][2], self.lz)
            rsq: float = dx * dx + dy * dy + dz * dz
            if rsq < self.cutsq:
                sr2: float = 1.0 / rsq
                sr6: float = sr2 * sr2 * sr2
                e += 4.0 * sr6 * (sr6 - 1.0) - self.eshift
        acc += e if self.half else 0.5 * e

    def compute(self) -> None:
        self.neigh = self.nl.neigh  # the list's View is replaced when it grows
        if self.half:
            pk.parallel_for("Force::zero", self.n, self.zero)
            pk.parallel_for("ForceLJNeigh::compute_half", self.n, self.force_half)
        else:
            pk.parallel_for("ForceLJNeigh::compute_full", self.n, self.force_full)

    def potential_energy(self) -> float:
        self.neigh = self.nl.neigh
        return pk.parallel_reduce("ForceLJNeigh::energy", self.n, self.energy)

    def warm_up(self) -> None:
        for wu in (self.zero, self.force_half if self.half else self.force_full):
            pk.parallel_for(0, wu)
        pk.parallel_reduce(0, self.energy)
