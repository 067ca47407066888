"""kokkos-benchmarks bytes_and_flops: memory- versus compute-bound throughput (ClassSty, TeamPolicy).

A, B, C are N x K x D Views; one team per n (`pk.TeamPolicy(N, T)`) loops `R` times over its K elements
(`TeamThreadRange`), loading A[n][i][0] and B[n][i][0] (`D` is the stride between loaded elements), doing
U = 8 independent multiply-adds `F` times, and storing the sum to C[n][i][0]. Raise F for compute bound,
D for inefficient loads. Reports GB/s and GFlop/s as the Kokkos benchmark counts them. Validation: every
C[n][i][0] equals the same arithmetic done in NumPy (relative 1e-12)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _common import Stopwatch, parser, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402

U = 8  # the unroll: independent multiply-adds per loaded element


@pk.functor
class BenchmarkDouble8:
    def __init__(self, N: int, K: int, R: int, D: int, F: int):
        self.K: int = K
        self.R: int = R
        self.F: int = F
        self.A: pk.View3D[pk.double] = pk.View([N, K, D], pk.double)
        self.B: pk.View3D[pk.double] = pk.View([N, K, D], pk.double)
        self.C: pk.View3D[pk.double] = pk.View([N, K, D], pk.double)
        self.A.fill(1.5)
        self.B.fill(2.5)
        self.C.fill(3.5)

    @pk.workunit
    def benchmark(self, team: pk.TeamMember):
        n: int = team.league_rank()
        for _r in range(self.R):

            def team_for(i: int):
                a1: pk.double = self.A[n][i][0]
                b: pk.double = self.B[n][i][0]
                a2: pk.double = a1 * 1.3
                a3: pk.double = a2 * 1.1
                a4: pk.double = a3 * 1.1
                a5: pk.double = a4 * 1.3
                a6: pk.double = a5 * 1.1
                a7: pk.double = a6 * 1.1
                a8: pk.double = a7 * 1.1

                for _f in range(self.F):
                    a1 += b * a1
                    a2 += b * a2
                    a3 += b * a3
                    a4 += b * a4
                    a5 += b * a5
                    a6 += b * a6
                    a7 += b * a7
                    a8 += b * a8

                self.C[n][i][0] = a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8

            pk.parallel_for(pk.TeamThreadRange(team, self.K), team_for)


def expected(F: int) -> float:
    a1 = 1.5
    b = 2.5
    a = [a1, a1 * 1.3]
    for m in (1.1, 1.1, 1.3, 1.1, 1.1, 1.1):
        a.append(a[-1] * m)
    for _ in range(F):
        a = [x + b * x for x in a]
    s = a[0]
    for x in a[1:]:
        s += x
    return s


def main() -> None:
    p = parser(__doc__)
    p.add_argument("-N", type=int, default=2000, help="N: teams, first extent of the arrays (default 2000)")
    p.add_argument("-K", type=int, default=1024, help="K: elements per team (default 1024)")
    p.add_argument("-R", type=int, default=1, help="R: passes of each team over its K elements (default 1)")
    p.add_argument("-D", type=int, default=1, choices=[1, 2, 4, 8, 16, 32], help="D: load stride (default 1)")
    p.add_argument("-F", type=int, default=8, help="F: repetitions of the 8 multiply-adds (default 8)")
    p.add_argument("-T", type=int, default=0, help="T: team size (default 0: pk.AUTO)")
    p.add_argument("--repeat", type=int, default=3, help="timed launches (default 3)")
    args, space = setup(p)
    N, K, R, D, F = args.N, args.K, args.R, args.D, args.F
    w = BenchmarkDouble8(N, K, R, D, F)
    policy = pk.TeamPolicy(N, args.T or pk.AUTO)
    pk.parallel_for(policy, w.benchmark)  # compile and warm up
    sw = Stopwatch()
    for _ in range(args.repeat):
        with sw:
            pk.parallel_for(policy, w.benchmark)
    seconds = sw.mean

    num_bytes = 1.0 * N * K * R * 3 * 8
    flops = 1.0 * N * K * R * (F * 2 * U + 2 * (U - 1))
    print(
        f"NKRUFTD: {N} {K} {R} {U} {F} {args.T or 'AUTO'} {D} Time: {seconds:.5f} s "
        f"Bandwidth: {num_bytes / seconds / 1024**3:.3f} GiB/s GFlop/s: {1e-9 * flops / seconds:.3f}"
    )
    C = np.asarray(w.C)[:, :, 0].astype(float)
    ref = expected(F)
    ok = bool(np.allclose(C, ref, rtol=1e-12, atol=0.0))
    lo, hi = float(C.min()), float(C.max())
    verdict(ok, f"C = {lo!r} everywhere" if ok else f"C ranges {lo!r}..{hi!r}, expected {ref!r}")


if __name__ == "__main__":
    main()
