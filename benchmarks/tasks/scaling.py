"""Two independent CPU tasks that each run a kernel of >= 10 ms: the speedup of running them on 2 workers
over 1 (the performance contract: >= 1.8x on 2 cores). The kernels release the GIL: a kernelkit kernel on
pk.Serial (one thread per task: the tasks are the parallelism) or a NumPy ufunc on a large array.

    python benchmarks/tasks/scaling.py [--ms 20] [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from _common import dump, interleaved, machine  # noqa: E402

import kernelkit as pk  # noqa: E402
from kernelkit.tasks import Parla, TaskSpace, cpu, spawn  # noqa: E402


@pk.workunit
def _work(i, acc, scale):
    x = i * scale
    acc += pk.sin(x) * pk.cos(x)


def kernelkit_kernel(n: int) -> float:
    return pk.parallel_reduce(pk.RangePolicy(pk.Serial, 0, n), _work, scale=1e-6)


def numpy_kernel(x: np.ndarray, out: np.ndarray, reps: int) -> None:
    for _ in range(reps):
        np.sin(x, out=out)


def calibrate(fn, target_s: float, n: int = 1) -> int:
    """A size (from `n` up) for which fn(size) takes about target_s."""
    while True:
        t0 = time.perf_counter()
        fn(n)
        dt = time.perf_counter() - t0
        if dt >= target_s / 4:
            return max(1, int(n * target_s / dt))
        n *= 4


def two_tasks(body, workers: int) -> None:
    with Parla(n_workers=workers):
        T = TaskSpace("T")
        for i in range(2):

            @spawn(T[i], placement=cpu, vcus=0.5)
            def t():
                body(i)  # noqa: B023 - spawn gives the body the `i` of its iteration


def two_threads(body) -> None:
    """The same two kernels on two plain threads: what this machine gives two threads right now."""
    import threading

    ts = [threading.Thread(target=body, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ms", type=float, default=20.0, help="length of one kernel")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    target = args.ms / 1e3
    kernelkit_kernel(1000)  # compile before timing
    n_kk = calibrate(kernelkit_kernel, target, 1 << 16)
    xs = [np.linspace(0.0, 1.0, 1 << 15) for _ in range(2)]  # per task, in its core's cache
    outs = [np.empty_like(x) for x in xs]
    reps = calibrate(lambda r: numpy_kernel(xs[0], outs[0], r), target)
    bodies = {
        "kernelkit (pk.Serial)": lambda i: kernelkit_kernel(n_kk),
        "numpy ufunc": lambda i: numpy_kernel(xs[i], outs[i], reps),
    }
    report = {"benchmark": "2-task scaling", "kernel_ms": args.ms, "machine": machine(), "results": {}}
    for name, body in bodies.items():
        # the four alternate in every round: this machine's speed drifts (the same kernel took 10 to 20 ms in
        # one minute here), and a series of one configuration after the other turned that into the ratio
        t = interleaved(
            {
                "one": lambda body=body: body(0),
                "seq": lambda body=body: two_tasks(body, 1),
                "par": lambda body=body: two_tasks(body, 2),
                "thr": lambda body=body: two_threads(body),
            },
            args.repeats,
        )
        one, seq, par, thr = (t[k]["wall_s"] for k in ("one", "seq", "par", "thr"))
        report["results"][name] = {
            "kernel_s": one,
            "one_worker_s": seq,
            "two_workers_s": par,
            "speedup": seq / par,
            "two_plain_threads_s": thr,
            "plain_threads_speedup": 2 * one / thr,
        }
        print(
            f"{name:22s} kernel {one * 1e3:6.1f} ms | 2 tasks, 1 worker {seq * 1e3:6.1f} ms | "
            f"2 workers {par * 1e3:6.1f} ms | speedup {seq / par:.2f}x (2 plain threads: {2 * one / thr:.2f}x)"
        )
    dump(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
