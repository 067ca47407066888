#!/usr/bin/env bash
# The GPU checks of kernelkit.tasks (phase 2: real PArray copies between places), for the lead's GPU machine.
# Writes everything under ${OUT:-out}; a summary of what to look for is printed at the end.
#   bash benchmarks/tasks/run_gpu.sh
# Needs: pip install -e ".[test,tasks]" (CuPy is optional: without it GPU tasks use kernelkit kernels).
set -u
OUT=${OUT:-out}
mkdir -p "$OUT"
py=${PYTHON:-python}

# 1. the task tests with the GPU tests enabled (one physical GPU, 4 logical GPUs on it): test_gpu.py must not skip
#    (device copies on a physical GPU, a GPU chain of PArray writes), the rest as on CPU-only CI
$py -m pytest -q -n 0 tests/tasks -rs 2>&1 | tee "$OUT/tasks-tests.txt"
$py -m pytest -q -n 0 tests/tasks/test_gpu.py tests/tasks/test_data_movement.py -v 2>&1 | tee "$OUT/tasks-gpu-tests.txt"

# 2. the seeds' inner product on 4 logical GPUs of one physical GPU (each gets a device copy of its slices),
#    with a trace a user can open (copy slices cpu(0)->gpu(i))
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
$py benchmarks/tasks/cholesky.py -n 8000 -b 1000 --workers 16 --gpu --gpus 4 --json "$OUT/cholesky-4lgpus.json" 2>&1 \
    | tee "$OUT/cholesky-bench-4lgpus.txt"
$py benchmarks/tasks/launch_fast_path.py 2>&1 | tee "$OUT/launch_fast_path.txt"

# 5. what to look for
echo "== summary"
tail -n 1 "$OUT/tasks-tests.txt"
grep -E "passed|failed" "$OUT/tasks-gpu-tests.txt" | tail -n 1
grep -E "copies between places|PASS|FAIL" "$OUT"/inner_product.txt "$OUT"/cholesky-gpu*.txt
$py - "$OUT" <<'PY'
import json, sys
for name in ("inner_product", "cholesky"):
    ev = json.load(open(f"{sys.argv[1]}/{name}.trace.json"))["traceEvents"]
    copies = [e for e in ev if e.get("cat") == "copy" and e["name"].startswith("copy ")]
    tasks = [e for e in ev if e.get("cat") == "task"]
    print(f"{name}.trace.json: {len(tasks)} task slices, {len(copies)} copy slices, "
          f"{sum(e['args']['bytes'] for e in copies) / 1e6:.1f} MB copied")
PY
grep -E "kernelkit|Dask /" "$OUT/overhead-2w.txt" "$OUT/overhead-16w.txt"
grep -E "kernelkit.tasks|dask|lapack|Dask /" "$OUT"/cholesky-bench*.txt
