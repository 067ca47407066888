"""Where a kernelkit CUDA launch spends its time (issue 16's launch figure), on the GPU machine:

- sustained: 10^5 launches of the one-element triad back to back, then a synchronization (what kkbench's
  "launch overhead" measures), per launch;
- enqueue: the best of 200 batches of 256 launches, timed up to the last `parallel_for` returning (the
  batch drains untimed): the host's share, the GPU's execution of the queue excluded;
- with `--fake LIB` (tests/unit/fake_libcuda.c, built with `cc -shared -fPIC -O1 ... -ldl`): the same calls
  against a driver whose cuLaunchKernel only records its arguments: kernelkit's own share on this CPU.

    python3 tools/device/launch_split.py [--fake /tmp/libfakecuda.so]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--fake", default=None)
ap.add_argument("--calls", type=int, default=100000)
opts = ap.parse_args()
if opts.fake:
    from kernelkit.backends.cuda import driver

    driver.use_library(opts.fake)
import kernelkit as pk  # noqa: E402


@pk.workunit
def triad(i, a, b, c, s):
    a[i] = b[i] + s * c[i]


a, b, c = (pk.View([1], pk.double, space=pk.CudaSpace) for _ in range(3))
policy = pk.RangePolicy(pk.Cuda, 0, 1)
pf, fence = pk.parallel_for, pk.fence
for _ in range(2000):
    pf("tiny", policy, triad, a=a, b=b, c=c, s=3.0)
fence()
sustained = []
for _ in range(5):
    t0 = time.perf_counter()
    for _ in range(opts.calls):
        pf("tiny", policy, triad, a=a, b=b, c=c, s=3.0)
    fence()
    sustained.append((time.perf_counter() - t0) / opts.calls * 1e6)
enqueue = []
for _ in range(200):
    t0 = time.perf_counter()
    for _ in range(256):
        pf("tiny", policy, triad, a=a, b=b, c=c, s=3.0)
    enqueue.append((time.perf_counter() - t0) / 256 * 1e6)
    fence()
out = {
    "driver": opts.fake or "libcuda",
    "sustained_us": {"best": min(sustained), "median": statistics.median(sustained)},
    "enqueue_us": {"best": min(enqueue), "median": statistics.median(enqueue)},
    "python": sys.version.split()[0],
}
print(json.dumps(out))
