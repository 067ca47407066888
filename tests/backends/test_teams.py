"""Hierarchical parallelism (issue 4) on every space: TeamPolicy, nested TeamThreadRange /
ThreadVectorRange / TeamVectorRange / TeamThreadMDRange patterns (for, reduce with every reducer, scan),
pk.single, team barriers and scratch memory. Every result is checked against NumPy on the same inputs.

Semantics held to (Kokkos'): a team is team_size threads of vector_length lanes; host spaces run team_size
OpenMP threads (pk.AUTO = 1 there; Serial only team_size 1; OpenMP up to its thread count), Debug emulates any
team size; a top-level team reduction sums every team thread's accumulator, so outer updates go in pk.single.

Programs: the paper's Figure 1 (ClassSty and FunctionSty), the Kokkos tutorial exercises team_policy,
team_vector_loop and team_scratch_memory, a scratch-tiled transpose and matrix multiply (non-square sizes, not
multiples of the tile), nested reductions with each reducer at thread, vector and teamvector level, nested
exclusive/inclusive scans, TeamThreadMDRange of rank 2 and 3, single PerTeam/PerThread, rank queries,
per-thread scratch isolation, league sizes 0 and 1, team sizes 1-4 and vector lengths 1, 4, 32."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk


def space_name(space) -> str:
    for attr in ("name", "__name__"):
        value = getattr(space, attr, None)
        if isinstance(value, str) and value:
            return value.split(".")[-1]
    return str(space).split(".")[-1]


TEAM_SIZES = [1, 2, 3, 4]
VECTOR_LENGTHS = [1, 4, 32]


def max_team_size(space) -> int:
    """The largest explicit team size these tests ask of `space` (issue 4: Serial 1; OpenMP up to its thread
    count, 2 on the test machine; Debug emulates any size)."""
    name = space_name(space)
    if name == "Debug":
        return 4
    if name == "Serial":
        return 1
    if name == "Cuda":
        return 4
    return 2  # OpenMP and CudaCheck (which runs on OpenMP)


def need_team_size(space, ts) -> None:
    if ts is not pk.AUTO and ts > max_team_size(space):
        pytest.skip(
            f"team_size {ts} is beyond what {space_name(space)} runs (covered in test_teams_errors.py)"
        )


def small(space, compiled: int, debug: int) -> int:
    return debug if space_name(space) == "Debug" else compiled


# ==========================================================================================================
# The paper's Figure 1 (team_vector_loop), import line changed; tempN/single at yAx's level.
# ==========================================================================================================


@pk.functor
class TeamVectorLoop:
    def __init__(self, N: int, M: int, y: pk.View2D[int], x: pk.View2D[int], A: pk.View3D[int]):
        self.N: int = N
        self.M: int = M
        self.y: pk.View2D[int] = y
        self.x: pk.View2D[int] = x
        self.A: pk.View3D[int] = A

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


@pk.workunit
def yAx_figure1_fn(
    m: pk.TeamMember,
    acc: pk.Acc[int],
    N: int,
    M: int,
    y: pk.View2D[int],
    x: pk.View2D[int],
    A: pk.View3D[int],
):
    e: int = m.league_rank()

    def team_reduce(j: int, team_acc: pk.Acc[int]):
        def vector_reduce(i: int, vector_acc: pk.Acc[int]):
            vector_acc += A[e][j][i] * x[e][i]

        tempM: int = pk.parallel_reduce(pk.ThreadVectorRange(m, M), vector_reduce)
        team_acc += y[e][j] * tempM

    tempN: int = pk.parallel_reduce(pk.TeamThreadRange(m, N), team_reduce)

    def single():
        nonlocal acc
        acc += tempN

    pk.single(pk.PerTeam(m), single)


def _figure1_views(rng, E, N, M):
    y = pk.View([E, N], dtype=int)
    x = pk.View([E, M], dtype=int)
    A = pk.View([E, N, M], dtype=int)
    np.asarray(y)[:] = rng.integers(-5, 6, (E, N))
    np.asarray(x)[:] = rng.integers(-5, 6, (E, M))
    np.asarray(A)[:] = rng.integers(-5, 6, (E, N, M))
    expect = int(np.einsum("en,enm,em->", np.asarray(y), np.asarray(A), np.asarray(x)))
    return y, x, A, expect


@pytest.mark.parametrize("vl", VECTOR_LENGTHS)
def test_figure1_classsty(space, default_space, rng, vl):
    E, N, M = 5, small(space, 12, 6), small(space, 37, 9)
    default_space(space)
    y, x, A, expect = _figure1_views(rng, E, N, M)
    t = TeamVectorLoop(N, M, y, x, A)
    policy = pk.TeamPolicy(pk.Default, E, pk.AUTO, vl)
    result = pk.parallel_reduce(policy, t.yAx)
    assert result == expect
    assert isinstance(result, (int, np.integer))


@pytest.mark.parametrize("ts", TEAM_SIZES)
def test_figure1_classsty_team_sizes(space, default_space, rng, ts):
    need_team_size(space, ts)
    E, N, M = 4, small(space, 11, 5), small(space, 16, 6)
    default_space(space)
    y, x, A, expect = _figure1_views(rng, E, N, M)
    t = TeamVectorLoop(N, M, y, x, A)
    assert pk.parallel_reduce(pk.TeamPolicy(pk.Default, E, ts, 4), t.yAx) == expect


@pytest.mark.parametrize("ts,vl", [(pk.AUTO, 16), (1, 1), (2, 4), (2, 32), (3, 4), (4, 32)])
def test_figure1_functionsty(space, rng, ts, vl):
    need_team_size(space, ts)
    E, N, M = 3, small(space, 10, 5), small(space, 33, 7)
    y, x, A, expect = _figure1_views(rng, E, N, M)
    result = pk.parallel_reduce(pk.TeamPolicy(space, E, ts, vl), yAx_figure1_fn, N=N, M=M, y=y, x=x, A=A)
    assert result == expect


# ==========================================================================================================
# Kokkos tutorial exercises: team_policy (two levels), team_vector_loop (three), team_scratch_memory.
# ==========================================================================================================


@pk.workunit
def tut_team_policy(
    team: pk.TeamMember,
    acc: pk.Acc[pk.double],
    M: int,
    y: pk.View1D[pk.double],
    x: pk.View1D[pk.double],
    A: pk.View2D[pk.double],
):
    j: int = team.league_rank()

    def inner(i: int, inner_acc: pk.Acc[pk.double]):
        inner_acc += A[j][i] * x[i]

    temp2: float = pk.parallel_reduce(pk.TeamThreadRange(team, M), inner)
    if team.team_rank() == 0:
        acc += y[j] * temp2


@pytest.mark.parametrize("ts", [pk.AUTO] + TEAM_SIZES)
def test_tutorial_team_policy(space, rng, ts):
    need_team_size(space, ts)
    N, M = small(space, 40, 7), small(space, 53, 9)
    y, x, A = rng.standard_normal(N), rng.standard_normal(M), rng.standard_normal((N, M))
    result = pk.parallel_reduce(pk.TeamPolicy(space, N, ts), tut_team_policy, M=M, y=y, x=x, A=A)
    assert result == pytest.approx(y @ A @ x, rel=1e-12, abs=1e-12)


@pk.workunit
def tut_team_vector_loop(
    team: pk.TeamMember,
    acc: pk.Acc[pk.double],
    N: int,
    M: int,
    y: pk.View2D[pk.double],
    x: pk.View2D[pk.double],
    A: pk.View3D[pk.double],
):
    e: int = team.league_rank()

    def over_n(j: int, upd_n: pk.Acc[pk.double]):
        def over_m(i: int, upd_m: pk.Acc[pk.double]):
            upd_m += A[e, j, i] * x[e, i]

        tempM: float = pk.parallel_reduce(pk.ThreadVectorRange(team, M), over_m)
        upd_n += y[e, j] * tempM

    tempN: float = pk.parallel_reduce(pk.TeamThreadRange(team, N), over_n)

    def once():
        nonlocal acc
        acc += tempN

    pk.single(pk.PerTeam(team), once)


def _yax3(rng, E, N, M):
    y, x, A = rng.standard_normal((E, N)), rng.standard_normal((E, M)), rng.standard_normal((E, N, M))
    return y, x, A, float(np.einsum("en,enm,em->", y, A, x))


@pytest.mark.parametrize("ts,vl", [(pk.AUTO, 32), (1, 1), (1, 4), (2, 32), (2, 1), (3, 4)])
def test_tutorial_team_vector_loop(space, rng, ts, vl):
    need_team_size(space, ts)
    E, N, M = 4, small(space, 19, 5), small(space, 45, 7)
    y, x, A, expect = _yax3(rng, E, N, M)
    result = pk.parallel_reduce(
        pk.TeamPolicy(space, E, ts, vl), tut_team_vector_loop, N=N, M=M, y=y, x=x, A=A
    )
    assert result == pytest.approx(expect, rel=1e-12, abs=1e-12)


@pk.workunit
def tut_team_scratch(
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

    def over_n(j: int, upd_n: pk.Acc[pk.double]):
        def over_m(i: int, upd_m: pk.Acc[pk.double]):
            upd_m += A[e][j][i] * s_x[i]

        tempM: float = pk.parallel_reduce(pk.ThreadVectorRange(team, M), over_m)
        upd_n += y[e][j] * tempM

    tempN: float = pk.parallel_reduce(pk.TeamThreadRange(team, N), over_n)

    def once():
        nonlocal acc
        acc += tempN

    pk.single(pk.PerTeam(team), once)


@pytest.mark.parametrize("ts,vl", [(pk.AUTO, 32), (1, 4), (2, 32), (2, 1), (4, 4)])
def test_tutorial_team_scratch_memory(space, rng, ts, vl):
    need_team_size(space, ts)
    E, N, M = 5, small(space, 17, 4), small(space, 41, 9)
    y, x, A, expect = _yax3(rng, E, N, M)
    shmem = pk.ScratchView1D[pk.double].shmem_size(M)
    assert shmem >= 8 * M
    policy = pk.TeamPolicy(space, E, ts, vl).set_scratch_size(0, pk.PerTeam(shmem))
    result = pk.parallel_reduce(policy, tut_team_scratch, N=N, M=M, y=y, x=x, A=A)
    assert result == pytest.approx(expect, rel=1e-12, abs=1e-12)


@pk.workunit
def team_scratch_level1(team: pk.TeamMember, M: int, x: pk.View2D[pk.double], out: pk.View2D[pk.double]):
    e: int = team.league_rank()
    s = pk.ScratchView1D[pk.double](team.team_scratch(1), M)

    def load(i: int):
        s[i] = x[e][i]

    pk.parallel_for(pk.TeamThreadRange(team, M), load)
    team.team_barrier()

    def rev(i: int):  # reads what other threads of the team wrote
        out[e][i] = s[M - 1 - i]

    pk.parallel_for(pk.TeamThreadRange(team, M), rev)


@pytest.mark.parametrize("ts", TEAM_SIZES)
def test_team_scratch_level1_shared_by_team(space, rng, ts):
    need_team_size(space, ts)
    E, M = 6, small(space, 50, 11)
    x = rng.standard_normal((E, M))
    out = np.zeros((E, M))
    policy = pk.TeamPolicy(space, E, ts).set_scratch_size(
        1, pk.PerTeam(pk.ScratchView1D[pk.double].shmem_size(M))
    )
    pk.parallel_for(policy, team_scratch_level1, M=M, x=x, out=out)
    np.testing.assert_array_equal(out, x[:, ::-1])


# ==========================================================================================================
# Scratch-tiled transpose and matrix multiply with team barriers.
# ==========================================================================================================


@pk.workunit
def transpose_tiled_md(
    team: pk.TeamMember,
    rows: int,
    cols: int,
    T: int,
    ntc: int,
    A: pk.View2D[pk.double],
    B: pk.View2D[pk.double],
):
    lr: int = team.league_rank()
    ti: int = lr // ntc
    tj: int = lr % ntc
    tile = pk.ScratchView2D[pk.double](team.team_scratch(0), T, T)

    def load(a: int, b: int):
        i: int = ti * T + a
        j: int = tj * T + b
        if i < rows and j < cols:
            tile[a][b] = A[i][j]

    pk.parallel_for(pk.TeamThreadMDRange(team, T, T), load)
    team.team_barrier()

    def store(b: int, a: int):
        i: int = ti * T + a
        j: int = tj * T + b
        if i < rows and j < cols:
            B[j][i] = tile[a][b]

    pk.parallel_for(pk.TeamThreadMDRange(team, T, T), store)


@pk.workunit
def transpose_tiled_tv(
    team: pk.TeamMember,
    rows: int,
    cols: int,
    T: int,
    ntc: int,
    A: pk.View2D[pk.double],
    B: pk.View2D[pk.double],
):
    lr: int = team.league_rank()
    ti: int = lr // ntc
    tj: int = lr % ntc
    tile = pk.ScratchView2D[pk.double](team.team_scratch(0), T, T + 1)

    def load_row(a: int):
        def load(b: int):
            i: int = ti * T + a
            j: int = tj * T + b
            if i < rows and j < cols:
                tile[a][b] = A[i][j]

        pk.parallel_for(pk.ThreadVectorRange(team, T), load)

    pk.parallel_for(pk.TeamThreadRange(team, T), load_row)
    team.team_barrier()

    def store_row(b: int):  # thread b writes column b of the tile: needs the rows the other threads loaded
        def store(a: int):
            i: int = ti * T + a
            j: int = tj * T + b
            if i < rows and j < cols:
                B[j][i] = tile[a][b]

        pk.parallel_for(pk.ThreadVectorRange(team, T), store)

    pk.parallel_for(pk.TeamThreadRange(team, T), store_row)


@pytest.mark.parametrize("kernel", ["md", "tv"])
@pytest.mark.parametrize(
    "rows,cols,T,ts,vl",
    [(13, 7, 4, 2, 4), (5, 18, 8, 1, 32), (9, 9, 4, 4, 1), (1, 6, 4, 2, 1), (16, 8, 4, 2, 4)],
)
def test_tiled_transpose(space, rng, kernel, rows, cols, T, ts, vl):
    need_team_size(space, ts)
    ntr, ntc = -(-rows // T), -(-cols // T)
    A = rng.standard_normal((rows, cols))
    B = np.full((cols, rows), np.nan)
    wu, extent = (transpose_tiled_md, (T, T)) if kernel == "md" else (transpose_tiled_tv, (T, T + 1))
    policy = pk.TeamPolicy(space, ntr * ntc, ts, vl).set_scratch_size(
        0, pk.PerTeam(pk.ScratchView2D[pk.double].shmem_size(*extent))
    )
    pk.parallel_for(policy, wu, rows=rows, cols=cols, T=T, ntc=ntc, A=A, B=B)
    np.testing.assert_array_equal(B, A.T)


@pk.workunit
def matmul_tiled(
    team: pk.TeamMember,
    n: int,
    k: int,
    m: int,
    T: int,
    ntc: int,
    A: pk.View2D[pk.double],
    B: pk.View2D[pk.double],
    C: pk.View2D[pk.double],
):
    lr: int = team.league_rank()
    ti: int = lr // ntc
    tj: int = lr % ntc
    As = pk.ScratchView2D[pk.double](team.team_scratch(0), T, T)
    Bs = pk.ScratchView2D[pk.double](team.team_scratch(0), T, T)
    Cs = pk.ScratchView2D[pk.double](team.team_scratch(0), T, T)

    def zero(a: int, b: int):
        Cs[a][b] = 0.0

    pk.parallel_for(pk.TeamThreadMDRange(team, T, T), zero)
    nkt: int = (k + T - 1) // T
    for kt in range(nkt):

        def load(a: int, b: int):
            i: int = ti * T + a
            q: int = kt * T + b  # noqa: B023  (inlined where it is called)
            if i < n and q < k:
                As[a][b] = A[i][q]
            else:
                As[a][b] = 0.0
            q2: int = kt * T + a  # noqa: B023
            j: int = tj * T + b
            if q2 < k and j < m:
                Bs[a][b] = B[q2][j]
            else:
                Bs[a][b] = 0.0

        pk.parallel_for(pk.TeamThreadMDRange(team, T, T), load)
        team.team_barrier()

        def row(a: int):
            def col(b: int):
                s: float = 0.0
                for q in range(T):
                    s += As[a][q] * Bs[q][b]
                Cs[a][b] += s

            pk.parallel_for(pk.ThreadVectorRange(team, T), col)

        pk.parallel_for(pk.TeamThreadRange(team, T), row)
        team.team_barrier()

    def store(a: int, b: int):
        i: int = ti * T + a
        j: int = tj * T + b
        if i < n and j < m:
            C[i][j] = Cs[a][b]

    pk.parallel_for(pk.TeamThreadMDRange(team, T, T), store)


@pytest.mark.parametrize(
    "n,k,m,T,ts,vl", [(11, 9, 6, 4, 2, 4), (5, 13, 17, 8, 1, 32), (7, 3, 10, 4, 4, 1), (8, 8, 8, 4, 2, 1)]
)
def test_tiled_matmul(space, rng, n, k, m, T, ts, vl):
    need_team_size(space, ts)
    A = rng.integers(-4, 5, (n, k)).astype(np.float64)
    B = rng.integers(-4, 5, (k, m)).astype(np.float64)
    C = np.full((n, m), np.nan)
    ntr, ntc = -(-n // T), -(-m // T)
    policy = pk.TeamPolicy(space, ntr * ntc, ts, vl).set_scratch_size(
        0, pk.PerTeam(3 * pk.ScratchView2D[pk.double].shmem_size(T, T))
    )
    pk.parallel_for(policy, matmul_tiled, n=n, k=k, m=m, T=T, ntc=ntc, A=A, B=B, C=C)
    np.testing.assert_array_equal(C, A @ B)  # small integers: exact in any summation order


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
def nr_teamvector_sum(
    team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]
):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        a += x[e][r][i]

    v: float = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.Sum)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_prod(
    team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]
):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        a *= x[e][r][i]

    v: float = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.Prod)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_min(
    team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]
):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        a = min(a, x[e][r][i])

    v: float = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.Min)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_max(
    team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]
):
    e: int = team.league_rank() // R
    r: int = team.league_rank() % R

    def f(i: int, a: pk.Acc[pk.double]):
        a = max(a, x[e][r][i])

    v: float = pk.parallel_reduce(pk.TeamVectorRange(team, n), f, pk.Max)

    def w():
        out[e][r] = v

    pk.single(pk.PerTeam(team), w)


@pk.workunit
def nr_teamvector_land(
    team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]
):
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
def nr_teamvector_lor(
    team: pk.TeamMember, R: int, n: int, x: pk.View3D[pk.double], out: pk.View2D[pk.double]
):
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
def nr_range_begin_end(
    team: pk.TeamMember, b: int, e_: int, x: pk.View2D[pk.double], out: pk.View2D[pk.double]
):
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
# A top-level team reduction sums every team thread's accumulator (not every vector lane's).
# ==========================================================================================================


@pk.workunit
def count_threads(team: pk.TeamMember, acc: pk.Acc[pk.int64]):
    acc += 1


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
    pk.parallel_for(
        pk.TeamPolicy(space, E, ts, vl), scan_thread, inclusive=inclusive, n=n, x=x, out=out, tot=tot
    )
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
    pk.parallel_for(
        pk.TeamPolicy(space, E, ts, vl), scan_vector, inclusive=inclusive, R=R, n=n, x=x, out=out, tot=tot
    )
    np.testing.assert_array_equal(out, np.cumsum(x, axis=2) if inclusive else _excl(x))
    np.testing.assert_array_equal(tot, x.sum(axis=2))


@pk.workunit
def scan_thread_begin_end(
    team: pk.TeamMember, b: int, e_: int, x: pk.View1D[pk.double], out: pk.View2D[pk.double]
):
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
def md3_fill(
    team: pk.TeamMember, n0: int, n1: int, n2: int, out: pk.View4D[pk.int64], hits: pk.View4D[pk.int64]
):
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
def md3_reduce_max(
    team: pk.TeamMember, n0: int, n1: int, n2: int, x: pk.View4D[pk.double], out: pk.View1D[pk.double]
):
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
    r = pk.parallel_reduce(
        "labelled", pk.TeamPolicy(space, np.int64(L), ts, vector_length=4), team_label_kwargs, x=x
    )
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
            pk.PerTeam(
                pk.ScratchView1D[pk.float32].shmem_size(n) + pk.ScratchView1D[pk.double].shmem_size(n)
            ),
        )
    )
    pk.parallel_for(policy, scratch_mixed, n=n, out=out)
    j = np.arange(n)[::-1]
    np.testing.assert_array_equal(out, (j + 1) + 0.5 * j + 2.0 * j + 1000.0 + np.arange(E)[:, None])


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
