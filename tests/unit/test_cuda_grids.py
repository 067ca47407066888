"""The grids the CUDA launcher gives a parallel_for (runtime/native/cuda.c), checked with the fake driver: one
thread per index, and a range past the grid limits cut into sub-boxes, one launch each, that tile it exactly
(the kernels have no grid-stride loop: tests/backends/test_cuda_specific.py runs them on a GPU)."""

from __future__ import annotations

import textwrap

import pytest
from test_graph import fake_libcuda, run_script  # noqa: F401  (the fake driver fixture, the runner)

SCRIPT = """
import ctypes, json, sys
import numpy as np
from kernelkit.backends.cuda import driver
driver.use_library(sys.argv[1])
import kernelkit as pk
fake = ctypes.CDLL(sys.argv[1])
fake.fake_kk_launch_params.restype = ctypes.c_size_t

@pk.workunit
def one(i, a):
    a[0] = 1

@pk.workunit
def two(i, j, a):
    a[0] = 1

@pk.workunit
def three(i, j, k, a):
    a[0] = 1

@pk.workunit
def four(i, j, k, m, a):
    a[0] = 1

a = pk.View([1], pk.int64, space=pk.CudaSpace)

def launches(body, policy):
    fake.fake_kk_reset()
    pk.parallel_for(policy, body, a=a)
    pk.fence()
    out = []
    for k in range(fake.fake_kk_launches()):
        dims = (ctypes.c_uint * 7)()
        fake.fake_kk_launch_dims(k, dims)
        buf = (ctypes.c_int64 * 12)()
        fake.fake_kk_launch_params(k, buf, ctypes.sizeof(buf))
        out.append({"grid": list(dims[:3]), "block": list(dims[3:6]), "lo": list(buf[:6]), "hi": list(buf[6:12])})
    return out

res = {
    "range": launches(one, pk.RangePolicy(pk.Cuda, 3, 1003)),
    "rows": launches(two, pk.MDRangePolicy(pk.Cuda, [1, 0], [600001, 3])),
    "outer": launches(three, pk.MDRangePolicy(pk.Cuda, [0, 0, 0], [70000, 2, 2])),
    "outer2": launches(four, pk.MDRangePolicy(pk.Cuda, [0, 1, 0, 0], [3, 30001, 2, 2])),
    "tiled": launches(two, pk.MDRangePolicy(pk.Cuda, [0, 0], [100, 100], tile=[4, 64])),
}
print(json.dumps(res))
"""


@pytest.fixture(scope="module")
def grids(fake_libcuda, tmp_path_factory):  # noqa: F811
    cache = str(tmp_path_factory.mktemp("kernelkit-cache"))
    return run_script(textwrap.dedent(SCRIPT), fake_libcuda, KERNELKIT_CACHE_DIR=cache)


def test_a_range_is_one_launch_with_a_thread_per_index(grids):
    (r,) = grids["range"]
    assert r["grid"] == [4, 1, 1] and r["block"] == [256, 1, 1]
    assert (r["lo"][0], r["hi"][0]) == (3, 1003)


def test_rows_past_65535_blocks_are_two_launches_that_tile_the_range(grids):
    a, b = grids["rows"]
    assert a["block"][:2] == [32, 8]
    assert a["grid"] == [1, 65535, 1] and (a["lo"][:2], a["hi"][:2]) == ([1, 0], [1 + 65535 * 8, 3])
    assert b["grid"] == [1, (600000 - 65535 * 8 + 7) // 8, 1]
    assert (b["lo"][:2], b["hi"][:2]) == ([1 + 65535 * 8, 0], [600001, 3])


def test_outer_dimensions_past_65535_are_split(grids):
    a, b = grids["outer"]
    assert a["grid"][2] == 65535 and (a["lo"][0], a["hi"][0]) == (0, 65535)
    assert b["grid"][2] == 70000 - 65535 and (b["lo"][0], b["hi"][0]) == (65535, 70000)
    for r in (a, b):
        assert r["lo"][1:3] == [0, 0] and r["hi"][1:3] == [2, 2]


def test_two_outer_dimensions_share_the_z_limit(grids):
    a, b = grids["outer2"]  # 3 x 30000 outer points: dimension 0 in chunks of 2 (2 x 30000 <= 65535)
    assert (a["lo"][0], a["hi"][0], a["grid"][2]) == (0, 2, 60000)
    assert (b["lo"][0], b["hi"][0], b["grid"][2]) == (2, 3, 30000)
    assert a["lo"][1] == b["lo"][1] == 1 and a["hi"][1] == b["hi"][1] == 30001


def test_the_policy_tile_is_the_block(grids):
    (r,) = grids["tiled"]
    assert r["block"][:2] == [64, 4] and r["grid"][:2] == [2, 25]
