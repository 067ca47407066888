#!/usr/bin/env bash
# Issue 16 on the GPU machine in one call (about 3.5 minutes):   bash tools/device/issue16.sh
# Installs kernelkit (offline, no dependencies), then runs the one GPU harness on the figures the issue's
# "Done means" lists: copy, triad, dot, sum against hand-written CUDA (with cuMemcpyDtoD as the bandwidth
# ceiling), both team transpose spellings and the star stencil, the warm start of the first cached kernel
# (fresh processes, profiled), launch overhead (fresh process and in process), a 100-kernel loop replayed as
# pk.graph() against the same launches one by one, and bandwidth against array size (L2-resident to 4 GiB)
# for kernelkit, the hand-written kernel and CuPy. Writes $OUT/issue16*.{json,md,txt}, the plots under
# $OUT/plots (sweep-cuda.png is the bandwidth-size plot), the SASS of the kernels compared, and ends with
# the summary table (also $OUT/summary.json).
set -uo pipefail
OUT=${OUT:-/tmp/kk-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=/tmp/kk-cache
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
python3 -m pip install -q --no-build-isolation --no-deps -e . 2>&1 | tail -3
# two runs, so that a slow second part cannot cost the first one's report
timeout 150 python3 benchmarks/run.py --space cuda --profile-warm \
   --only copy,triad,dot,sum,transpose,stencil,warm,launch,transfers \
   --frameworks cuda,cuda-memcpy,kernelkit,kernelkit-team,kernelkit-threadvector,kernelkit-teamvector,cupy \
   --json "$OUT/issue16.json" --markdown "$OUT/issue16.md" > "$OUT/issue16.txt" 2> "$OUT/issue16.log"
echo "harness (rates, latency) exit status $?"
timeout 75 python3 benchmarks/run.py --space cuda --only graph,sweep --frameworks cuda,cuda-memcpy,kernelkit,cupy \
   --json "$OUT/issue16-graph-sweep.json" --plot "$OUT/plots" --markdown "$OUT/issue16-graph-sweep.md" \
   > "$OUT/issue16-graph-sweep.txt" 2> "$OUT/issue16-graph-sweep.log"
echo "harness (graph, sweep) exit status $?"
tail -45 "$OUT/issue16.txt"; tail -8 "$OUT/issue16-graph-sweep.txt"
if command -v cuobjdump > /dev/null; then  # the SASS of what was measured, for the record (seconds)
  mkdir -p "$OUT/sass"
  for f in "$KERNELKIT_CACHE_DIR"/v1/*.so; do
    name=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('kernel','k'))" "${f%.so}.json" 2>/dev/null || echo k)
    cuobjdump -sass "$f" > "$OUT/sass/tmp.sass" 2>/dev/null && mv "$OUT/sass/tmp.sass" "$OUT/sass/$name-$(basename "${f%.so}" | cut -c1-8).sass"
  done
  rm -f "$OUT/sass/tmp.sass"
fi
python3 tools/device/issue16_summary.py "$OUT/summary.json" "$OUT/issue16.json" "$OUT/issue16-graph-sweep.json"
