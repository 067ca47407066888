"""Where a kernelkit CUDA launch spends its time (issue 16's launch figure), on the GPU machine:

- sustained: 10^5 launches of the one-element triad back to back, then a synchronization (what kkbench's
  "launch overhead" measures), per launch;
- enqueue: the best of 200 batches of 256 launches, timed up to the last `parallel_for` returning (the
  batch drains untimed): the host's share, the GPU's execution of the queue excluded;
- with `--fake LIB` (tests/unit/fake_libcuda.c, built with `cc -shared -fPIC -O1 ... -ldl`): the same calls
  against a driver whose cuLaunchKernel only records its arguments: kernelkit's own share on this CPU;
  `--fake-delay-us D` makes each of its launches take D us of CPU, as a real driver's does;
- `--queue off` launches on the calling thread (KERNELKIT_CUDA_LAUNCH_QUEUE=0), as before the launch queue
  (runtime/native/cudaq.c).

    python3 tools/device/launch_split.py [--fake /tmp/libfakecuda.so [--fake-delay-us 3]] [--queue off]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--fake", default=None)
ap.add_argument("--fake-delay-us", type=int, default=0)
ap.add_argument("--queue", choices=("on", "off"), default="on")
ap.add_argument("--calls", type=int, default=100000)
opts = ap.parse_args()
os.environ["KERNELKIT_CUDA_LAUNCH_QUEUE"] = "1" if opts.queue == "on" else "0"
if opts.fake:
    import ctypes

    from kernelkit.backends.cuda import driver

    driver.use_library(opts.fake)
    ctypes.CDLL(opts.fake).fake_kk_launch_delay_us(opts.fake_delay_us)
import kernelkit as pk  # noqa: E402
from kernelkit import _native  # noqa: E402


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
    "fake_delay_us": opts.fake_delay_us,
    "queue": opts.queue,
    "queued": _native.cuda_queue_state()["queued"],
    "sustained_us": {"best": min(sustained), "median": statistics.median(sustained)},
    "enqueue_us": {"best": min(enqueue), "median": statistics.median(enqueue)},
    "python": sys.version.split()[0],
}
print(json.dumps(out))
