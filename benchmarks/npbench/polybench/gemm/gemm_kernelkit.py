import kernelkit as pk


@pk.jit
def kernel(alpha, beta, C, A, B):
    NI, NJ = C.shape
    NK = A.shape[1]
    # blocked over k and j so that a panel of B stays in cache while every row of C uses it
    KB = 128
    JB = 512
    for i in pk.prange(NI):
        # pragma simd
        for j in range(NJ):
            C[i, j] *= beta
    for jb in range(0, NJ, JB):
        je = min(jb + JB, NJ)
        for kb in range(0, NK, KB):
            ke = min(kb + KB, NK)
            for i in pk.prange(NI):
                for k in range(kb, ke):
                    a = alpha * A[i, k]
                    # pragma simd
                    for j in range(jb, je):
                        C[i, j] += a * B[k, j]
