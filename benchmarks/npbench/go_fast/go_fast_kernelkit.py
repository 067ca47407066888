import numpy as np

import kernelkit as pk


@pk.jit
def go_fast(a):
    trace = 0.0
    for i in pk.prange(a.shape[0]):
        trace += np.tanh(a[i, i])
    return a + trace
