import kernelkit as pk


@pk.jit
def kernel(alpha, beta, A, u1, v1, u2, v2, w, x, y, z):
    N = A.shape[0]
    for i in pk.prange(N):
        # pragma simd
        for j in range(N):
            A[i, j] += u1[i] * v1[j] + u2[i] * v2[j]
    # x += beta * y @ A + z, column blocks of 64 per iteration so that A is read row by row
    for jb in pk.prange((N + 63) // 64):
        for i in range(N):
            c = beta * y[i]
            # pragma simd
            for t in range(64):
                if jb * 64 + t < N:
                    x[jb * 64 + t] += c * A[i, jb * 64 + t]
    for j in pk.prange(N):
        x[j] += z[j]
    for i in pk.prange(N):
        s = 0.0
        # pragma simd
        for j in range(N):
            s += A[i, j] * x[j]
        w[i] += alpha * s
