import kernelkit as pk


@pk.jit
def kernel(alpha, beta, C, A):
    N, M = A.shape
    # pragma parallel for schedule(dynamic)
    for i in range(N):
        # pragma simd
        for j in range(i + 1):
            C[i, j] *= beta
        for k in range(M):
            a = alpha * A[i, k]
            # pragma simd
            for j in range(i + 1):
                C[i, j] += a * A[j, k]
