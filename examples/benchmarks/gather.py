"""kokkos-benchmarks gather: indirect loads through a connectivity table (FunctionSty).

For each of N entities, gather K neighbours j = connectivity[i][jj] (random, within distance D of i), do
U = 8 independent multiply-adds F times on A[j] and B[j], and sum into C[i]. Repeated R times. Reports
GB/s, GFlop/s and GGather/s as the Kokkos benchmark counts them. Validation: C equals the same arithmetic
done with NumPy on the gathered values (relative 1e-12)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _common import Stopwatch, parser, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402

U = 8


@pk.workunit
def gather(
    i: int,
    K: int,
    F: int,
    connectivity: pk.View2D[pk.int32],
    A: pk.View1D[pk.double],
    B: pk.View1D[pk.double],
    C: pk.View1D[pk.double],
):
    c: pk.double = 0.0
    for jj in range(K):
        j: int = connectivity[i][jj]
        a1: pk.double = A[j]
        b: pk.double = B[j]
        a2: pk.double = a1 * 1.3
        a3: pk.double = a2 * 1.1
        a4: pk.double = a3 * 1.1
        a5: pk.double = a4 * 1.3
        a6: pk.double = a5 * 1.1
        a7: pk.double = a6 * 1.1
        a8: pk.double = a7 * 1.1
        for _f in range(F):
            a1 += b * a1
            a2 += b * a2
            a3 += b * a3
            a4 += b * a4
            a5 += b * a5
            a6 += b * a6
            a7 += b * a7
            a8 += b * a8
        c += a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8
    C[i] = c


def reference(conn: np.ndarray, A: np.ndarray, B: np.ndarray, F: int) -> np.ndarray:
    a1 = A[conn]
    b = B[conn]
    a = [a1, a1 * 1.3]
    for m in (1.1, 1.1, 1.3, 1.1, 1.1, 1.1):
        a.append(a[-1] * m)
    for _ in range(F):
        a = [x + b * x for x in a]
    per = a[0]
    for x in a[1:]:
        per = per + x
    c = np.zeros(conn.shape[0])
    for jj in range(conn.shape[1]):
        c += per[:, jj]
    return c


def main() -> None:
    p = parser(__doc__)
    p.add_argument("-N", type=int, default=1 << 18, help="N: entities (default 2^18)")
    p.add_argument("-K", type=int, default=32, help="K: things gathered per entity (default 32)")
    p.add_argument("-D", type=int, default=512, help="D: max distance of gathered things (default 512)")
    p.add_argument("-R", type=int, default=5, help="R: repetitions (default 5)")
    p.add_argument("-F", type=int, default=2, help="F: repetitions of the 8 multiply-adds (default 2)")
    p.add_argument("--seed", type=int, default=12313, help="seed of the connectivity (default 12313)")
    args, space = setup(p)
    N, K, D, R, F = args.N, args.K, min(args.D, args.N), args.R, args.F
    rng = np.random.default_rng(args.seed)
    i = np.arange(N)[:, None]
    conn = ((rng.integers(0, D, size=(N, K)) + i - D // 2 + N) % N).astype(np.int32)
    a_host = 1.0 + (np.arange(N) % 8) * 0.125
    b_host = 2.0 - (np.arange(N) % 4) * 0.25
    connectivity = pk.View([N, K], pk.int32)
    A = pk.View([N], pk.double)
    B = pk.View([N], pk.double)
    C = pk.View([N], pk.double)
    pk.deep_copy(connectivity, conn)
    pk.deep_copy(A, a_host)
    pk.deep_copy(B, b_host)
    views = dict(K=K, F=F, connectivity=connectivity, A=A, B=B, C=C)

    pk.parallel_for("gather", N, gather, **views)  # compile and warm up
    sw = Stopwatch()
    with sw:
        for _ in range(R):
            pk.parallel_for("gather", N, gather, **views)
    seconds = sw.total

    num_bytes = 1.0 * N * K * R * (2 * 8 + 4) + N * R * 8
    flops = 1.0 * N * K * R * (F * 2 * U + 2 * (U - 1))
    gathers = 1.0 * N * K * R * 2
    print(
        f"SNKDRUF: 2 {N} {K} {D} {R} {U} {F} Time: {seconds:.5f} s "
        f"Bandwidth: {num_bytes / seconds / 1024**3:.3f} GiB/s GFlop/s: {1e-9 * flops / seconds:.3f} "
        f"GGather/s: {1e-9 * gathers / seconds:.3f}"
    )
    ref = reference(conn, a_host, b_host, F)
    got = np.asarray(C)
    ok = bool(np.allclose(got, ref, rtol=1e-12, atol=0.0))
    worst = float(np.max(np.abs(got - ref) / np.abs(ref)))
    verdict(ok, f"C matches NumPy (max relative difference {worst:.1e})")


if __name__ == "__main__":
    main()
