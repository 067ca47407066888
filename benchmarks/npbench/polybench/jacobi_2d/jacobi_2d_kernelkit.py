import kernelkit as pk


@pk.jit
def kernel(TSTEPS, A, B):
    N = A.shape[0]
    for _ in range(1, TSTEPS):
        for i in pk.prange(1, N - 1):
            # pragma simd
            for j in range(1, N - 1):
                B[i, j] = 0.2 * (A[i, j] + A[i, j - 1] + A[i, j + 1] + A[i + 1, j] + A[i - 1, j])
        for i in pk.prange(1, N - 1):
            # pragma simd
            for j in range(1, N - 1):
                A[i, j] = 0.2 * (B[i, j] + B[i, j - 1] + B[i, j + 1] + B[i + 1, j] + B[i - 1, j])
