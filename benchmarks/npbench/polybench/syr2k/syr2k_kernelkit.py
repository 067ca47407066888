import kernelkit as pk


@pk.jit
def kernel(alpha, beta, C, A, B):
    N, M = A.shape
    # pragma parallel for schedule(dynamic)
    for i in range(N):
        # pragma simd
        for j in range(i + 1):
            C[i, j] *= beta
        for k in range(M):
            a = alpha * B[i, k]
            b = alpha * A[i, k]
            # pragma simd
            for j in range(i + 1):
                C[i, j] += A[j, k] * a + B[j, k] * b
