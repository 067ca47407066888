import numpy as np

import kernelkit as pk


@pk.jit
def kernel(alpha, beta, C, A, B):
    M, N = C.shape
    temp2 = np.empty(N, dtype=C.dtype)
    C *= beta
    for i in range(M):
        # pragma simd
        for j in range(N):
            temp2[j] = 0.0
        for k in range(i):  # rows k < i of C, and temp2 = B[:i, :]^T A[i, :i], row by row
            a = alpha * A[i, k]
            aik = A[i, k]
            # pragma simd
            for j in range(N):
                C[k, j] += a * B[i, j]
                temp2[j] += B[k, j] * aik
        # pragma simd
        for j in range(N):
            C[i, j] += alpha * B[i, j] * A[i, i] + alpha * temp2[j]
