"""init(), allreduce() and the CUDA-aware switch."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from mpi4py import MPI

import kernelkit as pk
from kernelkit import config
from kernelkit import mpi as kkmpi


def test_init_is_idempotent_and_installs_the_abort_hook(comm):
    assert comm is MPI.COMM_WORLD
    assert kkmpi.init() is comm
    assert kkmpi.init(comm) is comm
    assert sys.excepthook.__name__ == "_abort_on_exception"
    local, local_size = kkmpi.local_rank()
    assert 0 <= local < local_size <= comm.Get_size()
    with pytest.raises(pk.KernelTypeError, match="communicator"):
        kkmpi.init("world")


def test_threads_shared_among_the_ranks_of_a_node(comm):
    if config.get().num_threads_set:
        pytest.skip("OMP_NUM_THREADS / KERNELKIT_NUM_THREADS chose the threads")
    import os

    _, local_size = kkmpi.local_rank()
    assert pk.get_num_threads() == max(1, len(os.sched_getaffinity(0)) // local_size)


def test_allreduce_scalars(comm, agree):
    r, n = comm.Get_rank(), comm.Get_size()
    total = kkmpi.allreduce(2**70 + r)  # ints stay exact, beyond 64 bits
    ok = total == n * 2**70 + n * (n - 1) // 2 and type(total) is int
    ok &= kkmpi.allreduce(np.int32(r), pk.Max) == n - 1
    s = kkmpi.allreduce(0.5 * (r + 1))
    ok &= type(s) is float and s == 0.25 * n * (n + 1)
    ok &= kkmpi.allreduce(np.float64(r), pk.Min) == 0.0
    ok &= kkmpi.allreduce(2.0, pk.Prod) == 2.0**n
    ok &= kkmpi.allreduce(r == 0, pk.LOr) is True and kkmpi.allreduce(r == 0, MPI.LAND) is (n == 1)
    ok &= kkmpi.allreduce(1 << r, pk.BOr) == (1 << n) - 1
    ok &= kkmpi.allreduce((float(r % 2), r), pk.MinLoc) == (0.0, 0)
    ok &= kkmpi.allreduce((float(r), r), pk.MaxLoc) == (float(n - 1), n - 1)
    assert agree(ok)


def test_allreduce_of_a_parallel_reduce(comm, agree):
    @pk.workunit
    def count(i, acc):
        acc += 1.0

    n = comm.Get_size()
    part = pk.parallel_reduce(pk.RangePolicy(pk.OpenMP, 0, 100 + comm.Get_rank()), count)
    assert agree(kkmpi.allreduce(part) == 100 * n + n * (n - 1) // 2)


def test_allreduce_bad_input(comm):
    with pytest.raises(pk.KernelTypeError, match="scalar"):
        kkmpi.allreduce(np.ones(3))
    with pytest.raises(pk.KernelTypeError, match="reducer"):
        kkmpi.allreduce(1.0, op="sum")
    with pytest.raises(pk.KernelValueError, match="floats"):
        kkmpi.allreduce(1.5, pk.BAnd)
    with pytest.raises(pk.KernelTypeError, match="pair"):
        kkmpi.allreduce(1.0, pk.MinLoc)


def test_cuda_aware_override(comm):
    probed = kkmpi.cuda_aware()
    assert isinstance(probed, bool)
    kkmpi.set_cuda_aware(True)
    try:
        assert kkmpi.cuda_aware() is True
    finally:
        kkmpi.set_cuda_aware(None)
    assert kkmpi.cuda_aware() is probed
    with config.override(mpi_cuda_aware=not probed):
        assert kkmpi.cuda_aware() is (not probed)
    with pytest.raises(pk.KernelTypeError):
        kkmpi.set_cuda_aware(1)
