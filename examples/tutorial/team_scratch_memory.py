"""Kokkos tutorial exercise "team_scratch_memory": team scratch pads (FunctionSty).

As team_vector_loop (E problems y_e^T A_e x_e, one team each), but each team first copies its x_e into a
level-0 scratch View (`pk.ScratchView1D[pk.double](team.team_scratch(0), M)`: shared memory on a GPU),
synchronizes with `team.team_barrier()`, and reads x from the scratch pad in the inner loop. The policy
requests the bytes with `set_scratch_size(0, pk.PerTeam(pk.ScratchView1D[pk.double].shmem_size(M)))`.
Checked exactly against NumPy."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _common import Stopwatch, setup, verdict  # noqa: E402
from _yax import parser  # noqa: E402

import kernelkit as pk  # noqa: E402


@pk.workunit
def init(
    team: pk.TeamMember,
    N: int,
    M: int,
    y: pk.View2D[pk.double],
    x: pk.View2D[pk.double],
    A: pk.View3D[pk.double],
):
    e: int = team.league_rank()

    def rows(j: int):
        y[e][j] = (e + j) % 3 + 1
        for i in range(M):
            A[e][j][i] = (e + j + 2 * i) % 7 - 2

    pk.parallel_for(pk.TeamThreadRange(team, N), rows)

    def xs(i: int):
        x[e][i] = (e * i) % 5 + 1

    pk.parallel_for(pk.TeamVectorRange(team, M), xs)


@pk.workunit
def yAx(
    team: pk.TeamMember,
    acc: pk.Acc[pk.double],
    N: int,
    M: int,
    y: pk.View2D[pk.double],
    x: pk.View2D[pk.double],
    A: pk.View3D[pk.double],
):
    e: int = team.league_rank()
    s_x = pk.ScratchView1D[pk.double](team.team_scratch(0), M)

    if team.team_rank() == 0:

        def load(i: int):
            s_x[i] = x[e][i]

        pk.parallel_for(pk.ThreadVectorRange(team, M), load)
    team.team_barrier()

    def row(j: int, row_acc: pk.Acc[pk.double]):
        def col(i: int, col_acc: pk.Acc[pk.double]):
            col_acc += A[e][j][i] * s_x[i]

        tempM: float = pk.parallel_reduce(pk.ThreadVectorRange(team, M), col)
        row_acc += y[e][j] * tempM

    tempN: float = pk.parallel_reduce(pk.TeamThreadRange(team, N), row)

    def add():
        nonlocal acc
        acc += tempN

    pk.single(pk.PerTeam(team), add)


def reference(E: int, N: int, M: int) -> float:
    e = np.arange(E)[:, None, None]
    j = np.arange(N)[None, :, None]
    i = np.arange(M)[None, None, :]
    A = ((e + j + 2 * i) % 7 - 2).astype(np.float64)
    y = ((np.arange(E)[:, None] + np.arange(N)[None, :]) % 3 + 1).astype(np.float64)
    x = ((np.arange(E)[:, None] * np.arange(M)[None, :]) % 5 + 1).astype(np.float64)
    return float(np.einsum("ej,eji,ei->", y, A, x))


def main() -> None:
    p = parser(__doc__, n=256, m=256)
    p.add_argument("-E", "--problems", type=int, default=64, help="number of problems, one per team (default 64)")
    p.add_argument("--vector-length", type=int, default=32, help="vector lanes per thread (power of 2, <= 32)")
    args, space = setup(p)
    E, N, M = args.problems, args.rows, args.cols
    y = pk.View([E, N], pk.double)
    x = pk.View([E, M], pk.double)
    A = pk.View([E, N, M], pk.double)
    views = dict(N=N, M=M, y=y, x=x, A=A)
    pk.parallel_for("init", pk.TeamPolicy(E, pk.AUTO, args.vector_length), init, **views)

    policy = pk.TeamPolicy(E, pk.AUTO, args.vector_length)
    policy.set_scratch_size(0, pk.PerTeam(pk.ScratchView1D[pk.double].shmem_size(M)))
    result = pk.parallel_reduce("yAx", policy, yAx, **views)
    sw = Stopwatch()
    for _ in range(args.repeat):
        with sw:
            result = pk.parallel_reduce("yAx", policy, yAx, **views)
    ref = reference(E, N, M)
    gbs = 8.0 * E * (N * M + N + M) / sw.mean / 1e9
    print(
        f"team_scratch_memory: E={E} N={N} M={M} result={result!r} reference={ref!r} "
        f"time={sw.total:.4f}s ({args.repeat} repeats, {gbs:.2f} GB/s)"
    )
    verdict(result == ref, f"sum_e y_e^T A_e x_e = {result!r}")


if __name__ == "__main__":
    main()
