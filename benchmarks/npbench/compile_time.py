"""Compile time of a typical annotated function (three parallel loops): cold (empty cache) and warm (a new
process that finds it in the cache), for the OpenMP space, and for CudaCheck (the NVRTC compile of the same
program's kernels plus its GPU host unit, added to the OpenMP build).

    python benchmarks/npbench/compile_time.py [--space openmp] [--runs 3]

Each measurement runs in a fresh process; the time is the first call minus a later call (compilation and
loading, without the work), medians over `runs`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

PROGRAM = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import kernelkit as pk

    @pk.jit(space=getattr(pk, sys.argv[1]) if sys.argv[1] != "CudaCheck" else None)
    def three_loops(a, b):
        n = a.shape[0]
        c = np.empty_like(a)
        for i in pk.prange(n):
            c[i] = a[i] * b[i]
        s = 0.0
        for i in pk.prange(n):
            s += c[i]
        m = -np.inf
        for i in pk.prange(n):
            m = max(m, c[i])
        return c, s, m

    a = np.ones(1000); b = np.ones(1000)
    t0 = time.perf_counter(); three_loops(a, b); first = time.perf_counter() - t0
    t0 = time.perf_counter(); three_loops(a, b); again = time.perf_counter() - t0
    print(json.dumps({"first": first, "again": again, "stats": three_loops.stats()}))
""")


def once(space: str, cache: str) -> dict:
    path = os.path.join(cache, "three_loops.py")  # one file: the generated source names it (#line)
    with open(path, "w") as f:
        f.write(PROGRAM)
    env = dict(os.environ, KERNELKIT_CACHE_DIR=cache)
    if space == "CudaCheck":
        env["KERNELKIT_SPACE"] = "cudacheck"
    out = subprocess.run([sys.executable, path, space], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", default="OpenMP", choices=["OpenMP", "Serial", "CudaCheck"])
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args(argv)
    cold, warm = [], []
    for _ in range(a.runs):
        with tempfile.TemporaryDirectory() as cache:
            c = once(a.space, cache)
            w = once(a.space, cache)
        assert c["stats"]["compiles"] >= 1 and w["stats"]["compiles"] == 0, (c, w)
        cold.append(c["first"] - c["again"])
        warm.append(w["first"] - w["again"])
    print(
        f"{a.space}: cold compile {statistics.median(cold) * 1e3:.0f} ms, warm (cache hit, new process) "
        f"{statistics.median(warm) * 1e3:.1f} ms  (medians of {a.runs})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
