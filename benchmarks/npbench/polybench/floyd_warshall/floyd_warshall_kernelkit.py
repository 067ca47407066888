import kernelkit as pk


@pk.jit
def kernel(path):
    N = path.shape[0]
    for k in range(N):
        for i in pk.prange(N):
            pik = path[i, k]
            # pragma simd
            for j in range(N):
                path[i, j] = min(path[i, j], pik + path[k, j])
