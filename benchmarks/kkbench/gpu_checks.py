"""GPU checks that are not rates, run in the harness process on the cuda space.

- `transfers`: 100 steps of triad + copy on CudaSpace Views move no data between host and device (kernelkit's
  coherence: a launch copies only what is stale), counted by kernelkit's transfer counters; the Views' final
  contents are then checked against NumPy (the steps are exact in float64).
- `launch` (in process): the host time per launch of one tiny kernel (`a[i] = b[i] + s*c[i]`, one element,
  asynchronous launches, one synchronization per batch) through `pk.parallel_for`, through kernelkit's driver
  binding directly (the hand-written kernel: the floor of any Python launch path), and through CuPy's
  RawKernel (the same hand-written kernel). The fresh-process figures (cold compile, warm start, launch) are
  in `latency`.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import hooks
from .context import Context
from .core import Check, Latency, Skip
from .cudareference import BLOCK, SOURCE
from .latency import TARGETS_S
from .timing import Timing

STEPS = 100
N_TRANSFERS = 1 << 16


def transfers(ctx: Context) -> Check:
    """100 steps of triad + copy on device Views: no host<->device copies, right answer."""
    pk = ctx.kernelkit()
    from . import kernels

    space = ctx.kernelkit_space("cuda")
    n = N_TRANSFERS
    a0, b0, c0 = np.zeros(n), np.resize(np.arange(17.0), n), np.resize(np.arange(8.0) * 0.25, n)
    views = []
    for host in (a0, b0, c0):
        v = pk.View([n], pk.double, space=pk.CudaSpace)
        pk.deep_copy(v, host)
        views.append(v)
    a, b, c = views
    policy = pk.RangePolicy(space, 0, n)
    # s = 1: every step is exact in float64 (contraction or not), so the check below is exact
    pk.parallel_for("triad", policy, kernels.triad, a=a, b=b, c=c, s=1.0)  # uploads, once
    pk.parallel_for("copy", policy, kernels.copy, a=a, c=c)
    pk.fence()
    hooks.reset_transfer_counts()
    for _ in range(STEPS):
        pk.parallel_for("triad", policy, kernels.triad, a=a, b=b, c=c, s=1.0)
        pk.parallel_for("copy", policy, kernels.copy, a=a, c=c)
    pk.fence()
    counts = hooks.transfer_counts()
    expected = c0 + (STEPS + 1) * b0  # a = b + c; c = a, STEPS + 1 times
    wrong = int(np.count_nonzero(np.asarray(c) != expected)) + int(np.count_nonzero(np.asarray(a) != expected))
    moved = counts.get("h2d", 0) + counts.get("d2h", 0) + counts.get("d2d", 0)
    status = "ok" if moved == 0 and wrong == 0 else "failed"
    note = f"{STEPS} steps of triad + copy on {n:,}-element CudaSpace Views: {moved} host<->device transfers"
    if wrong:
        note += f"; {wrong} elements differ from NumPy"
    return Check("transfers", "cuda", status, value=moved, note=note, extra={"counts": counts, "wrong": wrong})


def _per_launch(launch: Callable[[], Any], sync: Callable[[], None], calls: int, batches: int) -> Timing:
    """Host seconds per launch: `calls` launches then one synchronization, per sample."""
    for _ in range(min(calls, 1000)):
        launch()
    sync()
    timing = Timing()
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(calls):
            launch()
        sync()
        timing.samples.append((time.perf_counter() - t0) / calls)
    return timing


def launch_in_process(ctx: Context) -> list[Latency]:
    """kernelkit, the driver binding and CuPy's RawKernel launching the same tiny kernel, in this process."""
    options = ctx.options
    calls, batches = options.n_launch_calls, options.n_launch_batches
    pk = ctx.kernelkit()
    from . import kernels

    space = ctx.kernelkit_space("cuda")
    gpu = ctx.gpu()
    s = 3.0
    a, b, c = (pk.View([1], pk.double, space=pk.CudaSpace) for _ in range(3))
    policy = pk.RangePolicy(space, 0, 1)
    parallel_for, fence = pk.parallel_for, pk.fence
    note = "a[i] = b[i] + s*c[i] on one element, asynchronous, one synchronization per batch of launches"
    out: list[Latency] = []

    def record(framework: str, run: Callable[[], Any], sync: Callable[[], None], extra_note: str) -> None:
        target = TARGETS_S["launch_gpu"] if framework == "kernelkit" else None
        rec = Latency("launch_in_process", framework, "cuda", "ok", target_s=target, note=extra_note or note)
        rec.timing = _per_launch(run, sync, calls, batches)
        rec.extra["calls_per_sample"] = calls
        out.append(rec)

    record("kernelkit", lambda: parallel_for("tiny", policy, kernels.triad, a=a, b=b, c=c, s=s), fence, "")
    ptrs = [ctypes.c_void_p(hooks.device_pointer(v)) for v in (a, b, c)]
    floor = gpu.device.launcher(gpu.function("kkref_triad"), 1, BLOCK, [*ptrs, ctypes.c_double(s), ctypes.c_int64(1)])
    record("cuda", floor, gpu.synchronize, "the hand-written kernel through kernelkit's driver binding (the floor)")
    if options.framework_selected("cupy"):
        try:
            cp = ctx.cupy()
        except Skip as e:
            out.append(Latency("launch_in_process", "cupy-rawkernel", "cuda", "skipped", note=str(e)))
            return out
        kernel = cp.RawKernel(SOURCE.read_text(), "kkref_triad")
        xa, xb, xc = (cp.zeros(1) for _ in range(3))
        args = (xa, xb, xc, cp.float64(s), cp.int64(1))
        sync = cp.cuda.runtime.deviceSynchronize
        record("cupy-rawkernel", lambda: kernel((1,), (BLOCK,), args), sync, "the hand-written kernel, cp.RawKernel")
    return out


