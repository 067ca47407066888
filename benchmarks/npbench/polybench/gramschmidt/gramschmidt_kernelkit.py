import numpy as np

import kernelkit as pk


@pk.jit
def kernel(A):
    M, N = A.shape
    Q = np.zeros_like(A)
    R = np.zeros((N, N), dtype=A.dtype)
    for k in range(N):
        nrm = 0.0
        for i in range(M):
            nrm += A[i, k] * A[i, k]
        R[k, k] = np.sqrt(nrm)
        for i in range(M):
            Q[i, k] = A[i, k] / R[k, k]
        # R[k, k+1:] = Q[:, k] @ A[:, k+1:], row by row so that every access is contiguous
        for i in range(M):
            q = Q[i, k]
            # pragma simd
            for j in range(k + 1, N):
                R[k, j] += q * A[i, j]
        for i in pk.prange(M):
            q = Q[i, k]
            # pragma simd
            for j in range(k + 1, N):
                A[i, j] -= q * R[k, j]
    return Q, R
