#!/usr/bin/env bash
# One device call for a session's checks: install, the CUDA smoke test, a time-boxed slice of the test matrix on
# pk.Cuda, the latency figures, the MPI GPU tests. Everything lands in $OUT.  session.sh [smoke|tests|bench|mpi]...
set -uo pipefail
OUT=${OUT:-/tmp/kk-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site
fi
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -3
for step in "$@"; do
  case "$step" in
    smoke) timeout 120 python3 tools/device/smoke_cuda.py 2>&1 | tee "$OUT/smoke.txt" ;;
    tests) timeout "${TESTS_S:-300}" python3 -m pytest -q -n 14 -p no:cacheprovider --maxfail=60 \
             tests/unit/test_memory.py tests/unit/test_cuda_toolchain.py tests/backends \
             -k "Cuda or gpu or cuda" 2>&1 | tee "$OUT/tests.txt" | tail -40 ;;
    bench) timeout "${BENCH_S:-150}" python3 benchmarks/run.py --space cuda --only launch,warm,copy,triad,dot \
             --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.txt" | tail -40 ;;
    mpi) timeout 150 bash benchmarks/mpi/gpu_run.sh tests 2>&1 | tee "$OUT/mpi.txt" | tail -20 ;;
  esac
done
