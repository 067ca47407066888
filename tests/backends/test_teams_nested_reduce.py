"""Nested reductions on every space: every reducer at thread (TeamThreadRange), vector (ThreadVectorRange) and
teamvector (TeamVectorRange) level, begin/end ranges, empty ranges (the reducer's identity), and nested
reductions inside conditions (evaluated only where Python evaluates them)."""

from __future__ import annotations

import numpy as np
import pytest
from team_helpers import max_team_size, need_team_size, small

import kernelkit as pk

# ==========================================================================================================
# Nested reductions with every reducer at thread (TeamThreadRange), vector (ThreadVectorRange) and teamvector
# (TeamVectorRange) level. Data x[e, r, :]; result out[e, r] = reduce(x[e, r, :]).
# thread/teamvector: one team per (e, r) (league E*R); vector: one team per e, a TeamThreadRange over r.
# ==========================================================================================================

# ---- thread level


@pk.workunit
def nr_thread_sum(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        a += x[e][r][i]

    v: float = pk.parallel_reduce(pk.TeamThreadRange(team, n), f, pk.Sum)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_thread_prod(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        a *= x[e][r][i]

    v: float = pk.parallel_reduce(pk.TeamThreadRange(team, n), f, pk.Prod)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_thread_min(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        a = min(a, x[e][r][i])

    v: float = pk.parallel_reduce(pk.TeamThreadRange(team, n), f, pk.Min)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_thread_max(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        a = max(a, x[e][r][i])

    v: float = pk.parallel_reduce(pk.TeamThreadRange(team, n), f, pk.Max)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_thread_land(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[bool]):
        a = a and x[e][r][i] > 0

    v: bool = pk.parallel_reduce(pk.TeamThreadRange(team, n), f, pk.LAnd)

    def w():
        if v:
            out[e][r] = 1.0
        else:
            out[e][r] = 0.0

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_thread_lor(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[bool]):
        a = a or x[e][r][i] > 0

    v: bool = pk.parallel_reduce(pk.TeamThreadRange(team, n), f, pk.LOr)

    def w():
        if v:
            out[e][r] = 1.0
        else:
            out[e][r] = 0.0

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_thread_band(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.int64], out: pk.View2D[pk.int64]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.int64]):
        a &= x[e][r][i]

    v: int = pk.parallel_reduce(pk.TeamThreadRange(team, n), f, pk.BAnd)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_thread_bor(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.int64], out: pk.View2D[pk.int64]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.int64]):
        a |= x[e][r][i]

    v: int = pk.parallel_reduce(pk.TeamThreadRange(team, n), f, pk.BOr)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_thread_minloc(
    team: pk.TeamMember,
    R: int,
    n: int,
    x: pk.View3D[pk.double],
    out: pk.View2D[pk.double],
    loc: pk.View2D[pk.int64],
):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        if x[e][r][i] < a.val:
            a.val = x[e][r][i]
            a.loc = i

    v = pk.parallel_reduce(pk.TeamThreadRange(team, n), f, pk.MinLoc)

    def w():
        out[e][r] = v.val
        loc[e][r] = v.loc

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_thread_maxloc(
    team: pk.TeamMember,
    R: int,
    n: int,
    x: pk.View3D[pk.double],
    out: pk.View2D[pk.double],
    loc: pk.View2D[pk.int64],
):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        if x[e][r][i] > a.val:
            a.val = x[e][r][i]
            a.loc = i

    v = pk.parallel_reduce(pk.TeamThreadRange(team, n), f, pk.MaxLoc)

    def w():
        out[e][r] = v.val
        loc[e][r] = v.loc

    pk.single(pk.PerTeam(team), w)


# ---- vector level


