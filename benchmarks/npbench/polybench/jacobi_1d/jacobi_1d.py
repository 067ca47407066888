# ruff: noqa
# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.
# npbench's reference code (BSD-3-Clause), kept here so the runner can validate without a checkout.

import numpy as np


def initialize(N, datatype=np.float64):
    A = np.fromfunction(lambda i: (i + 2) / N, (N,), dtype=datatype)
    B = np.fromfunction(lambda i: (i + 3) / N, (N,), dtype=datatype)
    return A, B
