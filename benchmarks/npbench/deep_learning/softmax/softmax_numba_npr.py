# ruff: noqa
# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.
# npbench's reference code (BSD-3-Clause), kept here so the runner can validate without a checkout.

import numpy as np
import numba as nb


@nb.jit(nopython=True, parallel=True, fastmath=True)
def softmax(x, output):
    for i in nb.prange(x.shape[0]):
        for j in range(x.shape[1]):
            for k in range(x.shape[2]):
                tmp_max = np.max(x[i, j, k])
                tmp_out = np.exp(x[i, j, k] - tmp_max)
                output[i, j, k] = tmp_out / np.sum(tmp_out)
