import numpy as np

import kernelkit as pk


@pk.jit
def azimint_naive(data, radius, npt):
    rmax = radius.max()
    res = np.zeros(npt, dtype=np.float64)
    for i in pk.prange(npt):
        r1 = rmax * i / npt
        r2 = rmax * (i + 1) / npt
        s = 0.0
        count = 0
        # pragma simd
        for j in range(radius.shape[0]):
            if (r1 <= radius[j]) & (radius[j] < r2):
                s += data[j]  # data is read only in the bin: most of it stays out of the cache
                count += 1
        res[i] = s / count
    return res
