"""Kokkos tutorial exercise "team_vector_loop": three-level parallelism (ClassSty), the PyKokkos paper's
Figure 1.

E independent problems y_e^T A_e x_e (y: E x N, x: E x M, A: E x N x M, int64 as in the figure). One team per
problem e (`pk.TeamPolicy(pk.Default, E, pk.AUTO, vector_length)`); the team's threads split the rows j
(`TeamThreadRange`), each thread's vector lanes split the columns i (`ThreadVectorRange`), and one thread per
team adds the team's sum (`pk.single(pk.PerTeam(team), ...)`). The kernel is the figure's code. Checked
exactly against NumPy (int64)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _common import Stopwatch, setup, verdict  # noqa: E402
from _yax import parser  # noqa: E402

import kernelkit as pk  # noqa: E402


@pk.functor
class TeamVectorLoop:
    def __init__(self, N: int, M: int, y: pk.View2D[int], x: pk.View2D[int], A: pk.View3D[int]):
        self.N: int = N
        self.M: int = M
        self.y: pk.View2D[int] = y
        self.x: pk.View2D[int] = x
        self.A: pk.View3D[int] = A

    @pk.workunit
    def init(self, m: pk.TeamMember):
        e: int = m.league_rank()

        def rows(j: int):
            def cols(i: int):
                self.A[e][j][i] = (e + j + 2 * i) % 7 - 2

            pk.parallel_for(pk.ThreadVectorRange(m, self.M), cols)
            self.y[e][j] = (e + j) % 3 + 1

        pk.parallel_for(pk.TeamThreadRange(m, self.N), rows)

        def xs(i: int):
            self.x[e][i] = (e * i) % 5 + 1

        pk.parallel_for(pk.TeamVectorRange(m, self.M), xs)

    # Paper Figure 1, lines 13-31
    @pk.workunit
    def yAx(self, m: pk.TeamMember, acc: pk.Acc[int]):
        e: int = m.league_rank()

        def team_reduce(j: int, team_acc: pk.Acc[int]):
            def vector_reduce(i: int, vector_acc: pk.Acc[int]):
                vector_acc += self.A[e][j][i] * self.x[e][i]

            tempM: int = pk.parallel_reduce(pk.ThreadVectorRange(m, self.M), vector_reduce)
            team_acc += self.y[e][j] * tempM

        tempN: int = pk.parallel_reduce(pk.TeamThreadRange(m, self.N), team_reduce)

        def single():
            nonlocal acc
            acc += tempN

        pk.single(pk.PerTeam(m), single)


def reference(E: int, N: int, M: int) -> int:
    e = np.arange(E)[:, None, None]
    j = np.arange(N)[None, :, None]
    i = np.arange(M)[None, None, :]
    A = (e + j + 2 * i) % 7 - 2
    y = (np.arange(E)[:, None] + np.arange(N)[None, :]) % 3 + 1
    x = (np.arange(E)[:, None] * np.arange(M)[None, :]) % 5 + 1
    return int(np.einsum("ej,eji,ei->", y, A, x))


def main() -> None:
    p = parser(__doc__, n=256, m=256)
    p.add_argument("-E", "--problems", type=int, default=64, help="number of problems, one per team (default 64)")
    p.add_argument("--vector-length", type=int, default=32, help="vector lanes per thread (power of 2, <= 32)")
    args, space = setup(p)
    E, N, M = args.problems, args.rows, args.cols
    y = pk.View([E, N], dtype=int)
    x = pk.View([E, M], dtype=int)
    A = pk.View([E, N, M], dtype=int)
    t = TeamVectorLoop(N, M, y, x, A)
    policy = pk.TeamPolicy(pk.Default, E, pk.AUTO, args.vector_length)
    pk.parallel_for("init", policy, t.init)

    result = pk.parallel_reduce(policy, t.yAx)
    sw = Stopwatch()
    for _ in range(args.repeat):
        with sw:
            result = pk.parallel_reduce(policy, t.yAx)
    ref = reference(E, N, M)
    gbs = 8.0 * E * (N * M + N + M) / sw.mean / 1e9
    print(
        f"team_vector_loop: E={E} N={N} M={M} result={result} reference={ref} "
        f"time={sw.total:.4f}s ({args.repeat} repeats, {gbs:.2f} GB/s)"
    )
    verdict(result == ref and isinstance(result, (int, np.integer)), f"sum_e y_e^T A_e x_e = {result}")


if __name__ == "__main__":
    main()
