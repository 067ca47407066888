#!/usr/bin/env bash
# Issue 16's launch figure split into its parts, issue 11's tile kernels on the GPU, and issue 14's scaling on
# the GPU machine's 16 CPU ranks after the transpose rework, with the host's memory-bandwidth wall (carry .whl;
# about 7 minutes):   bash tools/device/call_14_16.sh
#  1. launch: tools/device/launch_params.cu (cuLaunchKernel sustained and enqueue-only, by parameter size) and
#     tools/device/launch_split.py against the real driver and against tests/unit/fake_libcuda.c;
#  2. tasks: tests/tasks/test_tile_blas.py on the GPU machine (the fallback potrf's error message);
#  3. mpi: benchmarks/mpi/run.py strong scaling of transpose and nstream on 1, 4, 16 ranks (best of 3), and
#     the single-process nstream on 1, 4, 8, 16 OpenMP threads (the bandwidth the host gives one process).
# Everything lands under $OUT/d and comes back as $OUT/call.tgz.
set -uo pipefail
TOP=${OUT:-/tmp/kk-out}; OUT=$TOP/d; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
# MPI as benchmarks/mpi/gpu_run.sh installs it (mpiexec beside the interpreter), the rest (Dask...) aside
python3 -m pip install -q --no-index --no-deps --no-compile .whl/mpi4py-*.whl .whl/mpich-*.whl 2>&1 | tail -2
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site \
  $(ls .whl/*.whl | grep -v -e /mpi4py- -e /mpich-) 2>&1 | tail -2
export PYTHONPATH=/tmp/site
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -2
t() { echo "== $1 ($(date +%T))"; }
parts=${PARTS:-"launch tasks mpi"}
on() { case " $parts " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
(lscpu; nproc; free -g; nvidia-smi --query-gpu=name,driver_version --format=csv) > "$OUT/machine.txt" 2>&1
if on launch; then t launch
  nvcc -O2 -o /tmp/launch_params tools/device/launch_params.cu -lcuda -L/usr/local/cuda/lib64/stubs \
    && /tmp/launch_params | tee "$OUT/launch-params.txt"
  cc -shared -fPIC -O1 -o /tmp/libfakecuda.so tests/unit/fake_libcuda.c -ldl
  for k in 1 2; do
    timeout 60 python3 tools/device/launch_split.py | tee -a "$OUT/launch-split.txt"
    KERNELKIT_CACHE_DIR=/tmp/kk-cache-fake timeout 60 python3 tools/device/launch_split.py --fake /tmp/libfakecuda.so \
      | tee -a "$OUT/launch-split.txt"
  done
fi
if on tasks; then t tasks
  timeout 120 python3 -m pytest -q -n 4 -p no:cacheprovider tests/tasks/test_tile_blas.py 2>&1 | tail -3 | tee "$OUT/tile-blas.txt"
fi
if on mpi; then t mpi
  MPIEXEC=$(python3 -c 'import os, shutil, sys; print(shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]))')
  echo "mpiexec: $MPIEXEC" > "$OUT/mpi-env.txt"
  timeout 300 python3 benchmarks/mpi/run.py --modes strong --apps transpose nstream --ranks 1 4 16 --repeat 3 \
    --json "$OUT/scaling_strong.json" --md "$OUT/scaling_strong.md" 2>&1 | tail -20 | tee "$OUT/scaling_strong.txt"
  for th in 1 4 8 16; do
    timeout 60 python3 examples/prk/nstream.py --space openmp --threads $th --iterations 20 --length 16777216 2>&1 \
      | tail -2 | sed "s/^/threads $th: /" | tee -a "$OUT/nstream-threads.txt"
  done
fi
t done
tar czf "$TOP/call.tgz" -C "$TOP" d && rm -rf "$OUT"
