#!/usr/bin/env bash
# The GPU checks of kernelkit.tasks (phase 1), for the lead's GPU machine. Writes everything under ${OUT:-out}.
#   bash benchmarks/tasks/run_gpu.sh
# Needs: pip install -e ".[test,tasks]" (CuPy is optional: without it GPU tasks use kernelkit kernels).
set -u
OUT=${OUT:-out}
mkdir -p "$OUT"
py=${PYTHON:-python}

# 1. the task tests with the GPU tests enabled (one physical GPU, 4 logical GPUs on it)
$py -m pytest -q -n 0 tests/tasks -rs 2>&1 | tee "$OUT/tasks-tests.txt"

# 2. the seeds' inner product on 4 logical GPUs of one physical GPU, with a trace a user can open
KERNELKIT_VIRTUAL_GPUS=4 KERNELKIT_TRACE="$OUT/inner_product.trace.json" \
    $py examples/tasks/inner_product.py -n 4000000 2>&1 | tee "$OUT/inner_product.txt"

# 3. multi-GPU Cholesky on 4 logical GPUs: CuPy tile kernels when CuPy is there, else kernelkit GEMM kernels
KERNELKIT_TRACE="$OUT/cholesky.trace.json" \
    $py examples/tasks/cholesky.py -n 4000 -b 500 --placement gpu --gpus 4 2>&1 | tee "$OUT/cholesky-gpu.txt"
$py examples/tasks/cholesky.py -n 2000 -b 250 --placement gpu --gpus 4 --kernels kernelkit 2>&1 \
    | tee "$OUT/cholesky-gpu-kernelkit.txt"

# 4. benchmarks (16 cores: the CPU figures are far less noisy than on the shared 2-core machine)
$py benchmarks/tasks/overhead.py --workers 2 --json "$OUT/overhead-2w.json" 2>&1 | tee "$OUT/overhead-2w.txt"
$py benchmarks/tasks/overhead.py --workers 16 --json "$OUT/overhead-16w.json" 2>&1 | tee "$OUT/overhead-16w.txt"
$py benchmarks/tasks/scaling.py --json "$OUT/scaling.json" 2>&1 | tee "$OUT/scaling.txt"
$py benchmarks/tasks/graphs.py --workers 2 --json "$OUT/graphs.json" 2>&1 | tee "$OUT/graphs.txt"
$py benchmarks/tasks/cholesky.py -n 8000 -b 1000 --workers 16 --gpu --json "$OUT/cholesky.json" 2>&1 \
    | tee "$OUT/cholesky-bench.txt"
$py benchmarks/tasks/launch_fast_path.py 2>&1 | tee "$OUT/launch_fast_path.txt"
