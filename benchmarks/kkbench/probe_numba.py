"""Run by the harness in a fresh process; prints one JSON line. Same protocol as probe_kernelkit.py.

The kernel is `@njit(parallel=True, cache=True)` so a second process with the same NUMBA_CACHE_DIR measures
Numba's warm start; SPACE must be "openmp" (parallel=True is Numba's multithreaded CPU target).
"""

import json
import sys
import time

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def small(a, x, y):
    for i in prange(x.shape[0]):
        y[i] += a * x[i]


def first(n):
    x = np.ones(n)
    y = np.zeros(n)
    t0 = time.perf_counter()
    small(2.0, x, y)
    t1 = time.perf_counter()
    small(2.0, x, y)
    t2 = time.perf_counter()
    return {"first_s": t1 - t0, "second_s": t2 - t1, "ok": bool(np.all(y == 4.0))}


def launch(calls, batches):
    x = np.ones(1)
    y = np.zeros(1)
    warmup = 1000
    for _ in range(warmup):
        small(1.0, x, y)
    samples = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(calls):
            small(1.0, x, y)
        samples.append((time.perf_counter() - t0) / calls)
    return {"per_call_s": samples, "calls": calls, "ok": bool(y[0] == warmup + calls * batches)}


def main(argv):
    mode = argv[1]
    if argv[2] != "openmp":
        raise SystemExit("numba probe: only the openmp space")
    if mode == "first":
        out = first(int(argv[3]))
    elif mode == "launch":
        out = launch(int(argv[3]), int(argv[4]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
