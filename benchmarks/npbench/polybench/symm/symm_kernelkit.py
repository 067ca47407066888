import kernelkit as pk


@pk.jit
def kernel(alpha, beta, C, A, B):
    # npbench's loop computes C = beta C + alpha S B, S the symmetric matrix whose lower triangle A holds
    # (S[r, k] = A[max(r, k), min(r, k)]): the rows of C are independent, so they are the parallel loop, and
    # the product is written as gemm is (panels of B that stay in the cache, four rows of B per pass).
    M, N = C.shape
    KB = 128
    for r in pk.prange(M):
        # pragma simd
        for j in range(N):
            C[r, j] *= beta
    for kb in range(0, M, KB):
        ke = min(kb + KB, M)
        for r in pk.prange(M):
            k = kb
            while k + 4 <= ke:
                a0 = alpha * A[max(r, k), min(r, k)]
                a1 = alpha * A[max(r, k + 1), min(r, k + 1)]
                a2 = alpha * A[max(r, k + 2), min(r, k + 2)]
                a3 = alpha * A[max(r, k + 3), min(r, k + 3)]
                # pragma simd
                for j in range(N):
                    C[r, j] += a0 * B[k, j] + a1 * B[k + 1, j] + a2 * B[k + 2, j] + a3 * B[k + 3, j]
                k += 4
            while k < ke:
                a0 = alpha * A[max(r, k), min(r, k)]
                # pragma simd
                for j in range(N):
                    C[r, j] += a0 * B[k, j]
                k += 1
