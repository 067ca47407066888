"""DGEMM offloaded with `target teams distribute parallel for`, in PyOMP form with the kernelkit.openmp import.

A `target data` region maps A and B to the device and C to and from it once; inside it, `--iterations` target
regions accumulate C += A B (one GPU thread per element of C: `collapse(2)` over i and j, the k loop in each
thread), so the data crosses the bus once, not per product. `--space cuda` runs `dgemm_gpu`, whose constructs
say `device(0)` (the GPU), `--space host` runs `dgemm_host`, `device(omp_get_initial_device())` (the regions run
on CPU threads, which is how CI without a GPU runs this program). Two functions, because `device(...)` takes a
constant (or omp_get_initial_device()), not a variable, in kernelkit as in PyOMP. A and B have column i equal to
i, so C = iterations j order (order-1) / 2 exactly; every element is checked.

    python examples/openmp/target_dgemm.py --space host [--order 128] [--iterations 2]
"""

import argparse
import sys

import numpy as np

from kernelkit.openmp import njit, omp_get_initial_device, omp_get_num_devices, omp_get_wtime
from kernelkit.openmp import openmp_context as openmp


@njit
def dgemm_gpu(A, B, C, iterations):
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


@njit
def dgemm_host(A, B, C, iterations):
    order = A.shape[0]
    with openmp("target data map(to: A, B) map(tofrom: C) device(omp_get_initial_device())"):
        for _it in range(iterations):
            with openmp(
                "target teams distribute parallel for collapse(2) private(k, s) device(omp_get_initial_device())"
            ):
                for i in range(order):
                    for j in range(order):
                        s = 0.0
                        for k in range(order):
                            s += A[i, k] * B[k, j]
                        C[i, j] += s


def main():
    p = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--space",
        choices=["cuda", "host"],
        default="cuda" if omp_get_num_devices() > 0 else "host",
        help="the target device: cuda (device 0) or host (the initial device); default cuda when "
        "omp_get_num_devices() > 0",
    )
    p.add_argument("--order", type=int, default=128, help="matrix order (default 128)")
    p.add_argument("--iterations", type=int, default=2, help="products inside the target data region (default 2)")
    args = p.parse_args()
    if args.space == "cuda" and omp_get_num_devices() == 0:
        p.exit(2, "target_dgemm.py: --space cuda, but omp_get_num_devices() is 0 (no usable GPU)\n")
    dev = 0 if args.space == "cuda" else omp_get_initial_device()
    dgemm_target = dgemm_gpu if args.space == "cuda" else dgemm_host
    order, iterations = args.order, args.iterations
    row = np.arange(order, dtype=np.float64)
    A = np.ascontiguousarray(np.broadcast_to(row, (order, order)))
    B = A.copy()
    C = np.zeros((order, order))
    dgemm_target(A, B, np.zeros((order, order)), 1)  # compile
    t0 = omp_get_wtime()
    dgemm_target(A, B, C, iterations)
    elapsed = omp_get_wtime() - t0
    want = iterations * row * (order * (order - 1) / 2.0)
    wrong = int(np.count_nonzero(C != want[None, :]))
    gflops = 2.0 * order**3 * iterations / elapsed * 1e-9 if elapsed > 0 else float("nan")
    print(
        f"target_dgemm: device {dev} ({args.space}), order {order}, {iterations} iterations: "
        f"{elapsed * 1e3:.2f} ms with the transfers, {gflops:.2f} GFLOP/s"
    )
    if wrong == 0:
        print("PASS every element of C equals iterations * j * order * (order - 1) / 2")
    else:
        print(f"FAIL: {wrong} wrong elements of {order * order}")
        sys.exit(1)


if __name__ == "__main__":
    main()
