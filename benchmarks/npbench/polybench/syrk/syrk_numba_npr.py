# ruff: noqa
# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.
# npbench's reference code (BSD-3-Clause), kept here so the runner can validate without a checkout.

import numba as nb


@nb.jit(nopython=True, parallel=True, fastmath=True)
def kernel(alpha, beta, C, A):
    for i in nb.prange(A.shape[0]):
        C[i, : i + 1] *= beta
        for k in range(A.shape[1]):
            C[i, : i + 1] += alpha * A[i, k] * A[: i + 1, k]
