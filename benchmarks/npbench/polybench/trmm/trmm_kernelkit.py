import kernelkit as pk


@pk.jit
def kernel(alpha, A, B):
    M, N = B.shape
    # B[i, :] uses the rows below it before they change: the columns are independent, the rows are not
    for j in pk.prange(N):
        for i in range(M):
            s = 0.0
            for k in range(i + 1, M):
                s += A[k, i] * B[k, j]
            B[i, j] += s
    B *= alpha