@pk.workunit
def nr_vector_sum(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank()

    def row(r: int):
        def f(i: int, a: pk.Acc[pk.double]):
            a += x[e][r][i]

        v: float = pk.parallel_reduce(pk.ThreadVectorRange(team, n), f, pk.Sum)

        def w():
            out[e][r] = v

        pk.single(pk.PerThread(team), w)

    pk.parallel_for(pk.TeamThreadRange(team, R), row)


@pk.workunit
def nr_vector_prod(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank()

    def row(r: int):
        def f(i: int, a: pk.Acc[pk.double]):
            a *= x[e][r][i]

        v: float = pk.parallel_reduce(pk.ThreadVectorRange(team, n), f, pk.Prod)

        def w():
            out[e][r] = v

        pk.single(pk.PerThread(team), w)

    pk.parallel_for(pk.TeamThreadRange(team, R), row)


@pk.workunit
def nr_vector_min(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank()

    def row(r: int):
        def f(i: int, a: pk.Acc[pk.double]):
            a = min(a, x[e][r][i])

        v: float = pk.parallel_reduce(pk.ThreadVectorRange(team, n), f, pk.Min)

        def w():
            out[e][r] = v

        pk.single(pk.PerThread(team), w)

    pk.parallel_for(pk.TeamThreadRange(team, R), row)


@pk.workunit
def nr_vector_max(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank()

    def row(r: int):
        def f(i: int, a: pk.Acc[pk.double]):
            a = max(a, x[e][r][i])

        v: float = pk.parallel_reduce(pk.ThreadVectorRange(team, n), f, pk.Max)

        def w():
            out[e][r] = v

        pk.single(pk.PerThread(team), w)

    pk.parallel_for(pk.TeamThreadRange(team, R), row)


@pk.workunit
def nr_vector_land(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank()

    def row(r: int):
        def f(i: int, a: pk.Acc[bool]):
            a = a and x[e][r][i] > 0

        v: bool = pk.parallel_reduce(pk.ThreadVectorRange(team, n), f, pk.LAnd)

        def w():
            if v:
                out[e][r] = 1.0
            else:
                out[e][r] = 0.0

        pk.single(pk.PerThread(team), w)

    pk.parallel_for(pk.TeamThreadRange(team, R), row)


@pk.workunit
def nr_vector_lor(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank()

    def row(r: int):
        def f(i: int, a: pk.Acc[bool]):
            a = a or x[e][r][i] > 0

        v: bool = pk.parallel_reduce(pk.ThreadVectorRange(team, n), f, pk.LOr)

        def w():
            if v:
                out[e][r] = 1.0
            else:
                out[e][r] = 0.0

        pk.single(pk.PerThread(team), w)

    pk.parallel_for(pk.TeamThreadRange(team, R), row)


@pk.workunit
def nr_vector_band(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.int64], out: pk.View2D[pk.int64]):
    e: int = team.league_rank()

    def row(r: int):
        def f(i: int, a: pk.Acc[pk.int64]):
            a &= x[e][r][i]

        v: int = pk.parallel_reduce(pk.ThreadVectorRange(team, n), f, pk.BAnd)

        def w():
            out[e][r] = v

        pk.single(pk.PerThread(team), w)

    pk.parallel_for(pk.TeamThreadRange(team, R), row)


@pk.workunit
def nr_vector_bor(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.int64], out: pk.View2D[pk.int64]):
    e: int = team.league_rank()

    def row(r: int):
        def f(i: int, a: pk.Acc[pk.int64]):
            a |= x[e][r][i]

        v: int = pk.parallel_reduce(pk.ThreadVectorRange(team, n), f, pk.BOr)

        def w():
            out[e][r] = v

        pk.single(pk.PerThread(team), w)

    pk.parallel_for(pk.TeamThreadRange(team, R), row)


@pk.workunit
def nr_vector_minloc(
    team: pk.TeamMember,
    R: int,
    n: int,
    x: pk.View3D[pk.double],
    out: pk.View2D[pk.double],
    loc: pk.View2D[pk.int64],
):
    e: int = team.league_rank()

    def row(r: int):
        def f(i: int, a: pk.Acc[pk.double]):
            if x[e][r][i] < a.val:
                a.val = x[e][r][i]
                a.loc = i

        v = pk.parallel_reduce(pk.ThreadVectorRange(team, n), f, pk.MinLoc)

        def w():
            out[e][r] = v.val
            loc[e][r] = v.loc

        pk.single(pk.PerThread(team), w)

    pk.parallel_for(pk.TeamThreadRange(team, R), row)


@pk.workunit
def nr_vector_maxloc(
    team: pk.TeamMember,
    R: int,
    n: int,
    x: pk.View3D[pk.double],
    out: pk.View2D[pk.double],
    loc: pk.View2D[pk.int64],
):
    e: int = team.league_rank()

    def row(r: int):
        def f(i: int, a: pk.Acc[pk.double]):
            if x[e][r][i] > a.val:
                a.val = x[e][r][i]
                a.loc = i

        v = pk.parallel_reduce(pk.ThreadVectorRange(team, n), f, pk.MaxLoc)

        def w():
            out[e][r] = v.val
            loc[e][r] = v.loc

        pk.single(pk.PerThread(team), w)

    pk.parallel_for(pk.TeamThreadRange(team, R), row)


# ---- teamvector level


@pk.workunit
def nr_teamvector_sum(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        a += x[e][r][i]

    v: float = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.Sum)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_prod(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        a *= x[e][r][i]

    v: float = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.Prod)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_min(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        a = min(a, x[e][r][i])

    v: float = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.Min)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_max(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        a = max(a, x[e][r][i])

    v: float = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.Max)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_land(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[bool]):
        a = a and x[e][r][i] > 0

    v: bool = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.LAnd)

    def w():
        if v:
            out[e][r] = 1.0
        else:
            out[e][r] = 0.0

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_lor(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[bool]):
        a = a or x[e][r][i] > 0

    v: bool = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.LOr)

    def w():
        if v:
            out[e][r] = 1.0
        else:
            out[e][r] = 0.0

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_band(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.int64], out: pk.View2D[pk.int64]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.int64]):
        a &= x[e][r][i]

    v: int = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.BAnd)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_bor(team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.int64], out: pk.View2D[pk.int64]):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.int64]):
        a |= x[e][r][i]

    v: int = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.BOr)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_minloc(
    team: pk.TeamMember,
    R: int,
    n: int,
    x: pk.View3D[pk.double],
    out: pk.View2D[pk.double],
    loc: pk.View2D[pk.int64],
):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        if x[e][r][i] < a.val:
            a.val = x[e][r][i]
            a.loc = i

    v = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.MinLoc)

    def w():
        out[e][r] = v.val
        loc[e][r] = v.loc

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_maxloc(
    team: pk.TeamMember,
    R: int,
    n: int,
    x: pk.View3D[pk.double],
    out: pk.View2D[pk.double],
    loc: pk.View2D[pk.int64],
):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        if x[e][r][i] > a.val:
            a.val = x[e][r][i]
            a.loc = i

    v = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.MaxLoc)

    def w():
        out[e][r] = v.val
        loc[e][r] = v.loc

    pk.single(pk.PerTeam(team), w)


