"""Team-level results on every space: a top-level team reduction joins every team thread's accumulator (with
every reducer), every thread sees the whole nested reduction / scan total, repeated team reductions do not
race on shared slots, and outer code runs per thread."""

from __future__ import annotations

import numpy as np
import pytest
from team_helpers import TEAM_SIZES, VECTOR_LENGTHS, count_threads, max_team_size, need_team_size, small

import kernelkit as pk

# ==========================================================================================================
# A top-level team reduction sums every team thread's accumulator (not every vector lane's).
# ==========================================================================================================


@pk.workunit
def count_teams(team: pk.TeamMember, acc: pk.Acc[pk.int64]):
    def once():
        nonlocal acc
        acc += team.league_rank() + 1

    pk.single(pk.PerTeam(team), once)


@pytest.mark.parametrize("ts", TEAM_SIZES)
@pytest.mark.parametrize("vl", VECTOR_LENGTHS)
def test_top_level_team_reduce_counts(space, ts, vl):
    need_team_size(space, ts)
    L = 7
    assert pk.parallel_reduce(pk.TeamPolicy(space, L, ts, vl), count_threads) == L * ts
    assert pk.parallel_reduce(pk.TeamPolicy(space, L, ts, vl), count_teams) == L * (L + 1) // 2


# ==========================================================================================================
# Team-level results are the team's: every thread sees the whole reduction / scan total (Kokkos), repeated
# team reductions do not race on shared slots, and outer code runs per thread.
# ==========================================================================================================


@pk.workunit
def every_thread_sees_result(
    team: pk.TeamMember, n: int, reps: int, x: pk.View2D[pk.double], out: pk.View3D[pk.double]
):
    e: int = team.league_rank()
    t: int = team.team_rank()
    s_thread: float = 0.0
    s_tv: float = 0.0
    s_scan: float = 0.0
    for k in range(reps):

        def f(i: int, a: pk.Acc[pk.double]):
            a += x[e][i] * (k + 1)  # noqa: B023

        s_thread += pk.parallel_reduce(pk.TeamThreadRange(team, n), f)
        s_tv += pk.parallel_reduce(pk.TeamVectorRange(team, n), f)

        def g(i: int, p: pk.Acc[pk.double], final: bool):
            p += x[e][i] * (k + 1)  # noqa: B023

        s_scan += pk.parallel_scan(pk.TeamThreadRange(team, n), g)

    def w():
        out[e][t][0] = s_thread
        out[e][t][1] = s_tv
        out[e][t][2] = s_scan

    pk.single(pk.PerThread(team), w)


