"""Nested ranges on every space: TeamThreadMDRange of rank 2 and 3 (for and reduce), and a nested parallel_for
over every range kind visits each index exactly once, for team sizes 1-4 and vector lengths 1, 4, 32."""

from __future__ import annotations

import numpy as np
import pytest
from team_helpers import TEAM_SIZES, VECTOR_LENGTHS, need_team_size, small

import kernelkit as pk

# ==========================================================================================================
# TeamThreadMDRange rank 2 and 3 (for and reduce).
# ==========================================================================================================


@pk.workunit
def md2_fill(team: pk.TeamMember, n0: int, n1: int, out: pk.View3D[pk.int64], hits: pk.View3D[pk.int64]):
    e: int = team.league_rank()

    def f(i: int, j: int):
        out[e][i][j] = e * 10000 + i * 100 + j
        hits[e][i][j] += 1

    pk.parallel_for(pk.TeamThreadMDRange(team, n0, n1), f)


@pk.workunit
def md3_fill(team: pk.TeamMember, n0: int, n1: int, n2: int, out: pk.View4D[pk.int64], hits: pk.View4D[pk.int64]):
    e: int = team.league_rank()

    def f(i: int, j: int, k: int):
        out[e][i][j][k] = e * 1000000 + i * 10000 + j * 100 + k
        hits[e][i][j][k] += 1

    pk.parallel_for(pk.TeamThreadMDRange(team, n0, n1, n2), f)


@pk.workunit
def md2_reduce(team: pk.TeamMember, n0: int, n1: int, x: pk.View3D[pk.double], out: pk.View1D[pk.double]):
    e: int = team.league_rank()

    def f(i: int, j: int, a: pk.Acc[pk.double]):
        a += x[e][i][j] * (i + 1)

    s: float = pk.parallel_reduce(pk.TeamThreadMDRange(team, n0, n1), f)

    def w():
        out[e] = s

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def md3_reduce_max(team: pk.TeamMember, n0: int, n1: int, n2: int, x: pk.View4D[pk.double], out: pk.View1D[pk.double]):
    e: int = team.league_rank()

    def f(i: int, j: int, k: int, a: pk.Acc[pk.double]):
        a = max(a, x[e][i][j][k])

    s: float = pk.parallel_reduce(pk.TeamThreadMDRange(team, n0, n1, n2), f, pk.Max)

    def w():
        out[e] = s

    pk.single(pk.PerTeam(team), w)


@pytest.mark.parametrize("ts,vl", [(1, 1), (2, 4), (3, 32)])
@pytest.mark.parametrize("n0,n1", [(5, 7), (1, 9), (6, 1), (0, 4)])
def test_team_thread_mdrange_rank2(space, rng, ts, vl, n0, n1):
    need_team_size(space, ts)
    E = 3
    out = np.full((E, n0, n1), -1, dtype=np.int64)
    hits = np.zeros((E, n0, n1), dtype=np.int64)
    pk.parallel_for(pk.TeamPolicy(space, E, ts, vl), md2_fill, n0=n0, n1=n1, out=out, hits=hits)
    e, i, j = np.indices((E, n0, n1))
    np.testing.assert_array_equal(out, e * 10000 + i * 100 + j)
    np.testing.assert_array_equal(hits, 1)
    x = rng.integers(-20, 20, (E, n0, n1)).astype(np.float64)
    red = np.full(E, np.nan)
    pk.parallel_for(pk.TeamPolicy(space, E, ts, vl), md2_reduce, n0=n0, n1=n1, x=x, out=red)
    np.testing.assert_array_equal(red, (x * (np.arange(n0) + 1)[None, :, None]).sum(axis=(1, 2)))


