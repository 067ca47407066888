"""Two GPUs in one process: Views on pk.Cuda(0) and pk.Cuda(1), kernels on each, deep copies between them.

    python benchmarks/multigpu/peer.py [--mib 1024] [--reps 20] [--json PATH]

Prints the path each copy took (peer-to-peer where the driver allows it, else staged through the host), the copy
bandwidth both ways, and checks every value. Needs two GPUs (exit 2 otherwise)."""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

import kernelkit as pk
from kernelkit.backends.cuda import driver
from kernelkit.runtime import coherence


@pk.workunit
def fill(i, a, v):
    a[i] = v + i


@pk.workunit
def check(i, acc, a, v):
    acc += 0 if a[i] == v + i else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mib", type=int, default=1024)
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--json")
    args = p.parse_args(argv)
    if not driver.available()[0] or driver.device_count() < 2:
        print("needs two GPUs")
        return 2
    n = args.mib * (1 << 20) // 8
    g0, g1 = pk.Cuda(0), pk.Cuda(1)
    a = pk.View([n], pk.double, space=pk.CudaSpace)
    b = pk.View([n], pk.double, space=pk.CudaSpace)
    pk.parallel_for(pk.RangePolicy(g0, 0, n), fill, a=a, v=1.0)
    pk.parallel_for(pk.RangePolicy(g1, 0, n), fill, a=b, v=-1.0)
    where = (coherence.where(a)[0].device, coherence.where(b)[0].device)
    out: dict[str, object] = {
        "devices": where,
        "peer_access": [driver.can_access_peer(0, 1), driver.can_access_peer(1, 0)],
    }
    for name, dst, src, v, dev in (("gpu0->gpu1", b, a, 1.0, g1), ("gpu1->gpu0", a, b, 1.0, g0)):
        coherence.reset_stats()
        pk.deep_copy(dst, src)  # warm: the path is decided and counted
        st = coherence.stats()
        path = "peer" if st["peer"] else "staged" if st["staged"] else "host" if st["d2h"] else "?"
        times = []
        for _ in range(args.reps):
            pk.fence()
            t = time.perf_counter()
            pk.deep_copy(dst, src)
            driver.Device(0).synchronize()
            driver.Device(1).synchronize()
            times.append(time.perf_counter() - t)
        bad = pk.parallel_reduce(pk.RangePolicy(dev, 0, n), check, a=dst, v=v)
        gbs = n * 8 / float(np.median(times)) / 1e9
        out[name] = {"path": path, "GB/s": round(gbs, 1), "mismatches": int(bad), "d2h": st["d2h"]}
        print(f"{name}: {path:6s} {gbs:8.1f} GB/s  mismatches {bad}  (host copies {st['d2h']})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    ok = all(out[k]["mismatches"] == 0 for k in ("gpu0->gpu1", "gpu1->gpu0"))  # type: ignore[index]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
