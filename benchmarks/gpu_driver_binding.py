#!/usr/bin/env python3
"""kernelkit's ctypes driver binding against NVIDIA's cuda-bindings, for the driver and NVRTC calls made off the
launch's hot path (the launch itself is cuLaunchKernel called from the C extension either way).

Three measurements, each the minimum (and median) over repeats:

- import: what `import cuda.bindings.driver` / `.nvrtc` adds to a process that imported kernelkit (fresh
  processes; kernelkit's own driver package is part of `import kernelkit`, measured alongside).
- warm start: the driver work of a process's first cached kernel, in a fresh process, phase by phase: load the
  library and cuInit, read the device's attributes, retain and set the primary context, load the cubin and
  look the kernel up, allocate the launch resources (pinned result slot, three device blocks, two memsets,
  the native entry points). "ctypes" is kernelkit's driver package doing exactly that; "cuda-bindings" is the
  same sequence written with `cuda.bindings.driver`. Plus kernelkit's end-to-end figure (first cached kernel
  of a process minus a steady launch, as tools/device/gpu_bench.py measures it).
- per call: ns per call of cuDeviceGetAttribute, cuCtxGetCurrent, cuMemAlloc+cuMemFree, 8-byte
  cuMemcpyHtoD/DtoH, cuMemsetD8, cuModuleLoadDataEx+cuModuleUnload and nvrtcVersion, each through a bare ctypes
  call as kernelkit writes it, through kernelkit's public function where there is one, and through
  cuda-bindings.

    python benchmarks/gpu_driver_binding.py --json $OUT/driver_binding.json

Without cuda-bindings (`pip install cuda-bindings`) its rows are reported as missing. `--no-end-to-end` skips
kernelkit's own launch (for a stand-in libcuda that cannot run kernelkit's kernels).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from kernelkit.backends.cuda import driver, nvrtc
from kernelkit.backends.cuda.driver import api

KERNEL = r"""
extern "C" __global__ void axpy(long long n, double a, const double* __restrict__ x, double* __restrict__ y) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
        y[i] += a * x[i];
}
"""

# The attributes kernelkit's Device reads, in its order.
ATTRIBUTES = (
    api.ATTR_CC_MAJOR,
    api.ATTR_CC_MINOR,
    api.ATTR_MULTIPROCESSOR_COUNT,
    api.ATTR_MAX_THREADS_PER_BLOCK,
    api.ATTR_MAX_THREADS_PER_SM,
    api.ATTR_MAX_SHARED_PER_BLOCK,
    api.ATTR_MAX_SHARED_PER_BLOCK_OPTIN,
    api.ATTR_MAX_SHARED_PER_SM,
    *api.ATTR_MAX_BLOCK_DIM,
    *api.ATTR_MAX_GRID_DIM,
    api.ATTR_WARP_SIZE,
    api.ATTR_L2_CACHE_SIZE,
    api.ATTR_PCI_DOMAIN_ID,
    api.ATTR_PCI_BUS_ID,
    api.ATTR_PCI_DEVICE_ID,
)

PHASES = ("import", "init", "device", "context", "module", "resources")

WARM_CTYPES = """
import json, sys, time
import kernelkit
t = [time.perf_counter()]
from kernelkit.backends.cuda import driver  # already imported by kernelkit: its cost is in `import kernelkit`
t.append(time.perf_counter())
ok, why = driver.available()
assert ok, why
t.append(time.perf_counter())
dev = driver.Device(0)
t.append(time.perf_counter())
dev.set_current()
t.append(time.perf_counter())
with open(sys.argv[1], "rb") as f:
    image = f.read()
fn = driver.Module.load(image, dev).function("axpy")
t.append(time.perf_counter())
host = driver.alloc_host(64)
blocks = [driver.alloc(n, dev) for n in (8, 8, 8 * 1024)]
driver.memset_d8(blocks[0], 0, 8)
driver.memset_d8(blocks[1], 0, 8)
points = driver.entry_points(), driver.symbol_address("cuCtxGetCurrent")
t.append(time.perf_counter())
dev.synchronize()
print(json.dumps([(b - a) * 1e3 for a, b in zip(t, t[1:])]))
"""

WARM_BINDINGS = """
import json, sys, time
import kernelkit
ATTRIBUTES = {attributes}
ENTRY_POINTS = {entry_points}
t = [time.perf_counter()]
from cuda.bindings import driver as cu
t.append(time.perf_counter())
OK = cu.CUresult.CUDA_SUCCESS
def check(result):
    if result[0] != OK:
        raise RuntimeError(result[0])
    return result[1] if len(result) == 2 else result[1:]