@pytest.mark.parametrize("ts,vl", [(1, 1), (2, 4), (4, 32)])
@pytest.mark.parametrize("n0,n1,n2", [(3, 4, 5), (2, 1, 7), (1, 3, 1)])
def test_team_thread_mdrange_rank3(space, rng, ts, vl, n0, n1, n2):
    need_team_size(space, ts)
    E = 2
    out = np.full((E, n0, n1, n2), -1, dtype=np.int64)
    hits = np.zeros((E, n0, n1, n2), dtype=np.int64)
    pk.parallel_for(pk.TeamPolicy(space, E, ts, vl), md3_fill, n0=n0, n1=n1, n2=n2, out=out, hits=hits)
    e, i, j, k = np.indices((E, n0, n1, n2))
    np.testing.assert_array_equal(out, e * 1000000 + i * 10000 + j * 100 + k)
    np.testing.assert_array_equal(hits, 1)
    x = rng.standard_normal((E, n0, n1, n2))
    red = np.full(E, np.nan)
    pk.parallel_for(pk.TeamPolicy(space, E, ts, vl), md3_reduce_max, n0=n0, n1=n1, n2=n2, x=x, out=red)
    np.testing.assert_array_equal(red, x.max(axis=(1, 2, 3)))


# ==========================================================================================================
# Nested parallel_for over every range kind: each index visited exactly once.
# ==========================================================================================================


@pk.workunit
def visit_thread(team: pk.TeamMember, n: int, hits: pk.View2D[pk.int64]):
    e: int = team.league_rank()

    def f(i: int):
        hits[e][i] += 1

    pk.parallel_for(pk.TeamThreadRange(team, n), f)


@pk.workunit
def visit_teamvector(team: pk.TeamMember, n: int, hits: pk.View2D[pk.int64]):
    e: int = team.league_rank()

    def f(i: int):
        hits[e][i] += 1

    pk.parallel_for(pk.TeamVectorRange(team, n), f)


@pk.workunit
def visit_thread_vector(team: pk.TeamMember, R: int, n: int, hits: pk.View3D[pk.int64]):
    e: int = team.league_rank()

    def row(r: int):
        def f(i: int):
            hits[e][r][i] += 1

        pk.parallel_for(pk.ThreadVectorRange(team, n), f)

    pk.parallel_for(pk.TeamThreadRange(team, R), row)


@pytest.mark.parametrize("ts", TEAM_SIZES)
@pytest.mark.parametrize("vl", VECTOR_LENGTHS)
def test_nested_for_visits_each_index_once(space, ts, vl):
    need_team_size(space, ts)
    E, R, n = 3, 5, small(space, 70, 13)
    for wu in (visit_thread, visit_teamvector):
        hits = np.zeros((E, n), dtype=np.int64)
        pk.parallel_for(pk.TeamPolicy(space, E, ts, vl), wu, n=n, hits=hits)
        np.testing.assert_array_equal(hits, 1, err_msg=wu.__name__ if hasattr(wu, "__name__") else str(wu))
    hits3 = np.zeros((E, R, n), dtype=np.int64)
    pk.parallel_for(pk.TeamPolicy(space, E, ts, vl), visit_thread_vector, R=R, n=n, hits=hits3)
    np.testing.assert_array_equal(hits3, 1)


# ==========================================================================================================
# The team constructs imported by name (`from kernelkit import TeamThreadRange, ...`) mean what pk.<name> means.
# ==========================================================================================================

from kernelkit import Max, PerTeam, ScratchView1D, TeamThreadRange, single  # noqa: E402


@pk.workunit
def imported_names(team: pk.TeamMember, n: int, x: pk.View2D[pk.double], out: pk.View1D[pk.double]):
    e = team.league_rank()
    s = ScratchView1D[pk.double](team.team_scratch(0), n)

    def fill(j):
        s[j] = x[e, j]

    pk.parallel_for(TeamThreadRange(team, n), fill)
    team.team_barrier()

    def biggest(j, acc):
        acc = max(acc, s[j])

    m = pk.parallel_reduce(TeamThreadRange(team, n), biggest, Max)

    def store():
        out[e] = m

    single(PerTeam(team), store)


def test_team_constructs_imported_by_name(space, rng):
    L, n = 3, 9
    x = rng.standard_normal((L, n))
    out = np.zeros(L)
    policy = pk.TeamPolicy(space, L, pk.AUTO).set_scratch_size(0, pk.PerTeam(pk.ScratchView1D[pk.double].shmem_size(n)))
    pk.parallel_for(policy, imported_names, n=n, x=x, out=out)
    np.testing.assert_array_equal(out, x.max(axis=1))
