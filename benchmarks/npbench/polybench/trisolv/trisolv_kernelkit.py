import kernelkit as pk


@pk.jit
def kernel(L, x, b):
    for i in range(x.shape[0]):  # a recurrence: sequential, each dot product vectorized
        s = 0.0
        # pragma simd
        for j in range(i):
            s += L[i, j] * x[j]
        x[i] = (b[i] - s) / L[i, i]
