"""Team programs on every space, checked against NumPy: the paper's Figure 1 (ClassSty and FunctionSty), the
Kokkos tutorial exercises team_policy, team_vector_loop and team_scratch_memory, and a scratch-tiled transpose
and matrix multiply with team barriers (non-square sizes, not multiples of the tile).

Semantics held to (Kokkos'): a team is team_size threads of vector_length lanes; host spaces run team_size
OpenMP threads (pk.AUTO = 1 there; Serial only team_size 1; OpenMP up to its thread count), Debug emulates any
team size; a top-level team reduction sums every team thread's accumulator, so outer updates go in pk.single.
The other team tests: test_teams_nested_reduce, _scan, _ranges, _single_league, _scratch, _results, _errors."""

from __future__ import annotations

import numpy as np
import pytest
from team_helpers import TEAM_SIZES, VECTOR_LENGTHS, need_team_size, small

import kernelkit as pk

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
    result = pk.parallel_reduce(pk.TeamPolicy(space, E, ts, vl), tut_team_vector_loop, N=N, M=M, y=y, x=x, A=A)
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
    policy = pk.TeamPolicy(space, E, ts).set_scratch_size(1, pk.PerTeam(pk.ScratchView1D[pk.double].shmem_size(M)))
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
