"""What only pk.Cuda has: device-resident Views and coherence, streams, CUDA errors, bounds checks, interop.

Runs where a GPU is usable (the lent GPU machine); skipped elsewhere, where tests/backends runs every kernel
through the CudaCheck space instead (NVRTC compile + OpenMP run).
"""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.backends.base import space_report

CUDA = any(d["name"] == "cuda" and d["available"] for d in space_report())
pytestmark = pytest.mark.skipif(not CUDA, reason="needs a usable CUDA GPU")


@pk.workunit
def triad(i, a, b, c, s):
    a[i] = b[i] + s * c[i]


@pk.workunit
def copy(i, dst, src):
    dst[i] = src[i]


@pk.workunit
def total(i, acc, a):
    acc += a[i]


@pk.workunit
def oob(i, a):
    a[i + 1] = 1.0


def test_loop_of_kernels_moves_no_data():
    from kernelkit.runtime import coherence as memory

    n = 1 << 20
    a, b, c = (pk.View([n], pk.double, space=pk.CudaSpace) for _ in range(3))
    pol = pk.RangePolicy(pk.Cuda, 0, n)
    b.fill(1.0)
    c.fill(2.0)
    pk.parallel_for(pol, triad, a=a, b=b, c=c, s=0.5)  # first use: allocations and fills happen here
    pk.fence()
    memory.reset_stats()
    for _ in range(100):
        pk.parallel_for(pol, triad, a=a, b=b, c=c, s=0.5)
        pk.parallel_for(pol, copy, dst=c, src=a)
    pk.fence()
    st = memory.stats()
    assert st["h2d"] == 0 and st["d2h"] == 0, st
    # the result is right and reading it costs exactly one download per View
    assert np.allclose(np.asarray(c)[:10], np.asarray(a)[:10])
    assert memory.stats()["d2h"] == 2


def test_reduce_returns_a_value_and_matches_numpy():
    x = np.random.default_rng(0).random(1_000_003)
    v = pk.View([x.size], pk.double, space=pk.CudaSpace)
    v.data[:] = x
    r = pk.parallel_reduce(pk.RangePolicy(pk.Cuda, 0, x.size), total, a=v)
    assert abs(r - x.sum()) < 1e-9 * x.size


def test_execution_space_instance_streams():
    inst1 = pk.ExecutionSpaceInstance(pk.Cuda)
    inst2 = pk.ExecutionSpaceInstance(pk.Cuda)
    n = 1 << 16
    a1, a2, b, c = (pk.View([n], pk.double, space=pk.CudaSpace) for _ in range(4))
    b.fill(1.0)
    c.fill(3.0)
    pk.parallel_for(pk.RangePolicy(inst1, 0, n), triad, a=a1, b=b, c=c, s=2.0)
    pk.parallel_for(pk.RangePolicy(inst2, 0, n), triad, a=a2, b=b, c=c, s=-1.0)
    r1 = pk.parallel_reduce(pk.RangePolicy(inst1, 0, n), total, a=a1)  # synchronizes inst1
    inst2.fence()
    assert r1 == 7.0 * n
    assert np.all(np.asarray(a2) == -2.0)
    pk.fence()


def test_external_cupy_stream():
    cp = pytest.importorskip("cupy")
    s = cp.cuda.Stream()
    inst = pk.ExecutionSpaceInstance(pk.Cuda, s)
    x = cp.arange(1000, dtype=cp.float64)
    y = cp.zeros(1000)
    pk.parallel_for(pk.RangePolicy(inst, 0, 1000), copy, dst=y, src=x)  # zero copy: CuPy arrays as arguments
    s.synchronize()
    assert bool(cp.all(y == x))


def test_torch_tensors_zero_copy():
    torch = pytest.importorskip("torch")
    x = torch.arange(4096, dtype=torch.float64, device="cuda")
    y = torch.zeros(4096, dtype=torch.float64, device="cuda")
    pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, 4096), copy, dst=y, src=x)
    pk.fence()
    assert torch.equal(x, y)
    assert pk.parallel_reduce(pk.RangePolicy(pk.Cuda, 0, 4096), total, a=x) == float(x.sum())


