#!/usr/bin/env bash
# One device call: install kernelkit on the GPU machine (offline), then run the test suite on pk.Cuda, the
# GPU benchmarks (benchmarks/run.py, the one GPU harness) and the MD mini-app. Results land in $OUT.
#   tools/device/run_gpu.sh [all|tests|bench|harness|md]
#     tests    the backend matrix, examples and GPU unit tests on pk.Cuda
#     bench    the checks of the CUDA backend: copy/triad/dot/sum, both team transposes, team yAx, stencil
#              against hand-written CUDA and CuPy; cold compile, warm start (profiled), launch overhead
#              against the driver binding and CuPy's RawKernel, transfers of a 100-step loop (~2 min)
#     harness  the whole GPU set with plots and Markdown (what docs/performance.md quotes, ~6 min)
set -uo pipefail
OUT=${OUT:-/tmp/kk-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -3
python3 -c "import kernelkit as pk; from kernelkit.backends.base import space_report; print(space_report())"
MODE=${1:-all}
if [ "$MODE" = all ] || [ "$MODE" = tests ]; then
  timeout 480 python3 -m pytest tests/backends tests/examples tests/unit/test_memory.py \
     tests/unit/test_cuda_toolchain.py tests/unit/test_paper_snippets.py tests/unit/test_bench.py \
     -q -n 8 -p no:cacheprovider -W ignore::pytest.PytestWarning \
     -k "Cuda or gpu or memory or toolchain or cuda_specific" 2>&1 | tee "$OUT/tests.txt" | tail -25
fi
if [ "$MODE" = all ] || [ "$MODE" = bench ]; then
  timeout 300 python3 benchmarks/run.py --space cuda --profile-warm \
     --only copy,triad,dot,sum,transpose,yax,stencil,compile,warm,launch,transfers \
     --json "$OUT/gpu-checks.json" --markdown "$OUT/gpu-checks.md" 2>&1 | tee "$OUT/bench.txt" | tail -80
fi
if [ "$MODE" = all ] || [ "$MODE" = md ]; then
  for n in 16 32; do
    timeout 200 python3 examples/md/minimd.py --space cuda --nx $n --ny $n --nz $n 2>&1 | tee "$OUT/md_cuda_$n.txt" | tail -6
  done
  timeout 200 python3 examples/md/minimd.py --space openmp --threads 16 2>&1 | tee "$OUT/md_omp16.txt" | tail -4
fi
if [ "$MODE" = harness ]; then
  timeout 590 python3 benchmarks/run.py --space cuda --json "$OUT/gpu.json" --plot "$OUT/plots" \
     --markdown "$OUT/gpu.md" 2>&1 | tee "$OUT/harness.txt" | tail -80
fi
