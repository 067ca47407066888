"""GPU measurements for the CUDA backend (issue 3), side by side with hand-written CUDA and CuPy in one process.

Run on a machine with an NVIDIA GPU: `python tools/device/gpu_bench.py [--json PATH] [--quick]`.
Hand-written kernels are compiled with NVRTC for the same architecture and launched through the driver API
with the same block size; CuPy versions use ElementwiseKernel (triad, copy) and cuBLAS / CUB (dot, sum).
Timing: CUDA events around repeated launches after warm-up, median of several batches.
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
import textwrap
import time

import numpy as np

import kernelkit as pk
from kernelkit.backends.cuda import driver, nvrtc
from kernelkit.runtime import memory

TILE = 32

REF = r"""
extern "C" __global__ void triad(double* a, const double* b, const double* c, double s, long n) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) a[i] = b[i] + s * c[i];
}
extern "C" __global__ void copy(double* c, const double* a, long n) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i];
}
extern "C" __global__ void dot(const double* a, const double* b, double* out, long n) {
    __shared__ double w[32];
    double s = 0;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        s += a[i] * b[i];
    for (int o = 16; o; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    if ((threadIdx.x & 31) == 0) w[threadIdx.x >> 5] = s;
    __syncthreads();
    if (threadIdx.x < 32) {
        s = threadIdx.x < blockDim.x / 32 ? w[threadIdx.x] : 0;
        for (int o = 16; o; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
        if (threadIdx.x == 0) atomicAdd(out, s);
    }
}
extern "C" __global__ void sum(const double* a, double* out, long n) {
    __shared__ double w[32];
    double s = 0;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
        s += a[i];
    for (int o = 16; o; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    if ((threadIdx.x & 31) == 0) w[threadIdx.x >> 5] = s;
    __syncthreads();
    if (threadIdx.x < 32) {
        s = threadIdx.x < blockDim.x / 32 ? w[threadIdx.x] : 0;
        for (int o = 16; o; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
        if (threadIdx.x == 0) atomicAdd(out, s);
    }
}
extern "C" __global__ void yax(const double* y, const double* A, const double* x, double* out, long N, long M) {
    /* one block per row, warp shuffles: the hand-written reference for the team yAx */
    __shared__ double w[32];
    for (long r = blockIdx.x; r < N; r += gridDim.x) {
        double s = 0;
        for (long j = threadIdx.x; j < M; j += blockDim.x) s += A[r * M + j] * x[j];
        for (int o = 16; o; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
        if ((threadIdx.x & 31) == 0) w[threadIdx.x >> 5] = s;
        __syncthreads();
        if (threadIdx.x < 32) {
            s = threadIdx.x < blockDim.x / 32 ? w[threadIdx.x] : 0;
            for (int o = 16; o; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
            if (threadIdx.x == 0) atomicAdd(out, y[r] * s);
        }
        __syncthreads();
    }
}
extern "C" __global__ void transpose(const double* a, double* b, long n) {
    __shared__ double tile[32][33];
    long bx = blockIdx.x * 32, by = blockIdx.y * 32;
    for (int j = threadIdx.y; j < 32; j += blockDim.y)
        if (by + j < n && bx + threadIdx.x < n) tile[j][threadIdx.x] = a[(by + j) * n + bx + threadIdx.x];
    __syncthreads();
    for (int j = threadIdx.y; j < 32; j += blockDim.y)
        if (bx + j < n && by + threadIdx.x < n) b[(bx + j) * n + by + threadIdx.x] = tile[threadIdx.x][j];
}
extern "C" __global__ void tiny(double* a, const double* b, const double* c, double s, long n) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) a[i] = b[i] + s * c[i];
}
"""


@pk.workunit
def triad(i, a, b, c, s):
    a[i] = b[i] + s * c[i]


@pk.workunit
def copy(i, c, a):
    c[i] = a[i]


@pk.workunit
def dot(i, acc, a, b):
    acc += a[i] * b[i]


@pk.workunit
def total(i, acc, a):
    acc += a[i]


@pk.workunit
def fill(i, a, v):
    a[i] = v + 0.0 * i


def events_time(run, reps: int, batches: int = 5) -> float:
    """Median seconds per run over `batches` batches of `reps` runs, timed with CUDA events."""
    run()
    driver.current_device().synchronize()
    times = []
    for _ in range(batches):
        e0, e1 = driver.Event(), driver.Event()
        e0.record()
        for _ in range(reps):
            run()
        e1.record()
        e1.synchronize()
        times.append(e0.elapsed_time(e1) / 1e3 / reps)
    return statistics.median(times)


def wall_time(run, reps: int, batches: int = 5) -> float:
    run()
    times = []
    for _ in range(batches):
        t = time.perf_counter()
        for _ in range(reps):
            run()
        times.append((time.perf_counter() - t) / reps)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int, default=1 << 27)
    opts = ap.parse_args()
    dev = driver.Device(0)
    dev.set_current()
    n = opts.n if not opts.quick else 1 << 24
    reps = 20 if not opts.quick else 5
    out: dict = {"device": dev.name, "arch": dev.arch, "sms": dev.multiprocessor_count, "n": n,
                 "nvrtc": list(nvrtc.version()), "driver": list(driver.driver_version()), "results": {}}
    R = out["results"]
    cuda = pk.Cuda
    pol = pk.RangePolicy(cuda, 0, n)
    a = pk.View([n], pk.double, space=pk.CudaSpace)
    b = pk.View([n], pk.double, space=pk.CudaSpace)
    c = pk.View([n], pk.double, space=pk.CudaSpace)
    pk.parallel_for(pol, fill, a=a, v=0.0)
    pk.parallel_for(pol, fill, a=b, v=1.0)
    pk.parallel_for(pol, fill, a=c, v=2.0)
    s = 3.0

    # --- correctness against NumPy on a sample
    pk.parallel_for(pol, triad, a=a, b=b, c=c, s=s)
    d = pk.parallel_reduce(pol, dot, a=a, b=b)
    t = pk.parallel_reduce(pol, total, a=c)
    host_a = np.asarray(a)
    assert np.allclose(host_a[:1000], 7.0) and np.allclose(host_a[-1000:], 7.0), host_a[:5]
    assert abs(d - 7.0 * n) < 1e-6 * 7 * n and abs(t - 2.0 * n) < 1e-9 * n, (d, t)

    # --- the 100-step loop moves no data (one launch first: the host read above left `a` host-current only
    # for reading, so nothing needs moving; the loop itself must not move anything either)
    pk.parallel_for(pol, triad, a=a, b=b, c=c, s=s)
    pk.fence()
    memory.reset_stats()
    for _ in range(100):
        pk.parallel_for(pol, triad, a=a, b=b, c=c, s=s)
        pk.parallel_for(pol, copy, c=c, a=a)
    pk.fence()
    R["loop100_transfers"] = memory.stats()
    pk.parallel_for(pol, fill, a=c, v=2.0)  # the loop grew a and c: reset them for the comparisons below
    pk.parallel_for(pol, triad, a=a, b=b, c=c, s=s)
    d = pk.parallel_reduce(pol, dot, a=a, b=b)
    assert abs(d - 7.0 * n) < 1e-6 * 7 * n, d

    # --- hand-written CUDA, same process
    mod = driver.Module.from_cubin(nvrtc.compile(REF, "ref.cu", dev.arch), dev)
    f_triad, f_copy, f_dot, f_sum, f_tiny = (mod.function(x) for x in ("triad", "copy", "dot", "sum", "tiny"))
    pa, pb, pc = (memory.ensure_device(v, 0) for v in (a, b, c))
    res = driver.alloc(8)
    host_res = np.zeros(1)
    P, D, L = ctypes.c_void_p, ctypes.c_double, ctypes.c_long
    grid = (n + 255) // 256
    red_grid = dev.multiprocessor_count * (dev.max_threads_per_multiprocessor // 256)

    def ref_triad():
        driver.launch(f_triad, grid, 256, 0, None, [P(pa), P(pb), P(pc), D(s), L(n)])

    def ref_copy():
        driver.launch(f_copy, grid, 256, 0, None, [P(pc), P(pa), L(n)])

    def ref_dot():
        driver.memset_d8(res, 0, 8)
        driver.launch(f_dot, red_grid, 256, 0, None, [P(pa), P(pb), P(res), L(n)])
        driver.memcpy_dtoh(host_res, res, 8)
        return host_res[0]

    def ref_sum():
        driver.memset_d8(res, 0, 8)
        driver.launch(f_sum, red_grid, 256, 0, None, [P(pa), P(res), L(n)])
        driver.memcpy_dtoh(host_res, res, 8)
        return host_res[0]

    assert abs(ref_sum() - 7.0 * n) < 1e-6 * 7 * n
    ref_dot_val = ref_dot()
    if not abs(ref_dot_val - d) < 1e-9 * abs(d):
        small = driver.alloc(8 * 1024)
        driver.memcpy_htod(small, np.ones(1024), 8 * 1024)
        driver.memset_d8(res, 0, 8)
        driver.launch(f_dot, 4, 256, 0, None, [P(small), P(small), P(res), L(1024)])
        driver.memcpy_dtoh(host_res, res, 8)
        print("REFERENCE DOT MISMATCH", ref_dot_val, d, "small test (expect 1024):", host_res[0], flush=True)
        out["ref_dot_mismatch"] = [float(ref_dot_val), d, float(host_res[0])]

    def kk_triad():
        pk.parallel_for(pol, triad, a=a, b=b, c=c, s=s)

    def kk_copy():
        pk.parallel_for(pol, copy, c=c, a=a)

    def kk_dot():
        return pk.parallel_reduce(pol, dot, a=a, b=b)

    def kk_sum():
        return pk.parallel_reduce(pol, total, a=a)

    rows = {
        "triad": (3 * 8 * n, kk_triad, ref_triad),
        "copy": (2 * 8 * n, kk_copy, ref_copy),
        "dot": (2 * 8 * n, kk_dot, ref_dot),
        "sum": (1 * 8 * n, kk_sum, ref_sum),
    }
    try:
        import cupy as cp

        ca, cb, cc = (cp.asarray(v) for v in (a, b, c))  # zero-copy through __cuda_array_interface__
        tri = cp.ElementwiseKernel("float64 b, float64 c, float64 s", "float64 a", "a = b + s * c", "kk_triad")
        cpy = cp.ElementwiseKernel("float64 a", "float64 c", "c = a", "kk_copy")
        cupy = {"triad": lambda: tri(cb, cc, s, ca), "copy": lambda: cpy(ca, cc),
                "dot": lambda: float(cp.dot(ca, cb)), "sum": lambda: float(cp.sum(ca))}
        out["cupy"] = cp.__version__
    except Exception as e:  # CuPy missing or broken: reported, not fatal
        cupy = {}
        out["cupy"] = f"skipped: {e}"
    for name, (nbytes, kk, ref) in rows.items():
        row = {"bytes": nbytes}
        row["kernelkit_s"] = events_time(kk, reps)
        if ref is not None:
            row["cuda_s"] = events_time(ref, reps)
        if name in cupy:
            row["cupy_s"] = events_time(cupy[name], reps)
        for k in ("kernelkit", "cuda", "cupy"):
            if row.get(f"{k}_s"):
                row[f"{k}_GBs"] = nbytes / row[f"{k}_s"] / 1e9
        if row.get("cuda_s"):
            row["ratio_vs_cuda"] = row["cuda_s"] / row["kernelkit_s"]
        R[name] = row

    # --- hierarchical kernels: team yAx and a scratch-tiled transpose against hand-written CUDA
    Ny, My = 1 << 14, 1 << 13
    yv, xv = (pk.View([m], pk.double, space=pk.CudaSpace) for m in (Ny, My))
    Av = pk.View([Ny, My], pk.double, space=pk.CudaSpace, layout=pk.LayoutRight)  # the references are row-major
    rng = np.random.default_rng(3)
    yv.data[:] = rng.random(Ny)
    xv.data[:] = rng.random(My)
    Av.data[:] = rng.random((Ny, My))
    yax_ref_val = float(np.asarray(yv) @ (np.asarray(Av) @ np.asarray(xv)))

    @pk.workunit
    def yax_team(team, acc, y, A, x, M):
        r = team.league_rank()

        def row(j, racc: pk.Acc[pk.double]):
            racc += A[r, j] * x[j]

        t = pk.parallel_reduce(pk.TeamVectorRange(team, M), row)

        def add():
            nonlocal acc
            acc += y[r] * t

        pk.single(pk.PerTeam(team), add)

    @pk.workunit
    def yax_range(r, acc, y, A, x, M):
        s = 0.0
        for j in range(M):
            s += A[r, j] * x[j]
        acc += y[r] * s

    tpol = pk.TeamPolicy(cuda, Ny, 8, 32)
    kk_team = lambda: pk.parallel_reduce(tpol, yax_team, y=yv, A=Av, x=xv, M=My)  # noqa: E731
    kk_range = lambda: pk.parallel_reduce(pk.RangePolicy(cuda, 0, Ny), yax_range, y=yv, A=Av, x=xv, M=My)  # noqa
    f_yax = mod.function("yax")
    py_, pA, px = (memory.ensure_device(v, 0) for v in (yv, Av, xv))

    def ref_yax():
        driver.memset_d8(res, 0, 8)
        driver.launch(f_yax, min(Ny, 132 * 16), 256, 0, None, [P(py_), P(pA), P(px), P(res), L(Ny), L(My)])
        driver.memcpy_dtoh(host_res, res, 8)
        return host_res[0]

    for f in (kk_team, kk_range, ref_yax):
        v = f()
        assert abs(v - yax_ref_val) < 1e-8 * abs(yax_ref_val), (f, v, yax_ref_val)
    yb = 8 * (Ny * My + Ny + My)
    R["yax"] = {"bytes": yb, "kernelkit_team_s": events_time(kk_team, reps), "kernelkit_range_s":
                events_time(kk_range, max(reps // 4, 2)), "cuda_s": events_time(ref_yax, reps)}
    R["yax"]["ratio_team_vs_cuda"] = R["yax"]["cuda_s"] / R["yax"]["kernelkit_team_s"]
    R["yax"]["ratio_range_vs_cuda"] = R["yax"]["cuda_s"] / R["yax"]["kernelkit_range_s"]

    nt = 8192
    TT = 32
    ta = pk.View([nt, nt], pk.double, space=pk.CudaSpace, layout=pk.LayoutRight)
    tb = pk.View([nt, nt], pk.double, space=pk.CudaSpace, layout=pk.LayoutRight)
    ta.data[:] = rng.random((nt, nt))

    @pk.workunit
    def tr(team, a, b, n):
        T = TILE  # a global constant: baked into the kernel, as the hand-written kernel's 32 is
        tile = pk.ScratchView2D[pk.double](team.team_scratch(0), T, T + 1)
        nb = (n + T - 1) // T
        bi = team.league_rank() // nb
        bj = team.league_rank() % nb

        # rows over the team's threads, columns over each thread's vector lanes: coalesced on both sides
        def load(i):
            def col(j):
                if bi * T + i < n and bj * T + j < n:
                    tile[i, j] = a[bi * T + i, bj * T + j]

            pk.parallel_for(pk.ThreadVectorRange(team, T), col)

        pk.parallel_for(pk.TeamThreadRange(team, T), load)
        team.team_barrier()

        def store(i):
            def col(j):
                if bj * T + i < n and bi * T + j < n:
                    b[bj * T + i, bi * T + j] = tile[j, i]

            pk.parallel_for(pk.ThreadVectorRange(team, T), col)

        pk.parallel_for(pk.TeamThreadRange(team, T), store)

    nb = (nt + TT - 1) // TT
    trpol = pk.TeamPolicy(cuda, nb * nb, 8, 32).set_scratch_size(0, pk.PerTeam(8 * TT * (TT + 1)))
    kk_tr = lambda: pk.parallel_for(trpol, tr, a=ta, b=tb, n=nt)  # noqa: E731
    f_tr = mod.function("transpose")
    pta_, ptb_ = memory.ensure_device(ta, 0), memory.ensure_device(tb, 0)

    def ref_tr():
        driver.launch(f_tr, (nb, nb, 1), (32, 8, 1), 0, None, [P(pta_), P(ptb_), L(nt)])

    @pk.workunit
    def tr_md(team, a, b, n):
        T = TILE
        tile = pk.ScratchView2D[pk.double](team.team_scratch(0), T, T + 1)
        nb = (n + T - 1) // T
        bi = team.league_rank() // nb
        bj = team.league_rank() % nb

        def load(i, j):
            if bi * T + i < n and bj * T + j < n:
                tile[i, j] = a[bi * T + i, bj * T + j]

        pk.parallel_for(pk.TeamVectorMDRange(team, T, T), load)
        team.team_barrier()

        def store(i, j):
            if bj * T + i < n and bi * T + j < n:
                b[bj * T + i, bi * T + j] = tile[j, i]

        pk.parallel_for(pk.TeamVectorMDRange(team, T, T), store)

    kk_tr_md = lambda: pk.parallel_for(trpol, tr_md, a=ta, b=tb, n=nt)  # noqa: E731
    kk_tr_md()
    pk.fence()
    assert np.array_equal(np.asarray(tb)[:64, :64], np.asarray(ta)[:64, :64].T)
    kk_tr()
    pk.fence()
    assert np.array_equal(np.asarray(tb)[:64, :64], np.asarray(ta)[:64, :64].T)
    tbytes = 2 * 8 * nt * nt
    R["transpose"] = {"bytes": tbytes, "kernelkit_s": events_time(kk_tr, reps), "cuda_s": events_time(ref_tr, reps)}
    R["transpose"]["ratio_vs_cuda"] = R["transpose"]["cuda_s"] / R["transpose"]["kernelkit_s"]
    R["transpose"]["kernelkit_teamvectormd_s"] = events_time(kk_tr_md, reps)
    R["transpose"]["ratio_teamvectormd_vs_cuda"] = R["transpose"]["cuda_s"] / R["transpose"]["kernelkit_teamvectormd_s"]
    for k in ("yax", "transpose"):
        R[k]["kernelkit_GBs"] = R[k]["bytes"] / R[k].get("kernelkit_s", R[k].get("kernelkit_team_s")) / 1e9
        R[k]["cuda_GBs"] = R[k]["bytes"] / R[k]["cuda_s"] / 1e9

    # --- launch overhead: tiny 5-argument kernel, n = 1, host wall time per launch (asynchronous launches)
    tiny_pol = pk.RangePolicy(cuda, 0, 1)
    ta, tb, tc = (pk.View([1], pk.double, space=pk.CudaSpace) for _ in range(3))

    @pk.workunit
    def tinyk(i, a, b, c, s, m):
        if i < m:
            a[i] = b[i] + s * c[i]

    def kk_tiny():
        pk.parallel_for(tiny_pol, tinyk, a=ta, b=tb, c=tc, s=s, m=1)

    pta, ptb, ptc = (memory.ensure_device(v, 0) for v in (ta, tb, tc))

    def drv_tiny():
        driver.launch(f_tiny, 1, 256, 0, None, [P(pta), P(ptb), P(ptc), D(s), L(1)])

    lo = {"kernelkit_us": wall_time(kk_tiny, 20000) * 1e6, "driver_ctypes_us": wall_time(drv_tiny, 20000) * 1e6}
    dev.synchronize()
    if cupy:
        rk = cp.RawKernel(REF, "tiny")
        xa, xb, xc = (cp.zeros(1) for _ in range(3))
        lo["cupy_rawkernel_us"] = wall_time(lambda: rk((1,), (256,), (xa, xb, xc, cp.float64(s), cp.int64(1))),
                                            20000) * 1e6
    dev.synchronize()
    R["launch_overhead"] = lo

    # --- cold compile and warm start, in fresh processes
    with tempfile.TemporaryDirectory() as cache:
        script = textwrap.dedent("""
            import time, kernelkit as pk
            from kernelkit.backends.cuda import driver
            driver.Device(0).set_current()   # the CUDA context is not part of compile time
            @pk.workunit
            def k(i, x, y, a):
                y[i] = a * x[i] + 1.0
            x = pk.View([1024], pk.double, space=pk.CudaSpace); y = pk.View([1024], pk.double, space=pk.CudaSpace)
            p = pk.RangePolicy(pk.Cuda, 0, 1024)
            t = time.perf_counter(); pk.parallel_for(p, k, x=y, y=x, a=1.0); pk.fence(); t0 = time.perf_counter() - t
            t = time.perf_counter(); pk.parallel_for(p, k, x=x, y=y, a=2.0); pk.fence(); t1 = time.perf_counter() - t
            t = time.perf_counter(); pk.parallel_for(p, k, x=x, y=y, a=2.0); pk.fence(); t2 = time.perf_counter() - t
            print(f"first kernel of the process {t0 - t2:.4f} s, next new kernel {t1 - t2:.4f} s", k.stats())
        """)
        path = os.path.join(cache, "k.py")
        with open(path, "w") as f:
            f.write(script.replace("x=y, y=x, a=1.0", "x=y, y=x, a=1"))
        env = dict(os.environ, KERNELKIT_CACHE_DIR=os.path.join(cache, "c"))
        cold = subprocess.run([sys.executable, path], capture_output=True, text=True, env=env)
        warm = subprocess.run([sys.executable, path], capture_output=True, text=True, env=env)
        R["compile"] = {"cold_s": cold.stdout.strip() or cold.stderr[-2000:],
                        "warm_s": warm.stdout.strip() or warm.stderr[-2000:]}

    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(out, f, indent=2, default=str)
    print(json.dumps(out, indent=1, default=str))
    print(f"\n{'kernel':8} {'kernelkit GB/s':>15} {'CUDA GB/s':>10} {'CuPy GB/s':>10} {'ratio':>6}")
    for name in ("triad", "copy", "dot", "sum"):
        r = R[name]
        print(f"{name:8} {r.get('kernelkit_GBs', 0):15.1f} {r.get('cuda_GBs') or 0:10.1f} "
              f"{r.get('cupy_GBs') or 0:10.1f} {r.get('ratio_vs_cuda') or 0:6.3f}")
    print("team yAx:", {k: round(v, 4) if isinstance(v, float) else v for k, v in R["yax"].items()})
    print("tiled transpose:", {k: round(v, 4) if isinstance(v, float) else v for k, v in R["transpose"].items()})
    print("launch overhead (us):", {k: round(v, 2) for k, v in R["launch_overhead"].items()})
    print("100-step loop transfers:", R["loop100_transfers"])
    print("compile:", R["compile"])


if __name__ == "__main__":
    main()
