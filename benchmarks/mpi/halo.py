"""Halo exchange through `Cart.halo_exchange` against hand-written mpi4py exchanges of NumPy arrays of the
same bytes, in the same run (mpiexec -n 2 or more).

For each case a block View with a halo of one cell is exchanged `--reps` times; the bare versions move the
same bytes per direction as contiguous NumPy arrays (what a program that has already packed its planes does):
two blocking `comm.Sendrecv` per axis, and `Isend`/`Irecv` of both directions with one `Waitall` per axis
(what halo_exchange does, with persistent requests). Cases: planes along the rows (contiguous), along the
columns (strided: MPI derived datatypes), and with 4 ranks or more a 2-D grid (both). Reported: time per
exchange (the best of --trials medians, the versions interleaved call by call), bandwidth (bytes received
per rank and second) and the ratios kernelkit / bare.

    mpiexec -n 2 python benchmarks/mpi/halo.py --json halo.json
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from mpi4py import MPI

import kernelkit as pk
from kernelkit import mpi as kkmpi


def bare_exchange(comm, cart, sends, recvs):
    sendrecv = comm.Sendrecv
    for d, (lower, upper) in enumerate(cart.neighbors):
        if lower == MPI.PROC_NULL and upper == MPI.PROC_NULL:
            continue
        sendrecv(sends[d][0], upper, 0, recvs[d][0], lower, 0)
        sendrecv(sends[d][1], lower, 1, recvs[d][1], upper, 1)


def bare_nonblocking(comm, cart, sends, recvs):
    for d, (lower, upper) in enumerate(cart.neighbors):
        if lower == MPI.PROC_NULL and upper == MPI.PROC_NULL:
            continue
        reqs = [
            comm.Irecv(recvs[d][0], lower, 0),
            comm.Irecv(recvs[d][1], upper, 1),
            comm.Isend(sends[d][0], upper, 0),
            comm.Isend(sends[d][1], lower, 1),
        ]
        MPI.Request.Waitall(reqs)


def bare_packed(comm, cart, a, sends, recvs):
    """What a hand-written program does for planes it has not packed: NumPy copies around two Sendrecv."""
    n = a.shape[0] - 2
    for d, (lower, upper) in enumerate(cart.neighbors):
        if lower == MPI.PROC_NULL and upper == MPI.PROC_NULL:
            continue
        own_hi, own_lo = (a[n : n + 1], a[1:2]) if d == 0 else (a[:, n : n + 1], a[:, 1:2])
        halo_lo, halo_hi = (a[0:1], a[n + 1 :]) if d == 0 else (a[:, 0:1], a[:, n + 1 :])
        np.copyto(sends[d][0], own_hi.reshape(-1))
        comm.Sendrecv(sends[d][0], upper, 0, recvs[d][0], lower, 0)
        np.copyto(halo_lo, recvs[d][0].reshape(halo_lo.shape))
        np.copyto(sends[d][1], own_lo.reshape(-1))
        comm.Sendrecv(sends[d][1], lower, 1, recvs[d][1], upper, 1)
        np.copyto(halo_hi, recvs[d][1].reshape(halo_hi.shape))


def timed(comm, fns, reps: int, trials: int) -> list[float]:
    """Per-call times of several exchanges, interleaved call by call (so that load on a shared machine hits
    all alike): for each, the smallest of the trials' medians, the slowest rank's."""
    best = [float("inf")] * len(fns)
    for _ in range(trials):
        for fn in fns:
            fn()
        comm.Barrier()
        samples: list[list[float]] = [[] for _ in fns]
        for _ in range(reps):
            for k, fn in enumerate(fns):
                t = MPI.Wtime()
                fn()
                samples[k].append(MPI.Wtime() - t)
        for k in range(len(fns)):
            best[k] = min(best[k], float(np.median(samples[k])))
    return [comm.allreduce(b, op=MPI.MAX) for b in best]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 512, 4096], help="block side (default 64 512 4096)")
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--space", choices=["host", "cuda"], default="host", help="Views in host or GPU memory")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    comm = kkmpi.init()
    if args.space == "cuda":
        pk.set_default_space(pk.Cuda)
    rows = []
    size = comm.Get_size()
    cases = [
        ("rows (contiguous planes)", [size, 1], [True, False]),
        ("columns (strided planes)", [1, size], [False, True]),
    ]
    if size >= 4:
        cases.append(("2-D grid", [0, 0], [True, True]))
    for label, dims, periods in cases:
        cart = kkmpi.Cart(dims, periods=periods)
        for n in args.sizes:
            space = pk.CudaSpace if args.space == "cuda" else pk.HostSpace
            v = pk.View([n + 2, n + 2], pk.double, space=space)
            v.fill(1.0)
            plane = (n + 2) * 8
            sends = [[np.ones(n + 2) for _ in range(2)] for _ in range(2)]
            recvs = [[np.empty(n + 2) for _ in range(2)] for _ in range(2)]
            axes = sum(1 for lo, hi in cart.neighbors if not (lo == MPI.PROC_NULL and hi == MPI.PROC_NULL))
            a = np.ones((n + 2, n + 2))
            t_kk, t_bare, t_nb, t_pk = timed(
                comm,
                [
                    lambda v=v, cart=cart: cart.halo_exchange(v, 1),
                    lambda cart=cart, s=sends, r=recvs: bare_exchange(comm, cart, s, r),
                    lambda cart=cart, s=sends, r=recvs: bare_nonblocking(comm, cart, s, r),
                    lambda cart=cart, a=a, s=sends, r=recvs: bare_packed(comm, cart, a, s, r),
                ],
                args.reps,
                args.trials,
            )
            row = {
                "ranks": comm.Get_size(),
                "case": label,
                "grid": list(cart.dims),
                "block": n,
                "space": args.space,
                "bytes_per_exchange": 2 * axes * plane,
                "kernelkit_us": t_kk * 1e6,
                "sendrecv_us": t_bare * 1e6,
                "isend_irecv_us": t_nb * 1e6,
                "numpy_packed_sendrecv_us": t_pk * 1e6,
                "ratio": t_kk / t_bare,
                "ratio_numpy_packed": t_kk / t_pk,
                "ratio_nonblocking": t_kk / t_nb,
                "kernelkit_GBps": 2 * axes * plane / t_kk * 1e-9,
                "sendrecv_GBps": 2 * axes * plane / t_bare * 1e-9,
            }
            rows.append(row)
            if comm.Get_rank() == 0:
                print(
                    f"{label}, grid {row['grid']}, block {n}: halo_exchange {row['kernelkit_us']:.1f} us, "
                    "bare Sendrecv "
                    f"{row['sendrecv_us']:.1f} us (ratio {row['ratio']:.3f}), bare Isend/Irecv "
                    f"{row['isend_irecv_us']:.1f} us (ratio {row['ratio_nonblocking']:.3f}), NumPy-packed Sendrecv "
                    f"{row['numpy_packed_sendrecv_us']:.1f} us (ratio {row['ratio_numpy_packed']:.3f}) "
                    f"({row['kernelkit_GBps']:.2f} vs {row['sendrecv_GBps']:.2f} GB/s)",
                    flush=True,
                )
    if comm.Get_rank() == 0 and args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
