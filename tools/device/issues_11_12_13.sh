#!/usr/bin/env bash
# One call on the lent H200 for the issues that landed last (~5 minutes; carry .whl and .appy-tests):
#   bash tools/device/issues_11_12_13.sh
#  1. @pk.jit programs on pk.Cuda: the loops tests (simd loops across a warp's lanes among them);
#  2. kernelkit.openmp on pk.Cuda: tests/openmp, and the target DGEMM with map clauses (transfers counted);
#  3. kernelkit.tasks on 4 logical GPUs of the H200: the GPU and data-movement tests, the inner product and the
#     multi-GPU Cholesky with traces, Cholesky against Dask (+CuPy);
#  4. npbench on the GPU (paper preset) against CuPy and APPy, one process per kernel.
set -uo pipefail
OUT=${OUT:-/tmp/kk-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl 2>&1 | tail -2
export PYTHONPATH=/tmp/site
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -2
t() { echo "== $1 ($(date +%T))"; }
q=${QUICK:-0}  # QUICK=1: the short version (~4 minutes): tighter limits, one Cholesky round
lim() { [ "$q" = 1 ] && echo "$2" || echo "$1"; }
parts=${PARTS:-"loops openmp tasks npbench"}  # PARTS="tasks npbench": only those
on() { case " $parts " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if on loops; then t loops; timeout "$(lim 70 40)" python3 -m pytest -q -n 12 -p no:cacheprovider tests/loops -k "Cuda or gpu" 2>&1 | tail -4; fi

if on openmp; then t openmp; timeout "$(lim 90 60)" python3 -m pytest -q -n 12 -p no:cacheprovider tests/openmp -k "Cuda or gpu or target" 2>&1 \
  | tee "$OUT/openmp-tests.txt" | tail -6
[ ! -f tools/device/openmp_target_dgemm.py ] || timeout 40 python3 tools/device/openmp_target_dgemm.py 2048 2>&1 \
  | tee "$OUT/openmp-dgemm.txt" | tail -8
[ -f examples/openmp/target_dgemm.py ] && timeout 25 python3 examples/openmp/target_dgemm.py --space cuda --order 1024 --iterations 3 2>&1 | tail -3
fi

if on tasks; then t tasks; timeout "$(lim 90 45)" python3 -m pytest -q -n 4 -p no:cacheprovider tests/tasks/test_gpu.py tests/tasks/test_data_movement.py \
  tests/tasks/test_examples_tasks.py 2>&1 | tail -4
KERNELKIT_VIRTUAL_GPUS=4 KERNELKIT_TRACE="$OUT/inner_product.trace.json" timeout 40 \
  python3 examples/tasks/inner_product.py -n 4000000 2>&1 | tail -4
KERNELKIT_TRACE="$OUT/cholesky.trace.json" timeout 60 \
  python3 examples/tasks/cholesky.py -n 4000 -b 500 --placement gpu --gpus 4 2>&1 | tail -4
timeout "$(lim 90 60)" python3 benchmarks/tasks/cholesky.py -n 8000 -b 1000 --workers 16 --repeats "$(lim 2 1)" --gpu --json "$OUT/cholesky-bench.json" \
  2>&1 | tail -12
fi

if on npbench; then t npbench; KERNELS=${KERNELS:-"gemver gesummv gemm covariance fdtd_2d symm syr2k syrk trmm softmax spmv hdiff trisolv gramschmidt azimint_naive go_fast jacobi_1d jacobi_2d heat_3d floyd_warshall cholesky"} APPY_TESTS=$PWD/.appy-tests timeout "${NPB_S:-200}" bash tools/device/npbench_gpu.sh paper "${NPB_K:-30}"
# the device tool brings back only a few files: the per-kernel rows travel as one archive
tar -czf "$OUT/npbench.tgz" -C "$OUT" npbench && rm -rf "$OUT/npbench"; fi
t done
