import numpy as np

import kernelkit as pk


@pk.jit
def kernel(alpha, beta, A, B, x):
    N = A.shape[0]
    y = np.empty(N, dtype=A.dtype)
    for i in pk.prange(N):
        s = 0.0
        t = 0.0
        # pragma simd
        for j in range(A.shape[1]):
            s += A[i, j] * x[j]
            t += B[i, j] * x[j]
        y[i] = alpha * s + beta * t
    return y
