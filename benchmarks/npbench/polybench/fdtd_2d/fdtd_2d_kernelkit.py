import kernelkit as pk


@pk.jit
def kernel(TMAX, ex, ey, hz, _fict_):
    NX, NY = ex.shape
    for t in range(TMAX):
        ey[0, :] = _fict_[t]
        for i in pk.prange(NX):  # ey and ex both read only hz: one parallel loop updates both
            if i > 0:
                # pragma simd
                for j in range(NY):
                    ey[i, j] -= 0.5 * (hz[i, j] - hz[i - 1, j])
            # pragma simd
            for j in range(1, NY):
                ex[i, j] -= 0.5 * (hz[i, j] - hz[i, j - 1])
        for i in pk.prange(NX - 1):
            # pragma simd
            for j in range(NY - 1):
                hz[i, j] -= 0.7 * (ex[i, j + 1] - ex[i, j] + ey[i + 1, j] - ey[i, j])
