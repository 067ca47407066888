"""Run by the harness in a fresh process; prints one JSON line.

    python probe_kernelkit.py first SPACE N              first and second launch of a small kernel, then
                                                         of a second one (its "next" figures exclude the
                                                         one-time work of the process's first launch)
    python probe_kernelkit.py launch SPACE CALLS BATCHES per-call time of a tiny 3-argument kernel, N=1
    python probe_kernelkit.py profile SPACE N            the first launch under cProfile: where a warm start
                                                         spends its time (run on a filled cache)

The cache directory (KERNELKIT_CACHE_DIR) and thread count come from the environment the harness sets. On
"cuda" the arrays are CudaSpace Views, uploaded (and the CUDA context made) before anything is timed. Public
API only: this script runs in a fresh interpreter, outside the harness.
"""

import cProfile
import json
import pstats
import sys
import time

import numpy as np

import kernelkit as pk

SPACES = {"openmp": "OpenMP", "serial": "Serial", "cuda": "Cuda", "debug": "Debug"}


@pk.workunit
def small(i, a, x, y):
    y[i] += a * x[i]


@pk.workunit
def small_next(i, a, x, y):
    y[i] = a * x[i] - y[i]


def _twice(label, policy, wu, **kwargs):
    t0 = time.perf_counter()
    pk.parallel_for(label, policy, wu, **kwargs)
    pk.fence()
    t1 = time.perf_counter()
    pk.parallel_for(label, policy, wu, **kwargs)
    pk.fence()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def arrays(space, n):
    if space is not pk.Cuda:
        return np.ones(n), np.zeros(n)
    x = pk.View([n], pk.double, space=pk.CudaSpace)
    y = pk.View([n], pk.double, space=pk.CudaSpace)
    # deep_copy from NumPy writes the device copies: the CUDA context and the uploads are not part of a launch.
    # (Not __cuda_array_interface__: an exported View is shared with another library, and its launches are made
    # on the calling thread, outside the launch queue: runtime/native/cudaq.c.)
    pk.deep_copy(x, np.ones(n))
    pk.deep_copy(y, np.zeros(n))
    return x, y


def first(space, n):
    x, y = arrays(space, n)
    policy = pk.RangePolicy(space, 0, n)
    first_s, second_s = _twice("small", policy, small, a=2.0, x=x, y=y)
    ok = bool(np.all(np.asarray(y) == 4.0))
    next_first_s, next_second_s = _twice("small_next", policy, small_next, a=3.0, x=x, y=y)
    ok = ok and bool(np.all(np.asarray(y) == 4.0))  # 3 - 4 = -1, then 3 - (-1) = 4
    return {
        "first_s": first_s,
        "second_s": second_s,
        "next_first_s": next_first_s,
        "next_second_s": next_second_s,
        "ok": ok,
    }


def launch(space, calls, batches):
    x, y = arrays(space, 1)
    policy = pk.RangePolicy(space, 0, 1)
    parallel_for = pk.parallel_for
    warmup = 1000
    for _ in range(warmup):
        parallel_for("tiny", policy, small, a=1.0, x=x, y=y)
    samples = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(calls):
            parallel_for("tiny", policy, small, a=1.0, x=x, y=y)
        pk.fence()
        samples.append((time.perf_counter() - t0) / calls)
    return {"per_call_s": samples, "calls": calls, "ok": bool(np.asarray(y)[0] == warmup + calls * batches)}


def profile(space, n, top=15):
    x, y = arrays(space, n)
    policy = pk.RangePolicy(space, 0, n)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    pk.parallel_for("small", policy, small, a=2.0, x=x, y=y)
    pk.fence()
    prof.disable()
    first_s = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    rows = []
    for (path, line, fn), (_, calls, tottime, cumtime, _) in stats.stats.items():
        rows.append({"function": f"{path}:{line}({fn})", "calls": calls, "tottime_s": tottime, "cumtime_s": cumtime})
    rows.sort(key=lambda r: r["tottime_s"], reverse=True)
    return {"first_s": first_s, "top": rows[:top], "ok": bool(np.all(np.asarray(y) == 2.0))}


def main(argv):
    mode, space = argv[1], getattr(pk, SPACES[argv[2]])
    if mode == "first":
        out = first(space, int(argv[3]))
    elif mode == "launch":
        out = launch(space, int(argv[3]), int(argv[4]))
    elif mode == "profile":
        out = profile(space, int(argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