check(cu.cuInit(0))
assert check(cu.cuDeviceGetCount()) > 0
t.append(time.perf_counter())
dev = check(cu.cuDeviceGet(0))
name = check(cu.cuDeviceGetName(256, dev)).split(b"\\0", 1)[0].decode()
attrs = [check(cu.cuDeviceGetAttribute(cu.CUdevice_attribute(a), dev)) for a in ATTRIBUTES]
total = check(cu.cuDeviceTotalMem(dev))
t.append(time.perf_counter())
ctx = check(cu.cuDevicePrimaryCtxRetain(dev))
check(cu.cuCtxSetCurrent(ctx))
t.append(time.perf_counter())
with open(sys.argv[1], "rb") as f:
    image = f.read()
mod = check(cu.cuModuleLoadDataEx(image, 0, [], []))
fn = check(cu.cuModuleGetFunction(mod, b"axpy"))
t.append(time.perf_counter())
host = check(cu.cuMemAllocHost(64))
blocks = [check(cu.cuMemAlloc(n)) for n in (512, 512, 8 * 1024)]
check(cu.cuMemsetD8(blocks[0], 0, 8))
check(cu.cuMemsetD8(blocks[1], 0, 8))
points = [check(cu.cuGetProcAddress(s.encode(), 12000, 0))[0] for s in ENTRY_POINTS]
t.append(time.perf_counter())
check(cu.cuCtxSynchronize())
print(json.dumps([(b - a) * 1e3 for a, b in zip(t, t[1:])]))
"""

END_TO_END = """
import time, kernelkit as pk
from kernelkit.backends.cuda import driver
driver.Device(0).set_current()  # the CUDA context is not part of the warm start
@pk.workunit
def k(i, x, y, a):
    y[i] = a * x[i] + 1.0
x = pk.View([1024], pk.double, space=pk.CudaSpace); y = pk.View([1024], pk.double, space=pk.CudaSpace)
p = pk.RangePolicy(pk.Cuda, 0, 1024)
t = time.perf_counter(); pk.parallel_for(p, k, x=y, y=x, a=1.0); pk.fence(); t0 = time.perf_counter() - t
t = time.perf_counter(); pk.parallel_for(p, k, x=x, y=y, a=2.0); pk.fence(); t1 = time.perf_counter() - t
print((t0 - t1) * 1e3, k.stats().get("cache_hits", 0))
"""

IMPORTS = """
import time
t0 = time.perf_counter(); import kernelkit; t1 = time.perf_counter()
try:
    import cuda.bindings.driver; t2 = time.perf_counter()
    import cuda.bindings.nvrtc; t3 = time.perf_counter()
except ImportError:
    t2 = t3 = None
