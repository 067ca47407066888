"""Run by the harness in a fresh process; prints one JSON line. Same protocol as probe_kernelkit.py.

SPACE "openmp" is Warp's "cpu" device, "cuda" its first GPU. The kernel cache is the directory in
KERNELKIT_PROBE_CACHE (set before `wp.init()`); `wp.init()` and the arrays are made before anything is timed.
Warp builds every kernel of a module at its first launch, so there is no separate "next kernel" figure.
"""

import json
import os
import sys
import time

import numpy as np
import warp as wp

wp.config.quiet = True  # older Warp
wp.config.log_level = 30  # logging.WARNING: no banner (newer Warp)
if os.environ.get("KERNELKIT_PROBE_CACHE"):
    wp.config.kernel_cache_dir = os.environ["KERNELKIT_PROBE_CACHE"]

F = wp.array(dtype=wp.float64)


@wp.kernel
def small(a: wp.float64, x: F, y: F):
    i = wp.tid()
    y[i] = y[i] + a * x[i]


def setup(space, n):
    wp.init()
    device = "cpu" if space == "openmp" else "cuda:0"
    x = wp.array(np.ones(n), dtype=wp.float64, device=device)
    y = wp.zeros(n, dtype=wp.float64, device=device)
    wp.synchronize_device(device)
    return device, x, y


def first(space, n):
    device, x, y = setup(space, n)
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        wp.launch(small, dim=n, inputs=[2.0, x, y], device=device)
        wp.synchronize_device(device)
        times.append(time.perf_counter() - t0)
    return {"first_s": times[0], "second_s": times[1], "ok": bool(np.all(y.numpy() == 4.0))}


def launch(space, calls, batches):
    device, x, y = setup(space, 1)
    warmup = 1000
    for _ in range(warmup):
        wp.launch(small, dim=1, inputs=[1.0, x, y], device=device)
    wp.synchronize_device(device)
    samples = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(calls):
            wp.launch(small, dim=1, inputs=[1.0, x, y], device=device)
        wp.synchronize_device(device)
        samples.append((time.perf_counter() - t0) / calls)
    return {"per_call_s": samples, "calls": calls, "ok": bool(y.numpy()[0] == warmup + calls * batches)}


def main(argv):
    mode, space = argv[1], argv[2]
    if mode == "first":
        out = first(space, int(argv[3]))
    elif mode == "launch":
        out = launch(space, int(argv[3]), int(argv[4]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
