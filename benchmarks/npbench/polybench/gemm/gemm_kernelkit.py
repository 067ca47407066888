import kernelkit as pk


@pk.jit
def kernel(alpha, beta, C, A, B):
    NI, NJ = C.shape
    NK = A.shape[1]
    KB = 128  # a panel of B (KB rows) stays in the cache while every row of C uses it
    for i in pk.prange(NI):
        # pragma simd
        for j in range(NJ):
            C[i, j] *= beta
    for kb in range(0, NK, KB):
        ke = min(kb + KB, NK)
        for i in pk.prange(NI):
            k = kb
            while k + 4 <= ke:  # four rows of B per pass over a row of C
                a0 = alpha * A[i, k]
                a1 = alpha * A[i, k + 1]
                a2 = alpha * A[i, k + 2]
                a3 = alpha * A[i, k + 3]
                # pragma simd
                for j in range(NJ):
                    C[i, j] += a0 * B[k, j] + a1 * B[k + 1, j] + a2 * B[k + 2, j] + a3 * B[k + 3, j]
                k += 4
            while k < ke:
                a0 = alpha * A[i, k]
                # pragma simd
                for j in range(NJ):
                    C[i, j] += a0 * B[k, j]
                k += 1
