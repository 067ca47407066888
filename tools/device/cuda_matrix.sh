#!/usr/bin/env bash
# The CUDA backend matrix on the GPU machine, timed: the same selection as `run_gpu.sh tests`, with the
# matrix_timing plugin (NVRTC, module loads, synchronizations, copies, host C++, View element fallbacks per
# test) and pytest's slowest tests. Prints the wall time; the target is <= 240 s on the 16-core H200 host.
#   tools/device/cuda_matrix.sh [pytest workers, default 8]
set -uo pipefail
OUT=${OUT:-/tmp/kk-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KK_TIMING_DIR="$OUT/timing" PYTHONPATH="$PWD/tools/device${PYTHONPATH:+:$PYTHONPATH}"
rm -rf "$KK_TIMING_DIR"
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -3
start=$(date +%s.%N)
timeout 590 python3 -m pytest tests/backends tests/examples tests/unit/test_memory.py \
   tests/unit/test_cuda_toolchain.py tests/unit/test_paper_snippets.py tests/unit/test_bench.py \
   -q -n "${1:-8}" -p no:cacheprovider -p matrix_timing -W ignore::pytest.PytestWarning --durations=40 \
   -k "Cuda or gpu or memory or toolchain or cuda_specific" 2>&1 | tee "$OUT/matrix.txt" | tail -70
rc=${PIPESTATUS[0]}
end=$(date +%s.%N)
python3 tools/device/matrix_timing.py "$KK_TIMING_DIR" | tee "$OUT/matrix-timing.txt" | head -60
python3 -c "print(f'CUDA matrix: {$end - $start:.1f} s wall (pytest exit $rc)')" | tee -a "$OUT/matrix.txt"
