"""Cache safety: every rank of a node compiles the same new kernels at the same moment into one cache
directory that does not exist yet; all succeed, and each kernel is compiled once."""

from __future__ import annotations

import os
import tempfile

import numpy as np

import kernelkit as pk
from kernelkit import config
from kernelkit.compile import pipeline


def test_ranks_compile_each_new_kernel_once(comm, agree):
    rank = comm.Get_rank()
    if rank == 0:
        parent = tempfile.mkdtemp(prefix="kernelkit-mpi-cache-")
        salt = float(np.random.default_rng().integers(1, 1 << 30))
    else:
        parent, salt = None, None
    parent, salt = comm.bcast((parent, salt), root=0)
    directory = os.path.join(parent, "not", "there", "yet")

    def make(k: int):
        @pk.workunit
        def scale(i, x):
            x[i] = x[i] * salt + k  # salt and k are baked in: brand-new kernels, never cached anywhere

        return scale

    kernels = [make(k) for k in range(3)]
    x = pk.View([64], pk.double)
    with config.override(cache_dir=directory):
        comm.Barrier()  # start together
        for wu in kernels:
            pk.parallel_for(pk.RangePolicy(pk.OpenMP, 0, 64), wu, x=x)
    built = {
        key: loaded.from_cache
        for key, loaded in pipeline._built.items()
        if os.path.abspath(loaded.path).startswith(os.path.abspath(directory))
    }
    everyone = comm.allgather(built)
    keys = set().union(*everyone)
    compiled = {k: sum(1 for b in everyone if k in b and not b[k]) for k in keys}
    ok = len(keys) == 3 and all(len(b) == 3 for b in everyone) and all(c == 1 for c in compiled.values())
    ok &= np.allclose(np.asarray(x), salt + 2.0)  # 0 -> 0 * salt + 0 -> 0 * salt + 1 -> 1 * salt + 2
    comm.Barrier()
    if rank == 0:
        names = os.listdir(os.path.join(directory, "v1"))  # kernels, not records (the host -march=native memo)
        entries = [n for n in names if n.endswith(".json") and not n.endswith(".record.json")]
        ok &= len(entries) == 3 and (os.stat(directory).st_mode & 0o777) == 0o700
        import shutil

        shutil.rmtree(parent)
    assert agree(ok), f"compiles per kernel: {compiled}"
