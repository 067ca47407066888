"""The atoms: an FCC lattice of Lennard-Jones atoms in a periodic box, with velocities at a temperature.

Reduced (LJ) units throughout: sigma = epsilon = mass = k_B = 1. The initial state is built on the host with
NumPy (as the PyKokkos ExaMiniMD port does with Numba) and copied once into Views of the execution space's
memory, where it stays for the whole run.
"""

from __future__ import annotations

import numpy as np

import kernelkit as pk

FCC_BASIS = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])


def fcc_lattice(nx: int, ny: int, nz: int, density: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions (4 nx ny nz, 3) of an FCC lattice of unit cells of side (4 / density)^(1/3), and the box."""
    a = (4.0 / density) ** (1.0 / 3.0)
    cells = np.stack(np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij"), axis=-1)
    pos = (cells.reshape(-1, 1, 3) + FCC_BASIS[None, :, :]).reshape(-1, 3) * a
    box = np.array([nx, ny, nz], dtype=np.float64) * a
    return pos, box


def thermal_velocities(n: int, temperature: float, seed: int) -> np.ndarray:
    """Random velocities with zero total momentum, scaled so that 2 KE / (3n - 3) equals `temperature`."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(-0.5, 0.5, size=(n, 3))
    v -= v.mean(axis=0)
    ke = 0.5 * np.sum(v * v)
    t_now = 2.0 * ke / (3 * n - 3)
    if t_now > 0.0:
        v *= np.sqrt(temperature / t_now)
    return v


class System:
    """Positions `x`, velocities `v` and forces `f` (n x 3 Views in the default space's memory), and the
    box."""

    def __init__(self, nx: int, ny: int, nz: int, density: float, temperature: float, seed: int):
        pos, box = fcc_lattice(nx, ny, nz, density)
        self.n = pos.shape[0]
        self.box = box
        self.density = density
        self.x = pk.View([self.n, 3], pk.double)
        self.v = pk.View([self.n, 3], pk.double)
        self.f = pk.View([self.n, 3], pk.double)
        pk.deep_copy(self.x, pos)
        pk.deep_copy(self.v, thermal_velocities(self.n, temperature, seed))
