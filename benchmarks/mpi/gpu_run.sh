#!/usr/bin/env bash
# kernelkit.mpi on the GPU machine (one H200, 16 cores; no MPI library there): one device call per MODE.
#
# Here, once (the wheels travel in .whl, ~15 MiB):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 -d .whl mpi4py==4.1.2 mpich==5.0.2
# There (carry .whl):
#   bash benchmarks/mpi/gpu_run.sh tests     # tests/mpi under mpiexec -n 2 and -n 3, GPU tests included (~3 min)
#   bash benchmarks/mpi/gpu_run.sh gpu       # heat on GPU ranks, halo exchange of device Views (~2 min)
#   bash benchmarks/mpi/gpu_run.sh strong    # strong scaling on 1..16 CPU ranks, kernelkit vs mpi4py+NumPy (~6 min)
#   bash benchmarks/mpi/gpu_run.sh weak      # weak scaling, likewise (~6 min)
#   bash benchmarks/mpi/gpu_run.sh halo      # halo exchange vs bare Sendrecv on 2, 4, 16 CPU ranks (~2 min)
# Everything lands in $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/kk-mpi-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
python3 -m pip install -q --no-index --no-deps --no-compile .whl/mpi4py-*.whl .whl/mpich-*.whl 2>&1 | tail -2
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -2
MPIEXEC=$(python3 -c 'import os, shutil, sys; print(shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]))')
echo "mpiexec: $MPIEXEC" | tee "$OUT/env.txt"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a "$OUT/env.txt"
python3 -c 'from kernelkit import mpi as k; from mpi4py import MPI; print(MPI.Get_library_version().splitlines()[0]); print("CUDA-aware:", k.cuda_aware())' | tee -a "$OUT/env.txt"
MODE=${1:-tests}
case "$MODE" in
tests)
  for n in 2 3; do
    timeout 280 "$MPIEXEC" -n $n python3 -m pytest -q -p no:cacheprovider tests/mpi -rs 2>&1 | tee "$OUT/tests_n$n.txt" | tail -15
  done
  ;;
gpu)
  for n in 1 2; do  # two ranks share the one GPU
    timeout 200 "$MPIEXEC" -n $n python3 examples/mpi/heat.py --space cuda --n 8190 --steps 200 2>&1 | tee "$OUT/heat_cuda_n$n.txt" | tail -6
    KERNELKIT_MPI_CUDA_AWARE=0 timeout 200 "$MPIEXEC" -n $n python3 examples/mpi/heat.py --space cuda --n 8190 --steps 200 2>&1 | tail -3
  done
  timeout 120 "$MPIEXEC" -n 2 python3 benchmarks/mpi/halo.py --space cuda --sizes 1024 8192 --reps 50 --json "$OUT/halo_cuda.json" 2>&1 | tee "$OUT/halo_cuda.txt"
  timeout 200 "$MPIEXEC" -n 4 python3 examples/mpi/heat.py --space openmp --n 8190 --steps 50 2>&1 | tail -4 | tee "$OUT/heat_cpu_n4.txt"
  ;;
strong|weak)
  timeout 580 python3 benchmarks/mpi/run.py --modes "$MODE" --ranks 1 2 4 8 16 --repeat 2 \
    --json "$OUT/scaling_$MODE.json" --md "$OUT/scaling_$MODE.md" 2>&1 | tee "$OUT/scaling_$MODE.txt"
  ;;
halo)
  for n in 2 4 16; do
    timeout 150 "$MPIEXEC" -n $n python3 benchmarks/mpi/halo.py --json "$OUT/halo_n$n.json" 2>&1 | tee "$OUT/halo_n$n.txt"
  done
  ;;
*) echo "unknown mode $MODE"; exit 2 ;;
esac
