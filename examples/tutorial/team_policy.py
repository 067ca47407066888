"""Kokkos tutorial exercise "team_policy": two-level parallelism (ClassSty).

A `pk.TeamPolicy(N, pk.AUTO)` launches one team per row j of A; the team's threads share the row's inner
product through a nested `pk.parallel_reduce(pk.TeamThreadRange(team, M), ...)` (a nested workunit written
as an inner def), and the team's rank-0 thread adds y[j] times it to the result. Checked exactly against
NumPy."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import setup  # noqa: E402
from _yax import a_value, parser, reference, report, x_value, y_value  # noqa: E402

import kernelkit as pk  # noqa: E402


@pk.functor
class TeamPolicyYAx:
    def __init__(self, N: int, M: int):
        self.N: int = N
        self.M: int = M
        self.y: pk.View1D[pk.double] = pk.View([N], pk.double)
        self.x: pk.View1D[pk.double] = pk.View([M], pk.double)
        self.A: pk.View2D[pk.double] = pk.View([N, M], pk.double)

    @pk.workunit
    def init(self, team: pk.TeamMember):
        j: int = team.league_rank()

        def row(i: int):
            self.A[j][i] = a_value(j, i)
            if j == 0:
                self.x[i] = x_value(i)

        pk.parallel_for(pk.TeamThreadRange(team, self.M), row)

        def one():
            self.y[j] = y_value(j)

        pk.single(pk.PerTeam(team), one)

    @pk.workunit
    def yAx(self, team: pk.TeamMember, acc: pk.Acc[pk.double]):
        j: int = team.league_rank()

        def inner(i: int, inner_acc: pk.Acc[pk.double]):
            inner_acc += self.A[j][i] * self.x[i]

        temp2: float = pk.parallel_reduce(pk.TeamThreadRange(team, self.M), inner)
        if team.team_rank() == 0:
            acc += self.y[j] * temp2


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--team-size", type=int, default=0, help="threads per team (default 0: pk.AUTO)")
    args, space = setup(p)
    N, M = args.rows, args.cols
    w = TeamPolicyYAx(N, M)
    policy = pk.TeamPolicy(N, args.team_size or pk.AUTO)
    pk.parallel_for("init", policy, w.init)

    result = pk.parallel_reduce("yAx", policy, w.yAx)
    timer = pk.Timer()
    for _ in range(args.repeat):
        result = pk.parallel_reduce("yAx", policy, w.yAx)
    pk.fence()
    report("team_policy", result, reference(N, M), N, M, timer.seconds(), args.repeat, 8.0 * (N * M + N + M))


if __name__ == "__main__":
    main()
