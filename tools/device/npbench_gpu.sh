#!/usr/bin/env bash
# npbench on the GPU machine, one fresh process per kernel (a kernel that crashes or hangs costs only its own
# row):   [FW_LIMIT=10] bash tools/device/npbench_gpu.sh [preset] [per-kernel seconds]
# FW_LIMIT: the seconds each framework may take (gpu.py --limit); REF_LIMIT: the NumPy reference's (--ref-limit;
# CuPy's result is the reference where NumPy outruns it).
# APPy joins when its wheel is installed (session.sh installs .whl/) and APPY_TESTS names a folder holding APPy's
# npbench tests (habanero-lab/APPy tests/integration/triton/npbench; reference data, never committed).
set -uo pipefail
OUT=${OUT:-/tmp/kk-out}; mkdir -p "$OUT/npbench"
preset=${1:-paper}; limit=${2:-60}
export PYTHONUNBUFFERED=1 KERNELKIT_CACHE_DIR=${KERNELKIT_CACHE_DIR:-/tmp/kk-cache}
kernels=${KERNELS:-}
[ -n "$kernels" ] || kernels=$(python3 -c "import sys; sys.path.insert(0, 'benchmarks/npbench'); from bench_info import BENCHMARKS; print(' '.join(BENCHMARKS))")
for k in $kernels; do
  timeout -k 5 "$limit" python3 -X faulthandler benchmarks/npbench/gpu.py --preset "$preset" --kernels "$k" \
    --repeat "${REPEAT:-3}" --limit "${FW_LIMIT:-10}" --ref-limit "${REF_LIMIT:-40}" --json "$OUT/npbench/$k.json" > "$OUT/npbench/$k.txt" 2>&1
  rc=$?
  grep -E "^$k " "$OUT/npbench/$k.txt" || echo "$k: no row"
  [ "$rc" -le 1 ] || { echo "$k: exit status $rc"; tail -25 "$OUT/npbench/$k.txt"; }
done
python3 - "$OUT/npbench" <<'PY'
import glob, json, math, sys
sys.path.insert(0, "benchmarks/npbench")
from gpu import speedups
rows = [r for f in sorted(glob.glob(sys.argv[1] + "/*.json")) for r in json.load(open(f))["rows"]]
def gm(peer):
    xs = speedups([r for r in rows if "median_s" in r["kernelkit"]], peer)
    return (math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")), len(xs)
valid = sum(bool(r["kernelkit"].get("valid")) for r in rows)
(c, nc), (a, na) = gm("cupy"), gm("appy")
print(f"kernelkit valid on {valid}/{len(rows)} kernels; geomean {c:.2f}x over CuPy ({nc}), {a:.2f}x over APPy ({na})"
      " (rows where the peer's result is valid or it hit the time limit)")
json.dump({"rows": rows, "geomean_cupy": c, "geomean_appy": a}, open(sys.argv[1] + "/../npbench-gpu.json", "w"), indent=1)
PY
