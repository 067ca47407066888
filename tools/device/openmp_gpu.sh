#!/usr/bin/env bash
# Issue 13 on the GPU machine: kernelkit.openmp's tests with pk.Cuda (target loops as kernels, host programs on
# threads), then the target DGEMM with map clauses. Results land in $OUT.
#   tools/device/openmp_gpu.sh
set -uo pipefail
OUT=${OUT:-/tmp/kk-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -3
timeout 400 python3 -m pytest tests/openmp -q -n 8 -p no:cacheprovider 2>&1 | tee "$OUT/openmp_tests.txt" | tail -25
timeout 150 python3 tools/device/openmp_target_dgemm.py 1024 2>&1 | tee "$OUT/openmp_dgemm.txt"