NESTED_REDUCE = {
    (level, red): globals()[f"nr_{level}_{red.lower()}"]
    for level in ("thread", "vector", "teamvector")
    for red in ("Sum", "Prod", "Min", "Max", "LAnd", "LOr", "BAnd", "BOr", "MinLoc", "MaxLoc")
}


def _reducer_data(rng, red, shape):
    E, R, n = shape
    if red in ("BAnd", "BOr"):
        # BAnd: mostly-set bits so the AND keeps some; BOr: sparse bits so the OR is not all ones
        bits = rng.integers(0, 2, (E, R, n, 62), dtype=np.int64)
        if red == "BAnd":
            bits = (rng.random((E, R, n, 62)) < 0.9).astype(np.int64)
        else:
            bits = (rng.random((E, R, n, 62)) < 0.05).astype(np.int64)
        return (bits << np.arange(62, dtype=np.int64)).sum(axis=-1)
    if red == "Prod":
        return rng.choice([0.5, 1.0, 2.0, -1.0], (E, R, n))  # exact products in any order
    if red in ("LAnd", "LOr"):
        x = np.ones((E, R, n)) if red == "LAnd" else -np.ones((E, R, n))
        # per row: none, one or several flipped elements (so both outcomes occur)
        for e in range(E):
            for r in range(R):
                k = (e * R + r) % 3
                idx = rng.choice(n, size=min(k, n), replace=False)
                x[e, r, idx] = -x[e, r, idx]
        return x
    if red in ("MinLoc", "MaxLoc"):
        return rng.permutation(E * R * n).reshape(E, R, n).astype(np.float64)  # distinct: unique location
    return rng.integers(-1000, 1000, (E, R, n)).astype(np.float64)


