"""Nested scans on every space, exclusive and inclusive, at thread and vector level (Kokkos: (i, partial,
final), returns the total), also over begin/end ranges."""

from __future__ import annotations

import numpy as np
import pytest
from team_helpers import max_team_size, need_team_size, small

import kernelkit as pk

# ==========================================================================================================
# Nested scans, exclusive and inclusive, at thread and vector level (Kokkos: (i, partial, final), returns the
# total).
# ==========================================================================================================


@pk.workunit
def scan_thread(
    team: pk.TeamMember,
    inclusive: int,
    n: int,
    x: pk.View2D[pk.int64],
    out: pk.View2D[pk.int64],
    tot: pk.View1D[pk.int64],
):
    e: int = team.league_rank()

    def excl(i: int, partial: pk.Acc[pk.int64], final: bool):
        if final:
            out[e][i] = partial
        partial += x[e][i]

    def incl(i: int, partial: pk.Acc[pk.int64], final: bool):
        partial += x[e][i]
        if final:
            out[e][i] = partial

    if inclusive:
        t: int = pk.parallel_scan(pk.TeamThreadRange(team, n), incl)
    else:
        t: int = pk.parallel_scan(pk.TeamThreadRange(team, n), excl)

    def w():
        tot[e] = t

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def scan_vector(
    team: pk.TeamMember,
    inclusive: int,
    R: int,
    n: int,
    x: pk.View3D[pk.int64],
    out: pk.View3D[pk.int64],
    tot: pk.View2D[pk.int64],
):
    e: int = team.league_rank()

    def row(r: int):
        def excl(i: int, partial: pk.Acc[pk.int64], final: bool):
            if final:
                out[e][r][i] = partial
            partial += x[e][r][i]

        def incl(i: int, partial: pk.Acc[pk.int64], final: bool):
            partial += x[e][r][i]
            if final:
                out[e][r][i] = partial

        t: int = 0
        if inclusive:
            t = pk.parallel_scan(pk.ThreadVectorRange(team, n), incl)
        else:
            t = pk.parallel_scan(pk.ThreadVectorRange(team, n), excl)

        def w():
            tot[e][r] = t

        pk.single(pk.PerThread(team), w)

    pk.parallel_for(pk.TeamThreadRange(team, R), row)


def _excl(x):
    c = np.cumsum(x, axis=-1)
    return c - x


@pytest.mark.parametrize("inclusive", [0, 1], ids=["exclusive", "inclusive"])
@pytest.mark.parametrize("ts,vl", [(1, 1), (2, 4), (3, 32), (2, 32)])
def test_nested_scan_thread(space, rng, inclusive, ts, vl):
    need_team_size(space, ts)
    E, n = 4, small(space, 67, 11)
    x = rng.integers(-100, 100, (E, n))
    out = np.full((E, n), -999999, dtype=np.int64)
    tot = np.zeros(E, dtype=np.int64)
    pk.parallel_for(pk.TeamPolicy(space, E, ts, vl), scan_thread, inclusive=inclusive, n=n, x=x, out=out, tot=tot)
    np.testing.assert_array_equal(out, np.cumsum(x, axis=1) if inclusive else _excl(x))
    np.testing.assert_array_equal(tot, x.sum(axis=1))


@pytest.mark.parametrize("inclusive", [0, 1], ids=["exclusive", "inclusive"])
@pytest.mark.parametrize("ts,vl", [(1, 1), (2, 4), (3, 32), (1, 32)])
def test_nested_scan_vector(space, rng, inclusive, ts, vl):
    need_team_size(space, ts)
    E, R, n = 3, 5, small(space, 45, 9)
    x = rng.integers(-100, 100, (E, R, n))
    out = np.full((E, R, n), -999999, dtype=np.int64)
    tot = np.zeros((E, R), dtype=np.int64)
    pk.parallel_for(pk.TeamPolicy(space, E, ts, vl), scan_vector, inclusive=inclusive, R=R, n=n, x=x, out=out, tot=tot)
    np.testing.assert_array_equal(out, np.cumsum(x, axis=2) if inclusive else _excl(x))
    np.testing.assert_array_equal(tot, x.sum(axis=2))


@pk.workunit
def scan_thread_begin_end(team: pk.TeamMember, b: int, e_: int, x: pk.View1D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank()

    def incl(i: int, partial: pk.Acc[pk.double], final: bool):
        partial += x[i]
        if final:
            out[e][i] = partial

    pk.parallel_scan(pk.TeamThreadRange(team, b, e_), incl)


def test_nested_scan_begin_end(space, rng):
    ts = min(2, max_team_size(space))
    n, b, e_ = 30, 7, 23
    x = rng.integers(-9, 9, n).astype(np.float64)
    out = np.full((3, n), np.nan)
    pk.parallel_for(pk.TeamPolicy(space, 3, ts, 4), scan_thread_begin_end, b=b, e_=e_, x=x, out=out)
    expect = np.full(n, np.nan)
    expect[b:e_] = np.cumsum(x[b:e_])
    np.testing.assert_array_equal(out, np.stack([expect] * 3))