GRAPH_STEPS = 50  # two kernels per step: the 100-kernel time-step loop
N_GRAPH = 1 << 12
GRAPH_TARGET = 3.0  # issue 16: a replayed graph at least 3x the same launches one by one


def graph(ctx: Context) -> Check:
    """A 100-kernel time-step loop of small kernels (triad then copy, 50 steps) issued one by one through
    `pk.parallel_for` and replayed as one `pk.graph()`: both must give NumPy's answer; the check holds when the
    replay is at least 3x faster (host wall time per loop, synchronized, median of repeats)."""
    pk = ctx.kernelkit()
    from . import kernels

    space = ctx.kernelkit_space("cuda")
    n = N_GRAPH
    b0, c0 = np.resize(np.arange(17.0), n), np.resize(np.arange(8.0) * 0.25, n)
    a, b, c = (pk.View([n], pk.double, space=pk.CudaSpace) for _ in range(3))
    policy = pk.RangePolicy(space, 0, n)
    parallel_for, fence = pk.parallel_for, pk.fence

    def reset() -> None:
        pk.deep_copy(b, b0)
        pk.deep_copy(c, c0)
        pk.deep_copy(a, np.zeros(n))

    def one_by_one() -> None:
        for _ in range(GRAPH_STEPS):
            parallel_for("triad", policy, kernels.triad, a=a, b=b, c=c, s=1.0)
            parallel_for("copy", policy, kernels.copy, a=a, c=c)
        fence()

    expected = c0 + GRAPH_STEPS * b0  # exact in float64
    reset()
    one_by_one()
    wrong = int(np.count_nonzero(np.asarray(c) != expected))
    with pk.graph() as g:
        for _ in range(GRAPH_STEPS):
            parallel_for("triad", policy, kernels.triad, a=a, b=b, c=c, s=1.0)
            parallel_for("copy", policy, kernels.copy, a=a, c=c)

    def replay() -> None:
        g.launch()
        fence()

    reset()
    replay()
    wrong += int(np.count_nonzero(np.asarray(c) != expected))
    reset()
    t_each = _per_launch(one_by_one, fence, 1, 30)
    t_graph = _per_launch(replay, fence, 1, 30)
    each, replayed = t_each.median, t_graph.median
    speedup = each / replayed if replayed else 0.0
    status = "ok" if wrong == 0 and speedup >= GRAPH_TARGET else "failed"
    note = (
        f"{2 * GRAPH_STEPS} kernels on {n:,} elements: one by one {each * 1e6:.0f} us, as a graph "
        f"{replayed * 1e6:.0f} us per loop ({speedup:.1f}x, target >= {GRAPH_TARGET:.0f}x); "
        f"captured as a CUDA graph: {g.captured}"
    )
    if wrong:
        note += f"; {wrong} elements differ from NumPy"
    return Check(
        "graph",
        "cuda",
        status,
        value=round(speedup, 2),
        note=note,
        extra={"one_by_one_s": each, "graph_s": replayed, "captured": g.captured, "wrong": wrong},
    )
