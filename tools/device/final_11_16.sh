#!/usr/bin/env bash
# Issues 11 and 16 on the lent H200 after their fixes, in one call (~8 minutes; carry .whl):
#   bash tools/device/final_11_16.sh
#  1. tools/device/issue16.sh: the figures of issue 16 (rates, transposes, stencil, launch, warm start, graphs, sweep);
#  2. the CUDA backend matrix (the launcher's sub-box launches, kernels without grid-stride loops);
#  3. kernelkit.tasks on the GPU: its tests, then the blocked Cholesky n=8000 b=1000 against Dask (+CuPy) with
#     16 workers, and the same cut into phases (tools/device/chol_diag.py) with a trace;
# Everything lands under $OUT/d and comes back as $OUT/final.tgz.
set -uo pipefail
TOP=${OUT:-/tmp/kk-out}; OUT=$TOP/d; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl 2>&1 | tail -2
export PYTHONPATH=/tmp/site
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -2
t() { echo "== $1 ($(date +%T))"; }
parts=${PARTS:-"issue16 matrix tasks"}
on() { case " $parts " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
# issue16 first: its SASS dump covers the kernel cache, which is still its own then
if on issue16; then t issue16; mkdir -p "$OUT/issue16"; OUT=$OUT/issue16 bash tools/device/issue16.sh 2>&1 | tail -40; fi
if on matrix; then t matrix; OUT=$OUT bash tools/device/cuda_matrix.sh 12 > "$OUT/matrix-run.txt" 2>&1
  tail -3 "$OUT/matrix.txt"; grep -E "^FAILED|^ERROR" "$OUT/matrix.txt" | head -20; fi
if on tasks; then t tasks
  timeout 120 python3 -m pytest -q -n 4 -p no:cacheprovider tests/tasks/test_gpu.py tests/tasks/test_data_movement.py \
    tests/tasks/test_examples_tasks.py tests/tasks/test_workers.py tests/tasks/test_tile_blas.py 2>&1 | tail -3
  timeout 200 python3 benchmarks/tasks/cholesky.py -n 8000 -b 1000 --workers 16 --repeats 3 --gpu \
    --json "$OUT/cholesky-bench.json" 2>&1 | tail -10
  timeout 120 python3 tools/device/chol_diag.py -n 8000 -b 1000 --workers 16 --repeats 3 \
    --json "$OUT/chol_diag.json" --trace "$OUT/chol-gpu.trace.json" 2>&1 | tail -4
fi
t done
tar czf "$TOP/final.tgz" -C "$TOP" d && rm -rf "$OUT"
