"""The kernels whose IR text is checked in next to this file (tests/unit/test_ir_golden.py).

Their line numbers are part of the expected text (`@12`): add kernels at the end of this file, and regenerate
the golden files after any edit here.
"""

import math

import kernelkit as pk


@pk.workunit
def axpy(i, a, x, y):
    y[i] += a * x[i]


@pk.workunit
def max_abs(i, acc, x):
    v = abs(x[i])
    if v > acc:
        acc = v


@pk.workunit
def stencil(i, j, n, u, out):
    if 0 < i < n - 1 and 0 < j < n - 1:
        out[i, j] = 0.25 * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1]) - u[i, j]


@pk.workunit
def team_rows(team: pk.TeamMember, M: int, A: pk.View2D[pk.double], x: pk.View1D[pk.double], out):
    e = team.league_rank()
    cache = pk.ScratchView1D[pk.double](team.team_scratch(0), M)

    def fill(j):
        cache[j] = x[j]

    pk.parallel_for(pk.TeamThreadRange(team, M), fill)
    team.team_barrier()

    def dot(j, acc):
        acc += A[e, j] * cache[j]

    total = pk.parallel_reduce(pk.TeamThreadRange(team, M), dot)

    def store():
        out[e] = total

    pk.single(pk.PerTeam(team), store)


@pk.classtype
class Point:
    def __init__(self, x: float, y: float):
        self.x = x
        self.y = y

    @pk.function
    def norm(self):
        return math.sqrt(self.x * self.x + self.y * self.y)


@pk.function
def clamp(v: float, lo: float, hi: float) -> float:
    return min(max(v, lo), hi)


@pk.workunit
def point_norms(i, xs, ys, out):
    p = Point(xs[i], ys[i])
    out[i] = clamp(p.norm(), 0.0, 10.0)
