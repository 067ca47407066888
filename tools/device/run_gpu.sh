#!/usr/bin/env bash
# One device call: install kernelkit on the GPU machine (offline), run the test suite on pk.Cuda, then the GPU
# benchmarks. Results land in $OUT (the device tool brings them back).
set -uo pipefail
OUT=${OUT:-/tmp/kk-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -3
python3 -c "import kernelkit as pk; from kernelkit.backends.base import space_report; print(space_report())"
MODE=${1:-all}
if [ "$MODE" = all ] || [ "$MODE" = tests ]; then
  timeout 420 python3 -m pytest tests/backends tests/unit/test_memory.py tests/unit/test_cuda_toolchain.py tests/unit/test_paper_snippets.py \
     -q -n 8 -p no:cacheprovider -k "Cuda or gpu or memory or toolchain or cuda_specific" 2>&1 | tee "$OUT/tests.txt" | tail -25
fi
if [ "$MODE" = all ] || [ "$MODE" = bench ]; then
  timeout 300 python3 tools/device/gpu_bench.py --json "$OUT/gpu_bench.json" 2>&1 | tee "$OUT/bench.txt" | tail -30
fi
