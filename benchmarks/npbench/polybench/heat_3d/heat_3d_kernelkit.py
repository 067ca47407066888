import kernelkit as pk


@pk.jit
def kernel(TSTEPS, A, B):
    N = A.shape[0]
    for _ in range(1, TSTEPS):  # (i, j) one collapsed parallel loop: N^2 iterations, k vectorized
        for i in pk.prange(1, N - 1):
            for j in pk.prange(1, N - 1):
                # pragma simd
                for k in range(1, N - 1):
                    B[i, j, k] = (
                        0.125 * (A[i + 1, j, k] - 2.0 * A[i, j, k] + A[i - 1, j, k])
                        + 0.125 * (A[i, j + 1, k] - 2.0 * A[i, j, k] + A[i, j - 1, k])
                        + 0.125 * (A[i, j, k + 1] - 2.0 * A[i, j, k] + A[i, j, k - 1])
                        + A[i, j, k]
                    )
        for i in pk.prange(1, N - 1):
            for j in pk.prange(1, N - 1):
                # pragma simd
                for k in range(1, N - 1):
                    A[i, j, k] = (
                        0.125 * (B[i + 1, j, k] - 2.0 * B[i, j, k] + B[i - 1, j, k])
                        + 0.125 * (B[i, j + 1, k] - 2.0 * B[i, j, k] + B[i, j - 1, k])
                        + 0.125 * (B[i, j, k + 1] - 2.0 * B[i, j, k] + B[i, j, k - 1])
                        + B[i, j, k]
                    )