print(f"{(t1 - t0) * 1e3} {(t2 - t1) * 1e3 if t2 else 'nan'} {(t3 - t2) * 1e3 if t3 else 'nan'}")
"""


def have_bindings() -> bool:
    try:
        import cuda.bindings.driver  # noqa: F401
        import cuda.bindings.nvrtc  # noqa: F401
    except ImportError:
        return False
    return True


def summary(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values)}


def child(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"child process failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1]


def measure_imports(repeats: int) -> dict:
    rows = [[float(v) for v in child(IMPORTS).split()] for _ in range(repeats + 1)][1:]  # the first warms the disk
    names = ("kernelkit", "then cuda.bindings.driver", "then cuda.bindings.nvrtc")
    return {name: summary([r[i] for r in rows]) for i, name in enumerate(names) if not np.isnan(rows[0][i])}


def measure_warm(repeats: int, cubin: str, bindings: bool) -> dict:
    variants = {"ctypes": WARM_CTYPES}
    if bindings:
        variants["cuda-bindings"] = WARM_BINDINGS.format(
            attributes=repr(ATTRIBUTES), entry_points=repr((*api.NATIVE_ENTRY_POINTS, "cuCtxGetCurrent"))
        )
    samples: dict[str, list[list[float]]] = {name: [] for name in variants}
    for i in range(repeats + 1):
        for name, code in variants.items():  # interleaved, so machine noise hits both alike
            phases = json.loads(child(code, cubin))
            if i:
                samples[name].append(phases)
    result = {}
    for name, rows in samples.items():
        per_phase = {phase: summary([r[j] for r in rows]) for j, phase in enumerate(PHASES)}
        per_phase["total"] = summary([sum(r) for r in rows])
        per_phase["total without context"] = summary([sum(r) - r[PHASES.index("context")] for r in rows])
        result[name] = per_phase
    return result


def measure_end_to_end(repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, KERNELKIT_CACHE_DIR=cache)
        child(END_TO_END, env=env)  # fills the cache
        rows = [child(END_TO_END, env=env).split() for _ in range(repeats)]
    if not all(r[1] == "1" for r in rows):
        raise RuntimeError(f"the warm runs compiled instead of loading from the cache: {rows}")
    return {"first cached kernel of a process": summary([float(r[0]) for r in rows])}


def per_call(fn, calls: int, repeats: int) -> dict[str, float]:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter_ns() - start) / calls)
    return summary(times)


def measure_calls(calls: int, repeats: int, image: bytes, bindings: bool) -> dict:
    dev = driver.Device(0)
    dev.set_current()
    table = api.cu()
    byref = ctypes.byref
    check = api.check
    host = np.zeros(1)
    host_address = host.ctypes.data
    block = driver.alloc(8, dev)

    def ct_attr():
        v = ctypes.c_int()
        check(table.cuDeviceGetAttribute(byref(v), api.ATTR_MULTIPROCESSOR_COUNT, dev.handle), "cuDeviceGetAttribute")
        return v.value

    def ct_ctx():
        c = ctypes.c_void_p()
        check(table.cuCtxGetCurrent(byref(c)), "cuCtxGetCurrent")
        return c.value

    def ct_alloc_free():
        p = ctypes.c_uint64()
        check(table.cuMemAlloc(byref(p), 1 << 20), "cuMemAlloc")
        check(table.cuMemFree(p.value), "cuMemFree")

    def ct_module():
        m = ctypes.c_void_p()
        check(table.cuModuleLoadDataEx(byref(m), image, 0, None, None), "cuModuleLoadDataEx")
        check(table.cuModuleUnload(m.value), "cuModuleUnload")

    lib = nvrtc._lib if nvrtc.available() else None

    def ct_nvrtc():
        major, minor = ctypes.c_int(), ctypes.c_int()
        if lib.nvrtcVersion(byref(major), byref(minor)) != 0:
            raise RuntimeError("nvrtcVersion")
        return major.value, minor.value

    rows: dict[str, dict] = {
        "cuDeviceGetAttribute": {"ctypes": ct_attr, "kernelkit": lambda: dev.attribute(api.ATTR_MULTIPROCESSOR_COUNT)},
        "cuCtxGetCurrent": {"ctypes": ct_ctx},
        "cuMemAlloc+cuMemFree 1 MiB": {"ctypes": ct_alloc_free},
        "cuMemcpyHtoD 8 B": {
            "ctypes": lambda: check(table.cuMemcpyHtoD(block, host_address, 8), "cuMemcpyHtoD"),
            "kernelkit": lambda: driver.memcpy_htod(block, host, 8),
        },
        "cuMemcpyDtoH 8 B": {
            "ctypes": lambda: check(table.cuMemcpyDtoH(host_address, block, 8), "cuMemcpyDtoH"),
            "kernelkit": lambda: driver.memcpy_dtoh(host, block, 8),
        },
        "cuMemsetD8 8 B": {
            "ctypes": lambda: check(table.cuMemsetD8(block, 0, 8), "cuMemsetD8"),
            "kernelkit": lambda: driver.memset_d8(block, 0, 8),
        },
        "cuModuleLoadDataEx+cuModuleUnload": {
            "ctypes": ct_module,
            "kernelkit": lambda: driver.Module.load(image, dev).unload(),
        },
    }
    if lib is not None:
        rows["nvrtcVersion"] = {"ctypes": ct_nvrtc, "kernelkit": nvrtc.version}
    if bindings:
        from cuda.bindings import driver as cu
        from cuda.bindings import nvrtc as nv

        ok, nv_ok = cu.CUresult.CUDA_SUCCESS, nv.nvrtcResult.NVRTC_SUCCESS
        cudev = cu.CUdevice(dev.handle)
        sm_count = cu.CUdevice_attribute(api.ATTR_MULTIPROCESSOR_COUNT)

        def ok1(result):
            if result[0] != ok:
                raise RuntimeError(result[0])
            return result[1] if len(result) > 1 else None

        def cb_alloc_free():
            ok1(cu.cuMemFree(ok1(cu.cuMemAlloc(1 << 20))))

        def cb_module():
            ok1(cu.cuModuleUnload(ok1(cu.cuModuleLoadDataEx(image, 0, [], []))))

        def cb_nvrtc():
            err, major, minor = nv.nvrtcVersion()
            if err != nv_ok:
                raise RuntimeError(err)
            return major, minor

        rows["cuDeviceGetAttribute"]["cuda-bindings"] = lambda: ok1(cu.cuDeviceGetAttribute(sm_count, cudev))
        rows["cuCtxGetCurrent"]["cuda-bindings"] = lambda: ok1(cu.cuCtxGetCurrent())
        rows["cuMemAlloc+cuMemFree 1 MiB"]["cuda-bindings"] = cb_alloc_free
        rows["cuMemcpyHtoD 8 B"]["cuda-bindings"] = lambda: ok1(cu.cuMemcpyHtoD(block, host, 8))
        rows["cuMemcpyDtoH 8 B"]["cuda-bindings"] = lambda: ok1(cu.cuMemcpyDtoH(host, block, 8))
        rows["cuMemsetD8 8 B"]["cuda-bindings"] = lambda: ok1(cu.cuMemsetD8(block, 0, 8))
        rows["cuModuleLoadDataEx+cuModuleUnload"]["cuda-bindings"] = cb_module
        if "nvrtcVersion" in rows:
            rows["nvrtcVersion"]["cuda-bindings"] = cb_nvrtc
    result = {}
    for call, variants in rows.items():
        n = max(calls // 20, 10) if "Module" in call or "Alloc" in call else calls
        result[call] = {name: per_call(fn, n, repeats) for name, fn in variants.items()}
    driver.free(block)
    return result


def report(out: dict) -> None:
    print(f"\n{out['device']}, driver CUDA {out['driver']}, NVRTC {out['nvrtc']}, cuda-bindings {out['bindings']}")
    print("\nimport (ms, min / median over fresh processes)")
    for name, s in out["import"].items():
        print(f"  {name:34} {s['min']:8.2f} {s['median']:8.2f}")
    print("\nwarm start, driver work of the first cached kernel (ms, min / median over fresh processes)")
    variants = list(out["warm"])
    print(f"  {'phase':24}" + "".join(f"{v:>22}" for v in variants))
    for phase in (*PHASES, "total", "total without context"):
        cells = "".join(f"{s['min']:11.3f} {s['median']:10.3f}" for s in (out["warm"][v][phase] for v in variants))
        print(f"  {phase:24}{cells}")
    for name, s in out.get("end_to_end", {}).items():
        print(f"  kernelkit, {name}: {s['min']:.2f} ms (median {s['median']:.2f})")
    print("\nper call (ns, min over repeats)")
    names = ["ctypes", "kernelkit", "cuda-bindings"]
    print(f"  {'call':36}" + "".join(f"{n:>15}" for n in names))
    for call, variants in out["calls"].items():
        cells = "".join(f"{variants[n]['min']:15.0f}" if n in variants else f"{'-':>15}" for n in names)
        print(f"  {call:36}{cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="write every figure here")
    parser.add_argument("--repeats", type=int, default=15, help="fresh processes per figure (default 15)")
    parser.add_argument("--calls", type=int, default=20000, help="calls per timed loop (default 20000)")
    parser.add_argument("--no-end-to-end", action="store_true", help="skip kernelkit's own first cached kernel")
    opts = parser.parse_args(argv)
    ok, why = driver.available()
    if not ok:
        print(f"no usable CUDA device: {why}", file=sys.stderr)
        return 1
    bindings = have_bindings()
    dev = driver.Device(0)
    target, is_ptx = nvrtc.target_for(dev.arch)
    image = nvrtc.compile(KERNEL, "axpy.cu", target, ptx=is_ptx)
    if is_ptx:
        image += b"\0"
    out: dict = {
        "device": f"{dev.name} ({dev.arch})",
        "driver": ".".join(map(str, driver.driver_version())),
        "nvrtc": ".".join(map(str, nvrtc.version())),
        "bindings": _bindings_version() if bindings else "not installed",
        "repeats": opts.repeats,
        "import": measure_imports(opts.repeats),
    }
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(image)
        f.flush()
        out["warm"] = measure_warm(opts.repeats, f.name, bindings)
    if not opts.no_end_to_end:
        out["end_to_end"] = measure_end_to_end(opts.repeats)
    out["calls"] = measure_calls(opts.calls, max(opts.repeats // 3, 3), image, bindings)
    report(out)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


def _bindings_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cuda-bindings")
    except PackageNotFoundError:
        return "installed (version unknown)"


if __name__ == "__main__":
    sys.exit(main())
