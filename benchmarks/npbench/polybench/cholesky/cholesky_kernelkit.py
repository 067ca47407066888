import numpy as np

import kernelkit as pk


@pk.jit
def kernel(A):
    # Column by column (npbench goes row by row): every element is the same dot product of the same terms, and
    # the elements of a column below the diagonal are independent of each other, so they are the parallel loop.
    N = A.shape[0]
    for j in range(N):
        s = 0.0
        # pragma simd
        for k in range(j):
            s += A[j, k] * A[j, k]
        A[j, j] = np.sqrt(A[j, j] - s)
        for i in pk.prange(j + 1, N):
            s = 0.0
            # pragma simd
            for k in range(j):
                s += A[i, k] * A[j, k]
            A[i, j] = (A[i, j] - s) / A[j, j]
    return A
