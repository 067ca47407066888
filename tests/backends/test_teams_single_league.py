"""pk.single (PerTeam, PerThread, a nonlocal accumulator), league and team rank queries, league sizes 0, 1 and
larger than the thread count, and TeamPolicy without a space, on every space."""

from __future__ import annotations

import numpy as np
import pytest
from team_helpers import TEAM_SIZES, VECTOR_LENGTHS, count_threads, max_team_size, need_team_size, small, space_name

import kernelkit as pk

# ==========================================================================================================
# pk.single PerTeam / PerThread; rank queries; league sizes 0 and 1.
# ==========================================================================================================


@pk.workunit
def singles(team: pk.TeamMember, per_team: pk.View1D[pk.int64], per_thread: pk.View2D[pk.int64]):
    e: int = team.league_rank()
    t: int = team.team_rank()

    def once_team():
        per_team[e] += 1

    def once_thread():
        per_thread[e][t] += 1

    pk.single(pk.PerTeam(team), once_team)
    pk.single(pk.PerThread(team), once_thread)


@pytest.mark.parametrize("ts", TEAM_SIZES)
@pytest.mark.parametrize("vl", VECTOR_LENGTHS)
def test_single_per_team_and_per_thread(space, ts, vl):
    need_team_size(space, ts)
    E = 5
    per_team = np.zeros(E, dtype=np.int64)
    per_thread = np.zeros((E, ts), dtype=np.int64)
    pk.parallel_for(pk.TeamPolicy(space, E, ts, vl), singles, per_team=per_team, per_thread=per_thread)
    np.testing.assert_array_equal(per_team, 1)
    np.testing.assert_array_equal(per_thread, 1)


@pk.workunit
def single_value_in_reduce(team: pk.TeamMember, acc: pk.Acc[pk.double], x: pk.View1D[pk.double]):
    e: int = team.league_rank()
    v: float = x[e] * 2.0

    def once():
        nonlocal acc
        acc += v

    pk.single(pk.PerTeam(team), once)


@pytest.mark.parametrize("ts", TEAM_SIZES)
def test_single_nonlocal_accumulator(space, rng, ts):
    need_team_size(space, ts)
    x = rng.integers(-9, 9, 9).astype(np.float64)
    assert pk.parallel_reduce(pk.TeamPolicy(space, 9, ts, 4), single_value_in_reduce, x=x) == 2 * x.sum()


@pk.workunit
def rank_queries(team: pk.TeamMember, info: pk.View2D[pk.int64], seen: pk.View2D[pk.int64]):
    e: int = team.league_rank()
    t: int = team.team_rank()
    seen[e][t] = 1000 * e + t + 1

    def once():
        info[e][0] = team.league_rank()
        info[e][1] = team.league_size()
        info[e][2] = team.team_size()

    pk.single(pk.PerTeam(team), once)


@pytest.mark.parametrize("ts", [pk.AUTO] + TEAM_SIZES)
@pytest.mark.parametrize("L", [1, 6])
def test_league_and_team_rank_queries(space, ts, L):
    need_team_size(space, ts)
    width = 1024
    info = np.full((L, 3), -1, dtype=np.int64)
    seen = np.zeros((L, width), dtype=np.int64)
    pk.parallel_for(pk.TeamPolicy(space, L, ts, 1), rank_queries, info=info, seen=seen)
    np.testing.assert_array_equal(info[:, 0], np.arange(L))
    np.testing.assert_array_equal(info[:, 1], L)
    size = info[0, 2]
    if ts is pk.AUTO:
        assert 1 <= size <= width
        if space_name(space) != "Cuda":
            assert size == 1  # issue 4: AUTO is 1 on the host
    else:
        assert size == ts
    np.testing.assert_array_equal(info[:, 2], size)
    e, t = np.indices((L, size))
    np.testing.assert_array_equal(seen[:, :size], 1000 * e + t + 1)  # every team rank 0..size-1 ran
    np.testing.assert_array_equal(seen[:, size:], 0)


@pk.workunit
def league_fill(team: pk.TeamMember, out: pk.View1D[pk.int64]):
    def once():
        out[team.league_rank()] += 1

    pk.single(pk.PerTeam(team), once)


@pk.workunit
def league_sum(team: pk.TeamMember, acc: pk.Acc[pk.double]):
    def f(i: int, a: pk.Acc[pk.double]):
        a += i

    s: float = pk.parallel_reduce(pk.TeamThreadRange(team, 10), f)

    def once():
        nonlocal acc
        acc += s

    pk.single(pk.PerTeam(team), once)


def test_league_size_zero(space):
    ts = min(2, max_team_size(space))
    out = np.zeros(4, dtype=np.int64)
    pk.parallel_for(pk.TeamPolicy(space, 0, ts, 4), league_fill, out=out)
    np.testing.assert_array_equal(out, 0)
    r = pk.parallel_reduce(pk.TeamPolicy(space, 0, ts, 4), league_sum)
    assert r == 0
    assert pk.parallel_reduce(pk.TeamPolicy(space, 0, pk.AUTO), count_threads) == 0


def test_league_size_one(space):
    ts = min(2, max_team_size(space))
    out = np.zeros(4, dtype=np.int64)
    pk.parallel_for(pk.TeamPolicy(space, 1, ts, 4), league_fill, out=out)
    np.testing.assert_array_equal(out, [1, 0, 0, 0])
    assert pk.parallel_reduce(pk.TeamPolicy(space, 1, ts, 4), league_sum) == 45
    assert pk.parallel_reduce(pk.TeamPolicy(space, 1, ts), count_threads) == ts


def test_league_larger_than_threads(space):
    # many more teams than hardware threads: every team runs exactly once
    ts = min(2, max_team_size(space))
    L = small(space, 3000, 40)
    out = np.zeros(L, dtype=np.int64)
    pk.parallel_for(pk.TeamPolicy(space, L, ts, 4), league_fill, out=out)
    np.testing.assert_array_equal(out, 1)


def test_team_policy_without_space_uses_default(space, default_space):
    default_space(space)
    out = np.zeros(3, dtype=np.int64)
    pk.parallel_for(pk.TeamPolicy(3, pk.AUTO), league_fill, out=out)
    np.testing.assert_array_equal(out, 1)
    assert pk.parallel_reduce(pk.TeamPolicy(4), league_sum) == 4 * 45
