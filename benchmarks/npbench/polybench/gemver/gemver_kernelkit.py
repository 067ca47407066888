import kernelkit as pk


@pk.jit
def kernel(alpha, beta, A, u1, v1, u2, v2, w, x, y, z):
    N = A.shape[0]
    for i in pk.prange(N):
        # pragma simd
        for j in range(N):
            A[i, j] += u1[i] * v1[j] + u2[i] * v2[j]
    # x += beta * y @ A + z: a column per iteration, its dot product vectorized (on a GPU a warp per column, the
    # lanes of neighbouring warps reading neighbouring elements of each row)
    for j in pk.prange(N):
        s = 0.0
        # pragma simd
        for i in range(N):
            s += y[i] * A[i, j]
        x[j] += beta * s + z[j]
    for i in pk.prange(N):
        s = 0.0
        # pragma simd
        for j in range(N):
            s += A[i, j] * x[j]
        w[i] += alpha * s
