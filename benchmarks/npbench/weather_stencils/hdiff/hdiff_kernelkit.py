import numpy as np

import kernelkit as pk


@pk.jit
def hdiff(in_field, out_field, coeff):
    I, J, K = out_field.shape
    # every loop nest: (i, j) one collapsed parallel loop (on a GPU, a warp per column of k), k vectorized
    lap = np.empty((I + 2, J + 2, K), dtype=in_field.dtype)
    for i in pk.prange(I + 2):
        for j in pk.prange(J + 2):
            # pragma simd
            for k in range(K):
                lap[i, j, k] = 4.0 * in_field[i + 1, j + 1, k] - (
                    in_field[i + 2, j + 1, k]
                    + in_field[i, j + 1, k]
                    + in_field[i + 1, j + 2, k]
                    + in_field[i + 1, j, k]
                )
    flx = np.empty((I + 1, J, K), dtype=in_field.dtype)
    fly = np.empty((I, J + 1, K), dtype=in_field.dtype)
    for i in pk.prange(I + 1):
        for j in pk.prange(J + 1):
            # pragma simd
            for k in range(K):
                if j < J:
                    r = lap[i + 1, j + 1, k] - lap[i, j + 1, k]
                    flx[i, j, k] = 0.0 if r * (in_field[i + 2, j + 2, k] - in_field[i + 1, j + 2, k]) > 0 else r
                if i < I:
                    r = lap[i + 1, j + 1, k] - lap[i + 1, j, k]
                    fly[i, j, k] = 0.0 if r * (in_field[i + 2, j + 2, k] - in_field[i + 2, j + 1, k]) > 0 else r
    for i in pk.prange(I):
        for j in pk.prange(J):
            # pragma simd
            for k in range(K):
                out_field[i, j, k] = in_field[i + 2, j + 2, k] - coeff[i, j, k] * (
                    flx[i + 1, j, k] - flx[i, j, k] + fly[i, j + 1, k] - fly[i, j, k]
                )
