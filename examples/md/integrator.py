"""Velocity Verlet (NVE) and the kinetic energy (FunctionSty).

initial_integrate: v += dt/2 f; x += dt v, wrapped back into the periodic box.
final_integrate:   v += dt/2 f (with the forces at the new positions). Mass 1.
"""

from __future__ import annotations

import kernelkit as pk


@pk.workunit
def initial_integrate(
    i: int,
    dt: float,
    lx: float,
    ly: float,
    lz: float,
    x: pk.View2D[pk.double],
    v: pk.View2D[pk.double],
    f: pk.View2D[pk.double],
):
    half: float = 0.5 * dt
    for d in range(3):
        v[i][d] += half * f[i][d]
    px: float = x[i][0] + dt * v[i][0]
    py: float = x[i][1] + dt * v[i][1]
    pz: float = x[i][2] + dt * v[i][2]
    x[i][0] = px - lx * pk.floor(px / lx)
    x[i][1] = py - ly * pk.floor(py / ly)
    x[i][2] = pz - lz * pk.floor(pz / lz)


@pk.workunit
def final_integrate(i: int, dt: float, v: pk.View2D[pk.double], f: pk.View2D[pk.double]):
    half: float = 0.5 * dt
    for d in range(3):
        v[i][d] += half * f[i][d]


@pk.workunit
def kinetic(i: int, acc: pk.Acc[pk.double], v: pk.View2D[pk.double]):
    acc += 0.5 * (v[i][0] * v[i][0] + v[i][1] * v[i][1] + v[i][2] * v[i][2])


@pk.workunit
def momentum(i: int, acc: pk.Acc[pk.double], d: int, v: pk.View2D[pk.double]):
    acc += v[i][d]


class IntegratorNVE:
    def __init__(self, system, dt: float):
        self.s = system
        self.dt = dt
        self.lx, self.ly, self.lz = (float(b) for b in system.box)

    def initial(self) -> None:
        s = self.s
        pk.parallel_for(
            "IntegratorNVE::initial_integrate",
            s.n,
            initial_integrate,
            dt=self.dt,
            lx=self.lx,
            ly=self.ly,
            lz=self.lz,
            x=s.x,
            v=s.v,
            f=s.f,
        )

    def final(self) -> None:
        s = self.s
        pk.parallel_for("IntegratorNVE::final_integrate", s.n, final_integrate, dt=self.dt, v=s.v, f=s.f)

    def kinetic_energy(self) -> float:
        return pk.parallel_reduce("KinE", self.s.n, kinetic, v=self.s.v)

    def momentum(self) -> list[float]:
        return [pk.parallel_reduce("Momentum", self.s.n, momentum, d=d, v=self.s.v) for d in range(3)]

    def warm_up(self) -> None:
        s = self.s
        pk.parallel_for(0, initial_integrate, dt=self.dt, lx=self.lx, ly=self.ly, lz=self.lz, x=s.x, v=s.v, f=s.f)
        pk.parallel_for(0, final_integrate, dt=self.dt, v=s.v, f=s.f)
        pk.parallel_reduce(0, kinetic, v=s.v)
