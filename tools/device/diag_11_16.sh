#!/usr/bin/env bash
# Diagnosis on the lent H200 for issues 11 and 16 (~7 minutes; carry .whl):   bash tools/device/diag_11_16.sh
#  1. launch cost against the size of the parameter block (tools/device/launch_params.cu, nvcc);
#  2. the GPU blocked Cholesky cut into phases, kernelkit.tasks against Dask + CuPy, at 4/8/16 workers, a trace;
#  3. stencil, jacobi, copy, triad and launch against hand-written CUDA compiled with kernelkit's options,
#     IEEE and fast math;
#  4. the CUDA backend matrix (tools/device/cuda_matrix.sh): every Range/MDRange kernel after a launcher change.
set -uo pipefail
TOP=${OUT:-/tmp/kk-out}; OUT=$TOP/d; mkdir -p "$OUT"  # everything under d/, returned as one archive
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl 2>&1 | tail -2
export PYTHONPATH=/tmp/site
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -2
t() { echo "== $1 ($(date +%T))"; }
parts=${PARTS:-"launch chol stencil matrix"}
on() { case " $parts " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if on launch; then t launch
  nvcc -O2 -arch=sm_90 -o /tmp/launch_params tools/device/launch_params.cu -lcuda 2>&1 | tail -3
  timeout 60 /tmp/launch_params 2>&1 | tee "$OUT/launch_params.txt"
fi
if on chol; then t chol
  timeout 240 python3 tools/device/chol_diag.py -n 8000 -b 1000 --workers "${CHOL_WORKERS:-4,8,16}" --repeats 2 \
    --json "$OUT/chol_diag.json" --trace "$OUT/chol-gpu.trace.json" 2>&1 | tail -12
fi
if on stencil; then
  for fm in 0 1; do t "stencil fast_math=$fm"
    KERNELKIT_FAST_MATH=$fm timeout 120 python3 benchmarks/run.py --space cuda --only stencil,jacobi,copy,triad,launch \
      --frameworks cuda,kernelkit --json "$OUT/rates-fm$fm.json" > "$OUT/rates-fm$fm.txt" 2>&1
    echo "exit $?"; grep -iE "stencil|jacobi|copy|triad|launch" "$OUT/rates-fm$fm.txt" | tail -14
  done
fi
if on matrix; then t matrix; OUT=$OUT bash tools/device/cuda_matrix.sh 12 > "$OUT/matrix-run.txt" 2>&1; tail -5 "$OUT/matrix.txt"
  grep -E "FAILED|Error" "$OUT/matrix.txt" | head -20; fi
ls "$OUT"; tar czf "$TOP/diag.tgz" -C "$TOP" d && rm -rf "$OUT"
