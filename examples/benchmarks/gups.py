"""kokkos-benchmarks gups: random read-modify-write updates (ClassSty, atomics).

A table of `--data` int64 values and `--indices` random positions per repeat; each update XORs `datum` into
data[indices[i]], with `pk.atomic_fetch_xor` (`--atomics`, the default) or a plain `^=` (`--no-atomics`:
then each repeat's positions are distinct, so no update can race). New positions are drawn on the host for
every repeat and copied in. Reports GUP/s. Validation: after all repeats, a value has been XORed once per
time its position was drawn, so data[k] = init ^ (datum if drawn an odd number of times); checked exactly
against NumPy."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _common import Stopwatch, parser, setup, verdict  # noqa: E402

import kernelkit as pk  # noqa: E402

INIT = 10101010101
DATUM = -1


@pk.functor
class Benchmark:
    def __init__(self, indices: int, data: int):
        self.indices: pk.View1D[pk.int64] = pk.View([indices], pk.int64)
        self.data: pk.View1D[pk.int64] = pk.View([data], pk.int64)
        self.datum: pk.int64 = DATUM

    @pk.workunit
    def init_data(self, i: int):
        self.data[i] = INIT

    @pk.workunit
    def run_gups_atomic(self, i: int):
        pk.atomic_fetch_xor(self.data, [self.indices[i]], self.datum)

    @pk.workunit
    def run_gups(self, i: int):
        self.data[self.indices[i]] ^= self.datum


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--indices", type=int, default=1 << 16, help="updates per repeat (default 2^16)")
    p.add_argument("--data", type=int, default=1 << 22, help="table size (default 2^22)")
    p.add_argument("--repeats", type=int, default=10, help="repeats (default 10)")
    p.add_argument(
        "--atomics", action=argparse.BooleanOptionalAction, default=True, help="atomic updates (default: yes)"
    )
    p.add_argument("--seed", type=int, default=1010101, help="seed of the positions (default 1010101)")
    args, space = setup(p)
    n_idx, n_data = args.indices, args.data
    if not args.atomics and n_idx > n_data:
        p.error("--no-atomics draws distinct positions: --indices must be <= --data")
    rng = np.random.default_rng(args.seed)
    w = Benchmark(n_idx, n_data)
    pk.parallel_for(n_data, w.init_data)
    kernel = w.run_gups_atomic if args.atomics else w.run_gups
    pk.parallel_for(0, kernel)  # compile (an empty launch updates nothing)

    counts = np.zeros(n_data, dtype=np.int64)
    sw = Stopwatch()
    for _ in range(args.repeats):
        if args.atomics:
            idx = rng.integers(0, n_data, size=n_idx)
        else:
            idx = rng.choice(n_data, size=n_idx, replace=False)
        counts += np.bincount(idx, minlength=n_data)
        pk.deep_copy(w.indices, idx)
        with sw:
            pk.parallel_for(n_idx, kernel)

    print(
        f"gups: {n_data} elements ({8e-6 * n_data:.1f} MB), {n_idx} indices, {args.repeats} repeats, "
        f"atomics {'yes' if args.atomics else 'no'}: {1e-9 * args.repeats * n_idx / sw.total:.4f} GUP/s"
    )
    ref = np.where(counts % 2 == 1, np.int64(INIT) ^ np.int64(DATUM), np.int64(INIT))
    got = np.asarray(w.data)
    wrong = int(np.count_nonzero(got != ref))
    verdict(wrong == 0, "every element matches" if wrong == 0 else f"{wrong} elements differ")


if __name__ == "__main__":
    main()
