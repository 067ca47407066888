# ruff: noqa
# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.
# npbench's reference code (BSD-3-Clause), kept here so the runner can validate without a checkout.


def initialize(N, datatype):
    from numpy.random import default_rng

    rng = default_rng(42)
    data, radius = rng.random((N,), dtype=datatype), rng.random((N,), dtype=datatype)
    return data, radius
