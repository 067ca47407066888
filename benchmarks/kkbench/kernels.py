"""The kernelkit versions of the benchmarks: plain workunits, types from the call (public API only)."""

from __future__ import annotations

import kernelkit as pk


@pk.workunit
def copy(i, a, c):
    c[i] = a[i]


@pk.workunit
def mul(i, b, c, s):
    b[i] = s * c[i]


@pk.workunit
def add(i, a, b, c):
    c[i] = a[i] + b[i]


@pk.workunit
def triad(i, a, b, c, s):
    a[i] = b[i] + s * c[i]


@pk.workunit
def sweep_init(i, a, b, c):
    """The bandwidth sweep's data (never zeros): b = i % 17, c = (i % 8) / 4, a = -1."""
    a[i] = -1.0
    b[i] = 1.0 * (i % 17)
    c[i] = 0.25 * (i % 8)


@pk.workunit
def dot(i, acc, x, y):
    acc += x[i] * y[i]


@pk.workunit
def total(i, acc, x):
    acc += x[i]


@pk.workunit
def pi_term(i, acc, step):
    x = (i + 0.5) * step
    acc += 4.0 / (1.0 + x * x)


# ---- PRK, the Kokkos tutorial, random access, the seeds' DGEMM (problems.py defines them) -----------------


@pk.workunit
def nstream(i, a, b, c, s):
    a[i] += b[i] + s * c[i]


@pk.workunit
def stencil(i, j, inp, out):
    out[i, j] = (
        0.25 * inp[i, j + 1]
        - 0.25 * inp[i, j - 1]
        + 0.25 * inp[i + 1, j]
        - 0.25 * inp[i - 1, j]
        + 0.125 * inp[i, j + 2]
        - 0.125 * inp[i, j - 2]
        + 0.125 * inp[i + 2, j]
        - 0.125 * inp[i - 2, j]
    )


@pk.workunit
def jacobi(i, j, inp, out):
    out[i, j] = 0.25 * (inp[i - 1, j] + inp[i + 1, j] + inp[i, j - 1] + inp[i, j + 1])


@pk.workunit
def transpose(i, j, a, b):
    b[j, i] = a[i, j]


TILE = 32  # problems.TILE; a module global, so it is baked into the kernels as a constant


@pk.workunit
def transpose_tiled(team, a, b, n):
    """One TILE x TILE tile per team: read rows of `a` into scratch, barrier, write rows of `b` from columns
    of the tile (padded by one column, so the column reads hit distinct banks on a GPU)."""
    tiles = (n + TILE - 1) // TILE
    t0 = team.league_rank() // tiles
    t1 = team.league_rank() % tiles
    tile = pk.ScratchView2D[pk.double](team.team_scratch(0), TILE, TILE + 1)

    def load(i, j):
        r = t0 * TILE + i
        c = t1 * TILE + j
        if r < n and c < n:
            tile[i, j] = a[r, c]

    pk.parallel_for(pk.TeamThreadMDRange(team, TILE, TILE), load)
    team.team_barrier()

    def store(i, j):
        r = t1 * TILE + i
        c = t0 * TILE + j
        if r < n and c < n:
            b[r, c] = tile[j, i]

    pk.parallel_for(pk.TeamThreadMDRange(team, TILE, TILE), store)


@pk.workunit
def transpose_threadvector(team, a, b, n):
    """transpose_tiled spelled with nested ranges: tile rows over the team's threads (TeamThreadRange), columns
    over each thread's vector lanes (ThreadVectorRange); coalesced on both sides on a GPU."""
    tiles = (n + TILE - 1) // TILE
    t0 = team.league_rank() // tiles
    t1 = team.league_rank() % tiles
    tile = pk.ScratchView2D[pk.double](team.team_scratch(0), TILE, TILE + 1)

    def load(i):
        def col(j):
            r = t0 * TILE + i
            c = t1 * TILE + j
            if r < n and c < n:
                tile[i, j] = a[r, c]

        pk.parallel_for(pk.ThreadVectorRange(team, TILE), col)

    pk.parallel_for(pk.TeamThreadRange(team, TILE), load)
    team.team_barrier()

    def store(i):
        def col(j):
            r = t1 * TILE + i
            c = t0 * TILE + j
            if r < n and c < n:
                b[r, c] = tile[j, i]

        pk.parallel_for(pk.ThreadVectorRange(team, TILE), col)

    pk.parallel_for(pk.TeamThreadRange(team, TILE), store)


@pk.workunit
def transpose_teamvector(team, a, b, n):
    """transpose_tiled with the tile spread over every thread and lane of the team (TeamVectorMDRange)."""
    tiles = (n + TILE - 1) // TILE
    t0 = team.league_rank() // tiles
    t1 = team.league_rank() % tiles
    tile = pk.ScratchView2D[pk.double](team.team_scratch(0), TILE, TILE + 1)

    def load(i, j):
        r = t0 * TILE + i
        c = t1 * TILE + j
        if r < n and c < n:
            tile[i, j] = a[r, c]

    pk.parallel_for(pk.TeamVectorMDRange(team, TILE, TILE), load)
    team.team_barrier()

    def store(i, j):
        r = t1 * TILE + i
        c = t0 * TILE + j
        if r < n and c < n:
            b[r, c] = tile[j, i]

    pk.parallel_for(pk.TeamVectorMDRange(team, TILE, TILE), store)


@pk.workunit
def yax_range(j, acc, y, a, x, m):
    temp = 0.0
    for i in range(m):
        temp += a[j, i] * x[i]
    acc += y[j] * temp


@pk.workunit
def yax_team(team, acc, y, a, x, m):
    j = team.league_rank()

    def row(i, inner):
        inner += a[j, i] * x[i]

    temp = pk.parallel_reduce(pk.TeamThreadRange(team, m), row)
    if team.team_rank() == 0:
        acc += y[j] * temp


@pk.workunit
def gups(i, table, idx, val):
    pk.atomic_xor(table, [idx[i]], val[i])


@pk.workunit
def gather(i, out, src, idx):
    out[i] = src[idx[i]]


@pk.workunit
def dgemm_row(i, a, b, c, n):
    """Row i of C = A B in ikj order: the inner loop runs along rows of B and C (the CPU version)."""
    for j in range(n):
        c[i, j] = 0.0
    for k in range(n):
        aik = a[i, k]
        for j in range(n):
            c[i, j] += aik * b[k, j]


@pk.workunit
def dgemm_dot(i, j, a, b, c, n):
    """C[i, j] as a dot product of a row of A and a column of B (the GPU version: one element per thread)."""
    s = 0.0
    for k in range(n):
        s += a[i, k] * b[k, j]
    c[i, j] = s


@pk.workunit
def yax_teamvector(team, acc, y, a, x, m):
    """yax_team with the row split over every lane of the team (TeamVectorRange): a SIMD loop on the host."""
    j = team.league_rank()

    def row(i, inner):
        inner += a[j, i] * x[i]

    temp = pk.parallel_reduce(pk.TeamVectorRange(team, m), row)
    if team.team_rank() == 0:
        acc += y[j] * temp
