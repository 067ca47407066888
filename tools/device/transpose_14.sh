#!/usr/bin/env bash
# Issue 14's transpose on the GPU machine's 16 CPU ranks: the three schedules of examples/mpi/transpose.py (the
# pairwise rounds, --exchange overlap, --exchange shm) at the order 2048 of the earlier runs and at 4096 (matrices of 128 MiB,
# past the rank-local caches), strong scaling on 1, 4, 16 ranks next to the mpi4py + NumPy version, best of 3
# (carry .whl; about 5 minutes):   bash tools/device/transpose_14.sh
# (with shm, the NumPy version runs its MPI-SHM counterpart too: the same algorithm on both sides)
# Everything lands under $OUT/t and comes back as $OUT/transpose.tgz.
set -uo pipefail
TOP=${OUT:-/tmp/kk-out}; OUT=$TOP/t; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
python3 -m pip install -q --no-index --no-deps --no-compile .whl/mpi4py-*.whl .whl/mpich-*.whl 2>&1 | tail -2
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -2
(lscpu; nproc; free -g) > "$OUT/machine.txt" 2>&1
for order in 2048 4096; do
  for ex in rounds overlap shm; do
    echo "== order $order, exchange $ex ($(date +%T))"
    timeout 200 python3 benchmarks/mpi/run.py --modes strong --apps transpose --ranks 1 4 16 --repeat 3 \
      --transpose-order $order --transpose-exchange $ex --json "$OUT/transpose-$order-$ex.json" \
      --md "$OUT/transpose-$order-$ex.md" 2>&1 | tail -5 | tee "$OUT/transpose-$order-$ex.txt"
  done
done
tar czf "$TOP/transpose.tgz" -C "$TOP" t && rm -rf "$OUT"