def _reducer_expect(red, x):
    f = {"Sum": np.sum, "Prod": np.prod, "Min": np.min, "Max": np.max, "MinLoc": np.min, "MaxLoc": np.max}
    if red in f:
        return f[red](x, axis=-1)
    if red == "LAnd":
        return (x > 0).all(axis=-1).astype(np.float64)
    if red == "LOr":
        return (x > 0).any(axis=-1).astype(np.float64)
    if red == "BAnd":
        return np.bitwise_and.reduce(x, axis=-1)
    return np.bitwise_or.reduce(x, axis=-1)


REDUCERS = ["Sum", "Prod", "Min", "Max", "LAnd", "LOr", "BAnd", "BOr", "MinLoc", "MaxLoc"]


@pytest.mark.parametrize("red", REDUCERS)
@pytest.mark.parametrize("level", ["thread", "vector", "teamvector"])
@pytest.mark.parametrize("ts,vl", [(1, 1), (2, 4), (4, 32)])
def test_nested_reduce_every_reducer(space, rng, level, red, ts, vl):
    need_team_size(space, ts)
    E, R, n = 3, 3, small(space, 45, 9)
    x = _reducer_data(rng, red, (E, R, n))
    is_int = red in ("BAnd", "BOr")
    out = np.full((E, R), -7, dtype=np.int64) if is_int else np.full((E, R), np.nan)
    kw = dict(R=R, n=n, x=x, out=out)
    if red in ("MinLoc", "MaxLoc"):
        kw["loc"] = np.full((E, R), -7, dtype=np.int64)
    league = E if level == "vector" else E * R
    pk.parallel_for(pk.TeamPolicy(space, league, ts, vl), NESTED_REDUCE[(level, red)], **kw)
    np.testing.assert_array_equal(out, _reducer_expect(red, x))
    if red in ("MinLoc", "MaxLoc"):
        arg = np.argmin(x, axis=-1) if red == "MinLoc" else np.argmax(x, axis=-1)
        np.testing.assert_array_equal(kw["loc"], arg)


