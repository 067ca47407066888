"""Issue 13 on the GPU: a PyOMP `target teams distribute parallel for` DGEMM on pk.Cuda with `map` clauses,
checked against NumPy, timed, and its transfers counted (the coherence layer moves each array once per call;
with pk.Views the data stays on the GPU across calls).

    python tools/device/openmp_target_dgemm.py [n]
"""

import sys
import time

import numpy as np

import kernelkit as pk
from kernelkit.openmp import njit, omp_get_num_devices, openmp
from kernelkit.runtime import coherence


@njit
def dgemm(a, b, c):
    n, k = a.shape
    m = b.shape[1]
    with openmp("target data map(to: a, b) map(tofrom: c)"):
        with openmp("target teams distribute parallel for collapse(2) device(0)"):
            for i in range(n):
                for j in range(m):
                    s = 0.0
                    for p in range(k):
                        s += a[i, p] * b[p, j]
                    c[i, j] = s
    return c


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    print(f"omp_get_num_devices() = {omp_get_num_devices()}, default space {pk.get_default_space()}")
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n)), rng.random((n, n))
    c = np.zeros((n, n))
    dgemm(a, b, c)  # compile
    np.testing.assert_allclose(c, a @ b, rtol=1e-10)
    print("numpy arrays: correct")
    coherence.reset_stats()
    dgemm(a, b, c)
    st = coherence.stats()
    print(f"one call with NumPy arrays: h2d {st['h2d']} ({st['h2d_bytes']} B), d2h {st['d2h']} ({st['d2h_bytes']} B)")
    va, vb, vc = (pk.View([n, n], pk.double) for _ in range(3))
    np.asarray(va)[:] = a
    np.asarray(vb)[:] = b
    dgemm(va, vb, vc)
    coherence.reset_stats()
    reps = 5
    t0 = time.perf_counter()
    for _ in range(reps):
        dgemm(va, vb, vc)
    pk.fence()
    dt = (time.perf_counter() - t0) / reps
    st = coherence.stats()
    print(f"{reps} calls with Views: h2d {st['h2d']}, d2h {st['d2h']} (expect 0 and 0)")
    np.testing.assert_allclose(np.asarray(vc), a @ b, rtol=1e-10)
    print(f"views: correct; {dt * 1e3:.2f} ms per call, {2 * n**3 / dt / 1e9:.1f} GFLOP/s (naive triple loop)")


if __name__ == "__main__":
    main()
