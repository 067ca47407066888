# ruff: noqa
# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.
# npbench's reference code (BSD-3-Clause), kept here so the runner can validate without a checkout.

import numpy as np


def spmv(A_row, A_col, A_val, x):
    y = np.empty(A_row.size - 1, A_val.dtype)
    for i in range(A_row.size - 1):
        cols = A_col[A_row[i] : A_row[i + 1]]
        vals = A_val[A_row[i] : A_row[i + 1]]
        y[i] = vals @ x[cols]
    return y