def test_bounds_check_reports_kernel_view_and_index(monkeypatch):
    from kernelkit import config

    v = pk.View([8], pk.double, space=pk.CudaSpace)
    with config.override(bounds_check=True):
        with pytest.raises(pk.KernelRuntimeError) as e:
            pk.parallel_for(pk.RangePolicy(pk.Cuda, 0, 8), oob, a=v)
    msg = str(e.value)
    assert "oob" in msg and "'a'" in msg and "index 8" in msg and "extent 8" in msg


def test_oversized_shared_scratch_is_a_clear_error():
    @pk.workunit
    def big(team, out):
        s = pk.ScratchView1D[pk.double](team.team_scratch(0), 100_000)
        s[0] = 1.0
        out[team.league_rank()] = s[0]

    out = pk.View([2], pk.double, space=pk.CudaSpace)
    pol = pk.TeamPolicy(pk.Cuda, 2, 32).set_scratch_size(0, pk.PerTeam(800_000))
    with pytest.raises(pk.KernelValueError) as e:
        pk.parallel_for(pol, big, out=out)
    assert "shared memory" in str(e.value) and "level 1" in str(e.value)


def test_level1_scratch_on_cuda():
    @pk.workunit
    def stage(team, x, out, n):
        s = pk.ScratchView1D[pk.double](team.team_scratch(1), n)
        lr = team.league_rank()

        def load(i):
            s[i] = x[lr, i] * 2.0

        pk.parallel_for(pk.TeamThreadRange(team, n), load)
        team.team_barrier()

        def red(i, acc: pk.Acc[pk.double]):
            acc += s[i]

        t = pk.parallel_reduce(pk.TeamThreadRange(team, n), red)

        def put():
            out[lr] = t

        pk.single(pk.PerTeam(team), put)

    E, n = 37, 3000
    x = np.random.default_rng(2).random((E, n))
    out = np.zeros(E)
    pol = pk.TeamPolicy(pk.Cuda, E, 8).set_scratch_size(1, pk.PerTeam(8 * n))
    pk.parallel_for(pol, stage, x=x, out=out, n=n)
    assert np.allclose(out, 2.0 * x.sum(axis=1))


@pk.workunit
def mark2(i, j, a):
    a[i, j] += i * 3 + j + 1


@pk.workunit
def mark3(i, j, k, a):
    a[i, j, k] += i * 100 + j * 10 + k + 1


@pk.workunit
def mark4(i, j, k, m, a):
    a[i, j, k, m] += i * 1000 + j * 100 + k * 10 + m + 1


@pytest.mark.parametrize(
    "begin, end",
    [
        ((1, 0), (600_001, 3)),  # y past 65535 blocks of 8 rows: two launches
        ((0, 0, 0), (70_000, 2, 2)),  # z (the outer dimensions) past 65535
        ((0, 1, 0, 0), (3, 30_001, 2, 2)),  # two outer dimensions sharing z's 65535
        ((2, 3), (5, 4)),
    ],
)
def test_mdrange_past_the_grid_limits_runs_every_point_once(begin, end):
    """A parallel_for's kernel runs one point per thread (no grid-stride loop): a range past the grid limits
    is several launches over sub-boxes, and every point must still run exactly once with its own indices."""
    rank = len(begin)
    shape = tuple(e + 1 for e in end)
    a = pk.View(list(shape), pk.int64, space=pk.CudaSpace)
    body = {2: mark2, 3: mark3, 4: mark4}[rank]
    pk.parallel_for(pk.MDRangePolicy(pk.Cuda, list(begin), list(end)), body, a=a)
    idx = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    weights = {2: (3, 1), 3: (100, 10, 1), 4: (1000, 100, 10, 1)}[rank]
    want = sum(w * x for w, x in zip(weights, idx, strict=True)) + 1
    inside = np.ones(shape, bool)
    for d in range(rank):
        inside &= (idx[d] >= begin[d]) & (idx[d] < end[d])
    np.testing.assert_array_equal(np.asarray(a), np.where(inside, want, 0))
