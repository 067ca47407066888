import numpy as np

import kernelkit as pk


@pk.jit
def kernel(alpha, A, B):
    M, N = B.shape
    # npbench's row i reads the rows below it before they change: with a copy of B those reads come from the
    # copy, and the rows are independent (row i: a sum of rows k > i of the copy, a row at a time, vectorized)
    B0 = np.empty_like(B)
    for i in pk.prange(M):
        # pragma simd
        for j in range(N):
            B0[i, j] = B[i, j]
    for i in pk.prange(M):
        for k in range(i + 1, M):
            a = A[k, i]
            # pragma simd
            for j in range(N):
                B[i, j] += a * B0[k, j]
        # pragma simd
        for j in range(N):
            B[i, j] *= alpha
