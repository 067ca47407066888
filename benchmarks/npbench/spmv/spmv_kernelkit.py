import numpy as np

import kernelkit as pk


@pk.jit
def spmv(A_row, A_col, A_val, x):
    M = A_row.shape[0] - 1
    y = np.empty(M, dtype=A_val.dtype)
    for i in pk.prange(M):
        s = 0.0
        for j in range(A_row[i], A_row[i + 1]):
            s += A_val[j] * x[A_col[j]]
        y[i] = s
    return y
