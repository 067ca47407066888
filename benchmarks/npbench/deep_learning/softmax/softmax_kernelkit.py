import numpy as np

import kernelkit as pk


@pk.jit
def softmax(x, output):
    N, H, SM, L = x.shape
    for n in pk.prange(N):
        for h in pk.prange(H):
            for i in pk.prange(SM):  # one collapsed loop over the rows
                m = max(x[n, h, i, :L])
                output[n, h, i, :L] = np.exp(x[n, h, i, :L] - m)  # each exponential once, as NumPy's tmp_out
                s = sum(output[n, h, i, :L])
                output[n, h, i, :L] = output[n, h, i, :L] / s
