"""Bandwidth against array size on the GPU (`--only sweep`): copy and triad from L2-resident arrays to 4 GiB
per array, for kernelkit, the hand-written CUDA kernel and CuPy, with cuMemcpyDtoD beside them.

Small kernels finish long before a Python launch does, so every version is timed as a graph of K launches
(K up to 100, fewer as arrays grow, so that a replay moves at least ~2 GiB): `pk.graph()` for kernelkit,
stream capture through kernelkit's driver binding for the hand-written kernel, CuPy's own stream capture for
CuPy. The rate is K times the bytes of one launch (each array read or written once) over the median wall time
of a replay and a synchronization. At the smallest sizes the rate is bounded by the graph's per-kernel
overhead, the same for every version; from a few MiB it is the L2's, and beyond the 50 MiB L2 of an H200 it
is device memory's. Data are initialized on the device (never zeros) and checked once per size.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .context import Context
from .core import Check
from .cudareference import BLOCK

MIN_LOG2, MAX_LOG2 = 16, 29  # doubles per array: 512 KiB .. 4 GiB
QUICK_MAX_LOG2 = 22  # --quick: up to 32 MiB per array
REPEATS = 7
KERNELS = {"copy": 2, "triad": 3}  # arrays moved per element


def _launches(nbytes: int) -> int:
    return max(1, min(100, (2 << 30) // nbytes))


def _time(replay: Callable[[], None], sync: Callable[[], None]) -> float:
    replay()
    sync()
    samples = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        replay()
        sync()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return samples[len(samples) // 2]


def sweep(ctx: Context, max_log2: int | None = None) -> Check:
    if max_log2 is None:
        max_log2 = QUICK_MAX_LOG2 if ctx.options.quick else MAX_LOG2
    pk = ctx.kernelkit()
    from . import kernels
    from .hooks import device_pointer

    gpu = ctx.gpu()
    space = ctx.kernelkit_space("cuda")
    try:
        cp = ctx.cupy() if ctx.options.framework_selected("cupy") else None
    except Exception:  # not installed: the sweep goes on without it
        cp = None
    rows: list[dict[str, Any]] = []
    wrong: list[str] = []
    fence = pk.fence
    for log2 in range(MIN_LOG2, max_log2 + 1):
        n = 1 << log2
        a, b, c = (pk.View([n], pk.double, space=pk.CudaSpace) for _ in range(3))
        policy = pk.RangePolicy(space, 0, n)
        pk.parallel_for("init", policy, kernels.sweep_init, a=a, b=b, c=c)
        ptrs = [ctypes.c_void_p(device_pointer(v)) for v in (a, b, c)]
        fence()
        for name, arrays in KERNELS.items():
            nbytes = 8 * n * arrays
            k = _launches(nbytes)
            versions: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {}
            with pk.graph() as g:
                for _ in range(k):
                    if name == "copy":
                        pk.parallel_for(policy, kernels.copy, a=b, c=a)
                    else:
                        pk.parallel_for(policy, kernels.triad, a=a, b=b, c=c, s=2.0)
            versions["kernelkit"] = (g.launch, fence)
            versions["cuda"] = (_reference_graph(gpu, name, ptrs, n, k), gpu.synchronize)
            if name == "copy":
                dst, src = ptrs[0].value, ptrs[1].value

                def copies(stream: int, dst: Any = dst, src: Any = src, k: int = k, n: int = n) -> None:
                    for _ in range(k):
                        gpu.device.copy_async(dst, src, 8 * n, stream)

                versions["cuda-memcpy"] = (gpu.device.capture(copies), gpu.synchronize)
            if cp is not None:
                versions["cupy"] = _cupy_graph(cp, name, a, b, c, k)
            for fw, (replay, sync) in versions.items():
                t = _time(replay, sync)
                rate = k * nbytes / t / 1e9
                rows.append(
                    {
                        "kernel": name,
                        "framework": fw,
                        "n": n,
                        "array_bytes": 8 * n,
                        "launches": k,
                        "seconds": t,
                        "gb_s": rate,
                    }
                )
            got = np.asarray(a)[:: max(1, n // 4096)]
            idx = np.arange(0, n, max(1, n // 4096))
            want = _b(idx) if name == "copy" else _b(idx) + 2.0 * _c(idx)
            if not np.array_equal(got, want):
                wrong.append(f"{name} at n=2**{log2}")
            pk.parallel_for("init", policy, kernels.sweep_init, a=a, b=b, c=c)
            fence()
        del a, b, c
    status = "ok" if not wrong else "failed"
    best = {}
    for r in rows:
        key = (r["kernel"], r["framework"])
        best[key] = max(best.get(key, 0.0), r["gb_s"])
    note = "; ".join(f"{k}/{fw} peak {v:,.0f} GB/s" for (k, fw), v in sorted(best.items()))
    if wrong:
        note += "; wrong results: " + ", ".join(wrong)
    return Check("sweep", "cuda", status, value=len(rows), note=note, extra={"rows": rows})


def _reference_graph(gpu: Any, name: str, ptrs: list[Any], n: int, k: int) -> Callable[[], None]:
    """k launches of the hand-written kernel captured on a stream (kernelkit's driver binding)."""
    f = gpu.function(f"kkref_{name}")
    if name == "copy":
        args = [ptrs[1], ptrs[0], ctypes.c_int64(n)]  # a = b
    else:
        args = [*ptrs, ctypes.c_double(2.0), ctypes.c_int64(n)]  # a = b + 2 c
    grid = (n + BLOCK - 1) // BLOCK

    def launches(stream: int) -> None:
        for _ in range(k):
            gpu.device.launch(f, grid, BLOCK, args, stream=stream)

    return gpu.device.capture(launches)


def _b(i: np.ndarray) -> np.ndarray:
    return (i % 17).astype(np.float64)


def _c(i: np.ndarray) -> np.ndarray:
    return (i % 8).astype(np.float64) * 0.25


def _cupy_graph(cp: Any, name: str, a: Any, b: Any, c: Any, k: int) -> tuple[Callable[[], None], Callable[[], None]]:
    A, B, C = cp.asarray(a), cp.asarray(b), cp.asarray(c)
    if name == "copy":
        kern = cp.ElementwiseKernel("float64 b", "float64 a", "a = b", "kkbench_sweep_copy")
        call: Callable[[], Any] = lambda: kern(B, A)  # noqa: E731
    else:
        kern = cp.ElementwiseKernel(
            "float64 b, float64 c, float64 s", "float64 a", "a = b + s * c", "kkbench_sweep_triad"
        )
        call = lambda: kern(B, C, 2.0, A)  # noqa: E731
    call()  # compiled before the capture
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        stream.begin_capture()
        for _ in range(k):
            call()
        graph = stream.end_capture()
    cp.cuda.runtime.deviceSynchronize()
    return (lambda: graph.launch(stream)), stream.synchronize


def sweep_chart(data: dict[str, Any], path: str) -> bool:
    """Bandwidth against bytes per array, one panel per kernel, a line per framework (log-log)."""
    import matplotlib.pyplot as plt

    check = next((c for c in data.get("checks") or [] if c.get("check") == "sweep" and c.get("rows")), None)
    if check is None:
        return False
    rows = check["rows"]
    names = list(dict.fromkeys(r["kernel"] for r in rows))
    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 4.2), squeeze=False)
    gpu = ((data.get("machine") or {}).get("gpu") or {}).get("name", "GPU")
    l2 = ((data.get("machine") or {}).get("gpu") or {}).get("l2_cache_mib")
    for ax, name in zip(axes[0], names, strict=True):
        for fw in dict.fromkeys(r["framework"] for r in rows if r["kernel"] == name):
            pts = sorted((r["array_bytes"], r["gb_s"]) for r in rows if r["kernel"] == name and r["framework"] == fw)
            ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", markersize=3, label=fw)
        if l2:
            ax.axvline(l2 * 2**20 / KERNELS[name], color="#999999", linestyle=":", label="L2 / arrays")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("bytes per array")
        ax.set_ylabel("GB/s (each array read or written once)")
        ax.set_title(f"{name} on {gpu}", fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
