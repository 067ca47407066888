import kernelkit as pk


@pk.jit
def kernel(TSTEPS, A, B):
    N = A.shape[0]
    for _ in range(1, TSTEPS):
        # pragma parallel for simd
        for i in range(1, N - 1):
            B[i] = 0.33333 * (A[i - 1] + A[i] + A[i + 1])
        # pragma parallel for simd
        for i in range(1, N - 1):
            A[i] = 0.33333 * (B[i - 1] + B[i] + B[i + 1])
