#!/usr/bin/env bash
# Issue 16 after parallel_for's C fast path, the read-only loads of reductions and the launch queue, in one call
# (~7 minutes; carry .whl):   bash tools/device/final_16.sh
#  1. the CUDA backend matrix, tasks on the GPU and the fast path's tests (correctness first);
#  2. tools/device/issue16.sh: every figure of issue 16 in one harness run (rates, transposes, stencil, launch,
#     warm start, graphs, sweep);
#  (floor: tools/device/launch_params.cu, cuLaunchKernel from C, when PARTS names it)
#  3. tools/device/launch_split.py: the launch against the real driver and against the fake one (kernelkit's
#     share), with the launch queue (runtime/native/cudaq.c) on and off, twice.
# Everything lands under $OUT/d and comes back as $OUT/final.tgz.
set -uo pipefail
TOP=${OUT:-/tmp/kk-out}; OUT=$TOP/d; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site \
  $(ls .whl/*.whl | grep -v -e /mpi4py- -e /mpich-) 2>&1 | tail -2
export PYTHONPATH=/tmp/site
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -2
t() { echo "== $1 ($(date +%T))"; }
parts=${PARTS:-"matrix issue16 launch"}
on() { case " $parts " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if on matrix; then t matrix
  KERNELKIT_CACHE_DIR=/tmp/kk-cache-matrix OUT=$OUT bash tools/device/cuda_matrix.sh 12 > "$OUT/matrix-run.txt" 2>&1
  tail -2 "$OUT/matrix.txt"; grep -E "^FAILED|^ERROR" "$OUT/matrix.txt" | head -20
  KERNELKIT_CACHE_DIR=/tmp/kk-cache-matrix timeout 150 python3 -m pytest -q -n 4 -p no:cacheprovider \
    tests/tasks/test_gpu.py tests/tasks/test_data_movement.py tests/tasks/test_examples_tasks.py \
    tests/unit/test_fast_for.py tests/unit/test_cuda_readonly.py tests/unit/test_graph.py \
    tests/unit/test_cuda_queue.py 2>&1 | tail -3 | tee "$OUT/tasks-fastpath.txt"
fi
if on floor; then t floor  # cuLaunchKernel from C in this lease: the driver's share of the launch figure
  nvcc -O2 -o /tmp/launch_params tools/device/launch_params.cu -lcuda -L/usr/local/cuda/lib64/stubs \
    && /tmp/launch_params | tee "$OUT/launch-params.txt"
fi
if on issue16; then t issue16; mkdir -p "$OUT/issue16"; OUT=$OUT/issue16 bash tools/device/issue16.sh 2>&1 | tail -40; fi
if on launch; then t launch
  cc -shared -fPIC -O1 -o /tmp/libfakecuda.so tests/unit/fake_libcuda.c -ldl
  for k in 1 2; do
    for q in on off; do
      timeout 60 python3 tools/device/launch_split.py --queue $q | tee -a "$OUT/launch-split.txt"
      KERNELKIT_CACHE_DIR=/tmp/kk-cache-fake timeout 60 python3 tools/device/launch_split.py --queue $q \
        --fake /tmp/libfakecuda.so | tee -a "$OUT/launch-split.txt"
    done
  done
fi
t done
tar czf "$TOP/final.tgz" -C "$TOP" d && rm -rf "$OUT"
