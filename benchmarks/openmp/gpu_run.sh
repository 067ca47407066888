#!/usr/bin/env bash
# kernelkit.openmp on the GPU machine (one H200): one device call. Everything lands in $OUT.
#   bash benchmarks/openmp/gpu_run.sh          # examples + target DGEMM benchmark (~3 min)
# PyOMP is left out there (--no-pyomp): its wheel and llvmlite's are ~100 MB, over what a call carries, and the
# machine has no network.
set -uo pipefail
OUT=${OUT:-/tmp/kk-openmp-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -2
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/env.txt"
python3 -c 'from kernelkit.openmp import omp_get_num_devices as n, omp_get_initial_device as h; print("devices", n(), "initial", h())' | tee -a "$OUT/env.txt"
for space in cuda host; do
  timeout 120 python3 examples/openmp/target_dgemm.py --space $space --order 1024 --iterations 3 2>&1 | tee "$OUT/target_dgemm_$space.txt" | tail -3
done
timeout 240 python3 -m pytest -q -p no:cacheprovider tests/examples -k openmp -n 4 2>&1 | tee "$OUT/tests_examples_openmp.txt" | tail -5
timeout 300 python3 benchmarks/openmp/gpu.py --no-pyomp --order 4096 --repeats 5 --rounds 3 \
   --json "$OUT/openmp-gpu.json" --markdown "$OUT/openmp-gpu.md" 2>&1 | tee "$OUT/openmp-gpu.txt" | tail -20
