"""Run by the harness in a fresh process; prints one JSON line. Same protocol as probe_kernelkit.py.

CuPy's ElementwiseKernel, compiled by NVRTC on first call and cached on disk in CUPY_CACHE_DIR (set by the
harness). The CUDA context and the arrays are made before anything is timed. SPACE must be "cuda".
"""

import json
import sys
import time

import cupy as cp

SMALL = ("float64 a, float64 x", "float64 y", "y = y + a * x", "kkprobe_small")
NEXT = ("float64 a, float64 x", "float64 y", "y = a * x - y", "kkprobe_next")


def _twice(kernel, *args):
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        kernel(*args)
        cp.cuda.runtime.deviceSynchronize()
        times.append(time.perf_counter() - t0)
    return times


def first(n):
    x = cp.ones(n)
    y = cp.zeros(n)
    cp.cuda.runtime.deviceSynchronize()
    first_s, second_s = _twice(cp.ElementwiseKernel(*SMALL), 2.0, x, y)
    ok = bool((y == 4.0).all())
    next_first_s, next_second_s = _twice(cp.ElementwiseKernel(*NEXT), 3.0, x, y)
    ok = ok and bool((y == 4.0).all())
    return {
        "first_s": first_s,
        "second_s": second_s,
        "next_first_s": next_first_s,
        "next_second_s": next_second_s,
        "ok": ok,
    }


def launch(calls, batches):
    x = cp.ones(1)
    y = cp.zeros(1)
    k = cp.ElementwiseKernel(*SMALL)
    warmup = 1000
    for _ in range(warmup):
        k(1.0, x, y)
    cp.cuda.runtime.deviceSynchronize()
    samples = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(calls):
            k(1.0, x, y)
        cp.cuda.runtime.deviceSynchronize()
        samples.append((time.perf_counter() - t0) / calls)
    return {"per_call_s": samples, "calls": calls, "ok": bool(float(y[0]) == warmup + calls * batches)}


def main(argv):
    mode = argv[1]
    if argv[2] != "cuda":
        raise SystemExit("cupy probe: only the cuda space")
    if mode == "first":
        out = first(int(argv[3]))
    elif mode == "launch":
        out = launch(int(argv[3]), int(argv[4]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