@pk.workunit
def nr_range_begin_end(team: pk.TeamMember, b: int, e_: int, x: pk.View2D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank()

    def f(i: int, a: pk.Acc[pk.double]):
        a += x[e][i]

    s1: float = pk.parallel_reduce(pk.TeamThreadRange(team, b, e_), f)
    s2: float = pk.parallel_reduce(pk.ThreadVectorRange(team, b, e_), f)
    s3: float = pk.parallel_reduce(pk.TeamVectorRange(team, b, e_), f)

    def w():
        out[e][0] = s1
        out[e][1] = s2
        out[e][2] = s3

    pk.single(pk.PerTeam(team), w)


@pytest.mark.parametrize("b,e_", [(3, 17), (5, 5), (0, 1), (16, 20)])
def test_nested_reduce_begin_end_ranges(space, rng, b, e_):
    ts = min(2, max_team_size(space))
    x = rng.integers(-50, 50, (4, 20)).astype(np.float64)
    out = np.full((4, 3), np.nan)
    pk.parallel_for(pk.TeamPolicy(space, 4, ts, 4), nr_range_begin_end, b=b, e_=e_, x=x, out=out)
    expect = x[:, b:e_].sum(axis=1)
    np.testing.assert_array_equal(out, np.stack([expect] * 3, axis=1))


# ==========================================================================================================
# Nested reductions over empty ranges give the reducer's identity; a Sum reduction with an int accumulator.
# ==========================================================================================================


@pk.workunit
def nested_empty(team: pk.TeamMember, n: int, out: pk.View1D[pk.double], iout: pk.View1D[pk.int64]):
    def fs(i: int, a: pk.Acc[pk.double]):
        a += 1.0

    def fp(i: int, a: pk.Acc[pk.double]):
        a *= 3.0

    def fmin(i: int, a: pk.Acc[pk.double]):
        a = min(a, 1.0)

    def fmax(i: int, a: pk.Acc[pk.double]):
        a = max(a, 1.0)

    def fand(i: int, a: pk.Acc[bool]):
        a = a and False

    def forr(i: int, a: pk.Acc[bool]):
        a = a or True

    def fband(i: int, a: pk.Acc[pk.int64]):
        a &= 0

    def fbor(i: int, a: pk.Acc[pk.int64]):
        a |= 1

    s: float = pk.parallel_reduce(pk.TeamThreadRange(team, n), fs)
    p: float = pk.parallel_reduce(pk.ThreadVectorRange(team, n), fp, pk.Prod)
    mn: float = pk.parallel_reduce(pk.TeamVectorRange(team, n), fmin, pk.Min)
    mx: float = pk.parallel_reduce(pk.TeamThreadRange(team, n), fmax, pk.Max)
    la: bool = pk.parallel_reduce(pk.ThreadVectorRange(team, n), fand, pk.LAnd)
    lo: bool = pk.parallel_reduce(pk.TeamVectorRange(team, n), forr, pk.LOr)
    ba: int = pk.parallel_reduce(pk.TeamThreadRange(team, n), fband, pk.BAnd)
    bo: int = pk.parallel_reduce(pk.ThreadVectorRange(team, n), fbor, pk.BOr)

    def w():
        out[0] = s
        out[1] = p
        out[2] = mn
        out[3] = mx
        if la:
            iout[0] = 1
        else:
            iout[0] = 0
        if lo:
            iout[1] = 1
        else:
            iout[1] = 0
        iout[2] = ba
        iout[3] = bo

    pk.single(pk.PerTeam(team), w)


def test_nested_reduce_empty_range_identities(space):
    ts = min(2, max_team_size(space))
    out = np.full(4, np.nan)
    iout = np.full(4, 7, dtype=np.int64)
    pk.parallel_for(pk.TeamPolicy(space, 1, ts, 4), nested_empty, n=0, out=out, iout=iout)
    assert out[0] == 0.0 and out[1] == 1.0
    assert out[2] > 1e300 and out[3] < -1e300  # Min/Max identities: the largest / lowest value
    np.testing.assert_array_equal(iout, [1, 0, -1, 0])
    pk.parallel_for(pk.TeamPolicy(space, 1, ts, 4), nested_empty, n=5, out=out, iout=iout)
    np.testing.assert_array_equal(out, [5.0, 243.0, 1.0, 1.0])
    np.testing.assert_array_equal(iout, [0, 1, 0, 1])


# ==========================================================================================================
# Nested reductions inside conditions follow Python evaluation: only evaluated where Python evaluates them.
# ==========================================================================================================


@pk.workunit
def reduce_in_conditions(team: pk.TeamMember, n: int, hits: pk.View2D[pk.int64], out: pk.View2D[pk.double]):
    e: int = team.league_rank()

    def f(i: int, a: pk.Acc[pk.int64]):
        hits[e][i] += 1
        a += 1

    def g(i: int, a: pk.Acc[pk.int64]):
        a += 1

    k: int = 0
    for _j in range(pk.parallel_reduce(pk.TeamThreadRange(team, n), g)):
        k += 1
    if e == 0:
        out[e][0] = -1.0
    elif pk.parallel_reduce(pk.TeamThreadRange(team, n), f) == n:  # not evaluated for e == 0
        out[e][0] = 1.0
    if e > 1 and pk.parallel_reduce(pk.TeamVectorRange(team, n), f) == n:  # short-circuit: only e > 1
        out[e][1] = 1.0
    out[e][2] = k


def test_nested_reduce_in_conditions_follows_python_evaluation(space):
    ts = min(2, max_team_size(space))
    E, n = 3, 5
    hits = np.zeros((E, n), dtype=np.int64)
    out = np.zeros((E, 3))
    pk.parallel_for(pk.TeamPolicy(space, E, ts, 4), reduce_in_conditions, n=n, hits=hits, out=out)
    np.testing.assert_array_equal(out, [[-1.0, 0.0, n], [1.0, 0.0, n], [1.0, 1.0, n]])
    # team 0 evaluates neither reduction, team 1 only the elif one, team 2 both
    np.testing.assert_array_equal(hits, np.array([0, 1, 2])[:, None] * np.ones(n, dtype=np.int64))
