import numpy as np

import kernelkit as pk


@pk.jit
def kernel(M, float_n, data):
    N = data.shape[0]
    mean = np.zeros(M, dtype=data.dtype)
    for i in range(N):  # row by row: every access contiguous
        # pragma simd
        for j in range(M):
            mean[j] += data[i, j]
    for j in pk.prange(M):
        mean[j] /= float_n
    data[:, :] -= mean
    cov = np.zeros((M, M), dtype=data.dtype)
    # pragma parallel for schedule(dynamic)
    for i in range(M):  # the upper triangle, row i, accumulated over the samples
        for k in range(N):
            a = data[k, i]
            # pragma simd
            for j in range(i, M):
                cov[i, j] += a * data[k, j]
        # pragma simd
        for j in range(i, M):
            cov[i, j] /= float_n - 1.0
    for i in pk.prange(M):  # mirror
        for j in range(i):
            cov[i, j] = cov[j, i]
    return cov
