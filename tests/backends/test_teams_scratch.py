"""Team scratch memory on every space: thread_scratch private per thread, team scratch shared, several
allocations disjoint, shmem_size, rank-3 ScratchViews, mixed element types aligned, levels 0 and 1 together."""

from __future__ import annotations

import numpy as np
import pytest
from team_helpers import TEAM_SIZES, max_team_size, need_team_size

import kernelkit as pk

# ==========================================================================================================
# Scratch: per-thread isolation of thread_scratch, team scratch shared, several allocations disjoint.
# ==========================================================================================================


@pk.workunit
def thread_scratch_isolation(team: pk.TeamMember, level: int, n: int, out: pk.View2D[pk.int64]):
    e: int = team.league_rank()
    t: int = team.team_rank()
    mine = pk.ScratchView1D[pk.int64](team.thread_scratch(level), n)
    for i in range(n):
        mine[i] = 1000 * e + 10 * t + i
    team.team_barrier()  # every thread has written its own buffer before anyone reads
    bad: int = 0
    for i in range(n):
        if mine[i] != 1000 * e + 10 * t + i:
            bad += 1

    def w():
        out[e][t] = bad

    pk.single(pk.PerThread(team), w)


@pytest.mark.parametrize("level", [0, 1])
@pytest.mark.parametrize("ts", TEAM_SIZES)
def test_thread_scratch_is_private_per_thread(space, level, ts):
    need_team_size(space, ts)
    E, n = 4, 9
    out = np.full((E, ts), -1, dtype=np.int64)
    policy = pk.TeamPolicy(space, E, ts, 1).set_scratch_size(
        level, pk.PerThread(pk.ScratchView1D[pk.int64].shmem_size(n))
    )
    pk.parallel_for(policy, thread_scratch_isolation, level=level, n=n, out=out)
    np.testing.assert_array_equal(out, 0)


@pk.workunit
def team_and_thread_scratch(team: pk.TeamMember, n: int, out: pk.View2D[pk.double]):
    e: int = team.league_rank()
    t: int = team.team_rank()
    a = pk.ScratchView1D[pk.double](team.team_scratch(0), n)
    b = pk.ScratchView2D[pk.double](team.team_scratch(0), n, 2)
    c = pk.ScratchView1D[pk.double](team.thread_scratch(0), n)

    def fill(i: int):
        a[i] = 1.0 * i
        b[i][0] = 100.0 + i
        b[i][1] = 200.0 + i

    pk.parallel_for(pk.TeamThreadRange(team, n), fill)
    for i in range(n):
        c[i] = 1000.0 * (t + 1)
    team.team_barrier()

    def check(i: int, acc: pk.Acc[pk.double]):
        acc += a[i] + b[i][0] + b[i][1] + c[i]

    s: float = pk.parallel_reduce(pk.ThreadVectorRange(team, n), check)

    def w():
        out[e][t] = s

    pk.single(pk.PerThread(team), w)


@pytest.mark.parametrize("ts", TEAM_SIZES)
def test_team_scratch_allocations_disjoint(space, ts):
    need_team_size(space, ts)
    E, n = 3, 7
    out = np.full((E, ts), np.nan)
    team_bytes = pk.ScratchView1D[pk.double].shmem_size(n) + pk.ScratchView2D[pk.double].shmem_size(n, 2)
    policy = pk.TeamPolicy(space, E, ts, 4).set_scratch_size(
        0, pk.PerTeam(team_bytes), pk.PerThread(pk.ScratchView1D[pk.double].shmem_size(n))
    )
    pk.parallel_for(policy, team_and_thread_scratch, n=n, out=out)
    i = np.arange(n)
    expect = (i + (100 + i) + (200 + i)).sum() + n * 1000.0 * (np.arange(ts) + 1)
    np.testing.assert_array_equal(out, np.broadcast_to(expect, (E, ts)))


def test_shmem_size():
    assert pk.ScratchView1D[pk.double].shmem_size(5) >= 40
    assert pk.ScratchView2D[pk.double].shmem_size(3, 4) >= 96
    assert pk.ScratchView3D[pk.int32].shmem_size(2, 3, 4) >= 96
    assert pk.ScratchView1D[pk.double].shmem_size(0) >= 0


@pk.workunit
def scratch3d(team: pk.TeamMember, a: int, b: int, c: int, out: pk.View4D[pk.double]):
    e: int = team.league_rank()
    s = pk.ScratchView3D[pk.double](team.team_scratch(0), a, b, c)

    def fill(i: int, j: int, k: int):
        s[i][j][k] = 100.0 * i + 10.0 * j + k + e

    pk.parallel_for(pk.TeamThreadMDRange(team, a, b, c), fill)
    team.team_barrier()

    def copy(i: int, j: int, k: int):
        out[e][i][j][k] = s[a - 1 - i][j][k]

    pk.parallel_for(pk.TeamThreadMDRange(team, a, b, c), copy)


def test_scratch_view_3d(space):
    ts = min(2, max_team_size(space))
    E, a, b, c = 2, 3, 4, 5
    out = np.full((E, a, b, c), np.nan)
    policy = pk.TeamPolicy(space, E, ts, 4).set_scratch_size(
        0, pk.PerTeam(pk.ScratchView3D[pk.double].shmem_size(a, b, c))
    )
    pk.parallel_for(policy, scratch3d, a=a, b=b, c=c, out=out)
    e, i, j, k = np.indices((E, a, b, c))
    np.testing.assert_array_equal(out, 100.0 * (a - 1 - i) + 10.0 * j + k + e)


# ==========================================================================================================
# Scratch: mixed element types are aligned; level 0 and level 1 together.
# ==========================================================================================================


@pk.workunit
def scratch_mixed(team: pk.TeamMember, n: int, out: pk.View2D[pk.double]):
    e: int = team.league_rank()
    a = pk.ScratchView1D[pk.int32](team.team_scratch(0), n)
    b = pk.ScratchView1D[pk.double](team.team_scratch(0), n)
    c = pk.ScratchView1D[pk.float32](team.team_scratch(1), n)
    d = pk.ScratchView1D[pk.double](team.team_scratch(1), n)

    def fill(i: int):
        a[i] = i + 1
        b[i] = 0.5 * i
        c[i] = 2.0 * i
        d[i] = 1000.0 + e

    pk.parallel_for(pk.TeamThreadRange(team, n), fill)
    team.team_barrier()

    def rd(i: int):
        out[e][i] = a[n - 1 - i] + b[n - 1 - i] + c[n - 1 - i] + d[n - 1 - i]

    pk.parallel_for(pk.TeamThreadRange(team, n), rd)


def test_scratch_mixed_types_and_levels(space):
    ts = min(2, max_team_size(space))
    E, n = 3, 5  # odd n: the int32 and float32 views end off an 8-byte boundary
    out = np.full((E, n), np.nan)
    policy = (
        pk.TeamPolicy(space, E, ts, 1)
        .set_scratch_size(
            0,
            pk.PerTeam(pk.ScratchView1D[pk.int32].shmem_size(n) + pk.ScratchView1D[pk.double].shmem_size(n)),
        )
        .set_scratch_size(
            1,
            pk.PerTeam(pk.ScratchView1D[pk.float32].shmem_size(n) + pk.ScratchView1D[pk.double].shmem_size(n)),
        )
    )
    pk.parallel_for(policy, scratch_mixed, n=n, out=out)
    j = np.arange(n)[::-1]
    np.testing.assert_array_equal(out, (j + 1) + 0.5 * j + 2.0 * j + 1000.0 + np.arange(E)[:, None])
