#!/usr/bin/env bash
# Issue 18 in one call on the 2-GPU machine (kind nvidia-h200-x2; carry .whl for MPI):  bash tools/device/issue18.sh
#  1. two GPUs in one process: Views, kernels and deep copies on pk.Cuda(0) and pk.Cuda(1), the copy path and
#     the peer bandwidth both ways (benchmarks/multigpu/peer.py);
#  2. kernelkit.tasks on the two real GPUs: the seeds' inner product with placement gpu(i), i in 0..1, and the
#     blocked Cholesky with GPU tasks on one GPU and then on both (the speedup), each with a trace;
#  3. kernelkit.mpi with one GPU per rank: the heat solver on GPU Views on 1 rank, then 2 ranks (one GPU each),
#     CUDA-aware and staged halos.
# Everything lands in $OUT; the last lines are the summary the closing note quotes.
set -uo pipefail
OUT=${OUT:-/tmp/kk-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader | tee "$OUT/gpus.txt"
nvidia-smi topo -m 2>&1 | tee "$OUT/topo.txt" | head -8
python3 -m pip install -q --no-index --no-deps --no-compile .whl/mpi4py-*.whl .whl/mpich-*.whl 2>&1 | tail -2
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -2
MPIEXEC=$(python3 -c 'import os, shutil, sys; print(shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]))')

timeout 120 python3 benchmarks/multigpu/peer.py --mib 1024 --reps 20 --json "$OUT/peer.json" 2>&1 | tee "$OUT/peer.txt"

KERNELKIT_TRACE="$OUT/inner_product.trace.json" timeout 90 python3 examples/tasks/inner_product.py -n 50000000 \
  --gpus 2 2>&1 | tee "$OUT/inner_product.txt"
for g in 1 2; do
  KERNELKIT_TRACE="$OUT/cholesky-gpu$g.trace.json" timeout 150 python3 examples/tasks/cholesky.py -n 16000 -b 2000 \
    --placement gpu --gpus $g 2>&1 | tee "$OUT/cholesky-gpu$g.txt"
done

for n in 1 2; do
  timeout 150 "$MPIEXEC" -n $n python3 examples/mpi/heat.py --space cuda --n 16382 --steps 200 2>&1 \
    | tee "$OUT/heat_cuda_n$n.txt" | tail -4
done
KERNELKIT_MPI_CUDA_AWARE=0 timeout 150 "$MPIEXEC" -n 2 python3 examples/mpi/heat.py --space cuda --n 16382 \
  --steps 200 2>&1 | tee "$OUT/heat_cuda_n2_staged.txt" | tail -4
echo "== summary"; grep -hiE "path|GB/s|PASS|FAIL|time|speedup|seconds" "$OUT"/peer.txt "$OUT"/cholesky-gpu*.txt \
  "$OUT"/inner_product.txt "$OUT"/heat_cuda_n*.txt | head -40
