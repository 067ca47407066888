"""The seeds' tutorial programs in PyOMP form, one source for two compilers.

`OMPBENCH_BACKEND=kernelkit` (the default) imports the PyOMP names from `kernelkit.openmp`;
`OMPBENCH_BACKEND=pyomp` from `numba.openmp` (PyOMP itself). Nothing else differs: the functions below are what
a PyOMP user writes ("How to Write Parallel Programs: the Python edition", the loop, SPMD, task and DGEMM
examples), with the tutorial's slips fixed (the SPMD loop inside the region, not inside `single`; integer
halves `//` in the task split, which `range` needs). The worker (worker.py) sets the variable before importing
this module, one contender per process.
"""

from __future__ import annotations

import os

import numpy as np

BACKEND = os.environ.get("OMPBENCH_BACKEND", "kernelkit")
if BACKEND == "pyomp":
    from numba.openmp import njit, omp_get_num_threads, omp_get_thread_num  # type: ignore[import-not-found]
    from numba.openmp import openmp_context as openmp  # type: ignore[import-not-found]
elif BACKEND == "kernelkit":
    from kernelkit.openmp import njit, omp_get_num_threads, omp_get_thread_num  # type: ignore[attr-defined]
    from kernelkit.openmp import openmp_context as openmp  # type: ignore[attr-defined]
else:
    raise ImportError(f"OMPBENCH_BACKEND={BACKEND!r}: expected 'kernelkit' or 'pyomp'")

MAX_THREADS = 64  # the SPMD program's partial sums (the tutorial's MaxTHREADS)
MIN_BLK = 1024 * 256  # the task program's leaf size (the tutorial's)


@njit
def pi_loop(num_steps):
    step = 1.0 / num_steps
    sum = 0.0
    with openmp("parallel for private(x) reduction(+:sum)"):
        for i in range(num_steps):
            x = (i + 0.5) * step
            sum += 4.0 / (1.0 + x * x)
    return step * sum


@njit
def pi_spmd(num_steps):
    step = 1.0 / num_steps
    partial_sums = np.zeros(MAX_THREADS)
    num_thrds = 1
    with openmp("parallel shared(partial_sums, num_thrds) private(thread_id, i, x, local_sum)"):
        thread_id = omp_get_thread_num()
        with openmp("single"):
            num_thrds = omp_get_num_threads()
        local_sum = 0.0
        for i in range(thread_id, num_steps, num_thrds):
            x = (i + 0.5) * step
            local_sum += 4.0 / (1.0 + x * x)
        partial_sums[thread_id] = local_sum
    return step * np.sum(partial_sums)


@njit
def pi_comp(n_start, n_finish, step):
    iblk = n_finish - n_start
    if iblk < MIN_BLK:
        sum = 0.0
        for i in range(n_start, n_finish):
            x = (i + 0.5) * step
            sum += 4.0 / (1.0 + x * x)
    else:
        sum1 = 0.0
        sum2 = 0.0
        with openmp("task shared(sum1)"):
            sum1 = pi_comp(n_start, n_finish - iblk // 2, step)
        with openmp("task shared(sum2)"):
            sum2 = pi_comp(n_finish - iblk // 2, n_finish, step)
        with openmp("taskwait"):
            sum = sum1 + sum2
    return sum


@njit
def pi_tasks(num_steps):
    step = 1.0 / num_steps
    sum = 0.0
    with openmp("parallel"):
        with openmp("single"):
            sum = pi_comp(0, num_steps, step)
    return step * sum


@njit
def pi_tasks_flat(num_steps):
    # not the tutorial's: the task pattern without recursion, one task per MIN_BLK block spawned by `single`
    step = 1.0 / num_steps
    nblk = (num_steps + MIN_BLK - 1) // MIN_BLK
    partial = np.zeros(nblk)
    with openmp("parallel shared(partial)"):
        with openmp("single"):
            for b in range(nblk):
                with openmp("task firstprivate(b) private(i, x, s, lo, hi)"):
                    lo = b * MIN_BLK
                    hi = min(lo + MIN_BLK, num_steps)
                    s = 0.0
                    for i in range(lo, hi):
                        x = (i + 0.5) * step
                        s += 4.0 / (1.0 + x * x)
                    partial[b] = s
    return step * np.sum(partial)


@njit
def dgemm(A, B, C):
    order = A.shape[0]
    with openmp("parallel for private(j, k)"):
        for i in range(order):
            for k in range(order):
                for j in range(order):
                    C[i, j] += A[i, k] * B[k, j]


# ---- offload (gpu.py): device 0, the GPU (or the host when there is no GPU: device 0 is then the initial device).
# `device(0)` is spelled out: PyOMP 0.6 crashes (SIGSEGV) on a `target data` region without a device clause on a
# machine without a GPU, and takes only literals there (a variable fails an assertion in its compiler).


@njit
def target_dgemm(A, B, C):
    # one product, A and B copied to the device and C back: what a single offloaded call costs
    order = A.shape[0]
    with openmp("target teams distribute parallel for collapse(2) map(to: A, B) map(from: C) private(k, s) device(0)"):  # noqa: E501
        for i in range(order):
            for j in range(order):
                s = 0.0
                for k in range(order):
                    s += A[i, k] * B[k, j]
                C[i, j] = s


@njit
def target_dgemm_iters(A, B, C, iterations):
    # `iterations` products accumulated into C inside one target data region: the data crosses once
    order = A.shape[0]
    with openmp("target data map(to: A, B) map(tofrom: C) device(0)"):
        for _it in range(iterations):
            with openmp("target teams distribute parallel for collapse(2) private(k, s) device(0)"):
                for i in range(order):
                    for j in range(order):
                        s = 0.0
                        for k in range(order):
                            s += A[i, k] * B[k, j]
                        C[i, j] += s


PROGRAMS = ("pi_loop", "pi_spmd", "pi_tasks", "pi_tasks_flat", "dgemm")
