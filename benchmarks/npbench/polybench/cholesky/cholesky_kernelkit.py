import numpy as np

import kernelkit as pk


@pk.jit
def kernel(A):
    # each row depends on the rows before it: sequential loops with vectorized dot products
    A[0, 0] = np.sqrt(A[0, 0])
    for i in range(1, A.shape[0]):
        for j in range(i):
            s = 0.0
            # pragma simd
            for k in range(j):
                s += A[i, k] * A[j, k]
            A[i, j] = (A[i, j] - s) / A[j, j]
        s = 0.0
        # pragma simd
        for k in range(i):
            s += A[i, k] * A[i, k]
        A[i, i] = np.sqrt(A[i, i] - s)
    return A