@pytest.mark.parametrize("ts,vl", [(1, 1), (2, 1), (2, 4), (3, 32), (4, 4)])
def test_team_results_reach_every_thread(space, rng, ts, vl):
    need_team_size(space, ts)
    E, n, reps = 3, small(space, 37, 7), small(space, 25, 4)
    x = rng.integers(-9, 9, (E, n)).astype(np.float64)
    out = np.full((E, ts, 3), np.nan)
    pk.parallel_for(pk.TeamPolicy(space, E, ts, vl), every_thread_sees_result, n=n, reps=reps, x=x, out=out)
    expect = x.sum(axis=1) * (reps * (reps + 1) // 2)
    np.testing.assert_array_equal(out, np.broadcast_to(expect[:, None, None], (E, ts, 3)))


@pk.workunit
def nested_early_return(team: pk.TeamMember, n: int, x: pk.View2D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank()

    def f(i: int, a: pk.Acc[pk.double]):
        if i % 3 == 0:
            return  # ends this iteration only
        a += x[e][i]

    s: float = pk.parallel_reduce(pk.TeamThreadRange(team, n), f)

    def g(i: int):
        if x[e][i] < 0:
            return
        out[e][i + 1] = x[e][i]

    pk.parallel_for(pk.TeamVectorRange(team, n), g)

    def w():
        out[e][0] = s

    pk.single(pk.PerTeam(team), w)


def test_nested_workunit_return_ends_one_iteration(space, rng):
    ts = min(2, max_team_size(space))
    E, n = 3, 20
    x = rng.integers(-9, 9, (E, n)).astype(np.float64)
    out = np.zeros((E, n + 1))
    pk.parallel_for(pk.TeamPolicy(space, E, ts, 4), nested_early_return, n=n, x=x, out=out)
    keep = np.arange(n) % 3 != 0
    np.testing.assert_array_equal(out[:, 0], (x * keep).sum(axis=1))
    np.testing.assert_array_equal(out[:, 1:], np.where(x < 0, 0.0, x))


@pk.workunit
def closure_scoping(team: pk.TeamMember, n: int, x: pk.View2D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank()
    s: float = 100.0
    i: int = 7

    def f(i: int, a: pk.Acc[pk.double]):  # `i` shadows the outer i; `s` assigned here is f's own
        s: float = x[e][i] * scale
        a += s

    scale: float = 2.0  # assigned after the def, before the call: Python closures see it
    r: float = pk.parallel_reduce(pk.TeamThreadRange(team, n), f)

    def w():
        out[e][0] = r
        out[e][1] = s
        out[e][2] = i

    pk.single(pk.PerTeam(team), w)


def test_nested_workunit_python_scoping(space, rng):
    ts = min(2, max_team_size(space))
    E, n = 3, 11
    x = rng.integers(-9, 9, (E, n)).astype(np.float64)
    out = np.zeros((E, 3))
    pk.parallel_for(pk.TeamPolicy(space, E, ts, 1), closure_scoping, n=n, x=x, out=out)
    np.testing.assert_array_equal(out[:, 0], 2.0 * x.sum(axis=1))
    np.testing.assert_array_equal(out[:, 1], 100.0)
    np.testing.assert_array_equal(out[:, 2], 7.0)


@pk.workunit
def team_label_kwargs(team, acc, x):
    acc += x[team.league_rank() * team.team_size() + team.team_rank()]


def test_team_workunit_unannotated_with_label(space, rng):
    ts = min(2, max_team_size(space))
    L = 5
    x = rng.standard_normal(L * ts)
    r = pk.parallel_reduce("labelled", pk.TeamPolicy(space, np.int64(L), ts, vector_length=4), team_label_kwargs, x=x)
    assert r == pytest.approx(x.sum(), rel=1e-12)


# ==========================================================================================================
# Every reducer at the top level of a team reduction: each team thread's accumulator is joined.
# ==========================================================================================================


@pk.workunit
def top_max(team: pk.TeamMember, acc: pk.Acc[pk.double], x: pk.View2D[pk.double]):
    acc = max(acc, x[team.league_rank()][team.team_rank()])


@pk.workunit
def top_min(team: pk.TeamMember, acc: pk.Acc[pk.double], x: pk.View2D[pk.double]):
    acc = min(acc, x[team.league_rank()][team.team_rank()])


@pk.workunit
def top_prod(team: pk.TeamMember, acc: pk.Acc[pk.double], x: pk.View2D[pk.double]):
    acc *= x[team.league_rank()][team.team_rank()]


@pk.workunit
def top_maxloc(team: pk.TeamMember, acc: pk.Acc[pk.double], x: pk.View2D[pk.double]):
    e: int = team.league_rank()
    t: int = team.team_rank()
    if x[e][t] > acc.val:
        acc.val = x[e][t]
        acc.loc = e * team.team_size() + t


@pk.workunit
def top_bor(team: pk.TeamMember, acc: pk.Acc[pk.int64], x: pk.View2D[pk.int64]):
    acc |= x[team.league_rank()][team.team_rank()]


@pk.workunit
def top_land(team: pk.TeamMember, acc: pk.Acc[bool], x: pk.View2D[pk.double]):
    acc = acc and x[team.league_rank()][team.team_rank()] > 0


@pytest.mark.parametrize("ts", TEAM_SIZES)
def test_top_level_team_reduce_reducers(space, rng, ts):
    need_team_size(space, ts)
    L = 6
    x = rng.permutation(L * ts).reshape(L, ts).astype(np.float64) - 3
    pol = pk.TeamPolicy(space, L, ts, 4)
    assert pk.parallel_reduce(pol, top_max, pk.Max, x=x) == x.max()
    assert pk.parallel_reduce(pol, top_min, pk.Min, x=x) == x.min()
    p = rng.choice([0.5, 2.0, -1.0], (L, ts))
    assert pk.parallel_reduce(pol, top_prod, pk.Prod, x=p) == np.prod(p)
    ml = pk.parallel_reduce(pol, top_maxloc, pk.MaxLoc, x=x)
    assert (ml[0], int(ml[1])) == (x.max(), int(np.argmax(x)))  # top level: a (val, loc) tuple (issue 2)
    bits = (np.int64(1) << rng.integers(0, 62, (L, ts))).astype(np.int64)
    assert pk.parallel_reduce(pol, top_bor, pk.BOr, x=bits) == np.bitwise_or.reduce(bits.ravel())
    assert bool(pk.parallel_reduce(pol, top_land, pk.LAnd, x=np.abs(x) + 1)) is True
    assert bool(pk.parallel_reduce(pol, top_land, pk.LAnd, x=x)) is bool((x > 0).all())
