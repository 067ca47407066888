# ruff: noqa: B023 - spawn gives each body the loop variables of its own iteration (Parla's rule)
"""GPU tasks on a real GPU (skipped without one): a stream per task, CUDA events between dependent GPU tasks
(no host synchronization between them), logical GPUs over one physical GPU, kernelkit launches and CuPy calls
queued on the task's stream."""

from __future__ import annotations

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.backends.cuda import driver
from kernelkit.tasks import TaskSpace, cpu, get_current_stream, get_device_manager, gpu, parray, spawn

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(driver.device_count() == 0, reason="needs a usable CUDA device"),
]


@pk.workunit
def _spin_fill(i, x, v, n):
    acc = 0.0
    for k in range(n):  # make the kernel long enough that an unordered reader would see old data
        acc += 1e-9 * k
    x[i] = v + acc * 0.0


@pk.workunit
def _add_into(i, y, x):
    y[i] += x[i]


def test_logical_gpus_share_the_physical_ones(parla):
    with parla(virtual_gpus=4):
        m = get_device_manager()
        assert [d.physical for d in m.gpus] == [i % driver.device_count() for i in range(4)]
        assert all(not d.host_backed for d in m.gpus)


def test_each_gpu_task_has_its_own_stream(parla, gate):
    g = gate(2)
    with parla(virtual_gpus=2):
        T = TaskSpace("T")
        for i in range(2):

            @spawn(T[i], placement=gpu(i))
            def t():
                s = get_current_stream()
                g.arrive()  # both run at once: their streams are distinct
                return s.handle

    assert T[0].result != T[1].result and T[0].result and T[1].result


def test_dependent_gpu_tasks_are_ordered_by_events_without_host_syncs(parla, monkeypatch):
    n = 1 << 16
    x = pk.View([n], pk.double, space=pk.CudaSpace)
    y = pk.View([n], pk.double, space=pk.CudaSpace)
    syncs = []
    for cls, name in ((driver.Stream, "synchronize"), (driver.Event, "synchronize")):
        real = getattr(cls, name)

        def counted(self, _real=real, _name=f"{cls.__name__}.{name}"):
            syncs.append(_name)
            return _real(self)

        monkeypatch.setattr(cls, name, counted)
    with parla(virtual_gpus=2):
        T = TaskSpace("T")

        @spawn(T[0], placement=gpu(0))
        def producer():
            pk.parallel_for(n, _spin_fill, x=x, v=2.0, n=20000)

        @spawn(T[1], placement=gpu(1), dependencies=[T[0]])
        def consumer():
            pk.parallel_for(n, _add_into, y=y, x=x)

        @spawn(T[2], placement=gpu(0), dependencies=[T[1]])
        def again():
            pk.parallel_for(n, _add_into, y=y, x=x)

        T[2].scheduler.wait_for([T[2]])
        between = list(syncs)  # the GPU chain is queued: the host waited for nothing yet

    assert "Event.synchronize" not in between
    assert np.all(np.asarray(y) == 4.0)


def test_cpu_task_after_gpu_task_sees_its_results(parla):
    n = 4096
    a = parray.asarray(np.zeros(n))
    with parla(virtual_gpus=1):

        @spawn(placement=gpu(0), inout=[a])
        def on_gpu():
            pk.parallel_for(n, _spin_fill, x=a.view, v=1.5, n=1000)

        @spawn(placement=cpu, input=[a], dependencies=[on_gpu])
        def on_cpu():
            return float(np.sum(a.array))

    assert on_cpu.result == 1.5 * n


def test_cupy_uses_the_task_device_and_stream(parla):
    cp = pytest.importorskip("cupy")
    from kernelkit.tasks import clone_here

    with parla(virtual_gpus=2):

        @spawn(placement=gpu(1))
        def t():
            b = clone_here(np.arange(10.0))
            assert isinstance(b, cp.ndarray)
            assert cp.cuda.get_current_stream().ptr == get_current_stream().handle
            return float((b * 2).sum())

    assert t.result == 90.0


@pk.workunit
def _twice(i, x):
    x[i] = 2.0 * x[i] + 1.0


def test_parray_copies_on_a_physical_gpu_are_device_memory(parla):
    from kernelkit.tasks import reset_stats, stats

    reset_stats()
    n = 1 << 12
    a = np.arange(n, dtype=np.float64)
    with parla(virtual_gpus=2):
        A = parray.asarray(a)
        T = TaskSpace("T")

        @spawn(T[0], placement=gpu(1), inout=[A])
        def write():
            x = A.array
            assert hasattr(x, "__cuda_array_interface__") and not isinstance(x, np.ndarray)
            pk.parallel_for(n, _twice, x=A)  # the PArray: its copy on gpu(1), on the task's stream

        @spawn(T[1], [T[0]], placement=gpu(0), input=[A[0 : n // 2]])
        def half():
            return float(np.asarray(A[0 : n // 2]).sum())  # a device-to-device copy of half the bytes, read back

        @spawn(T[2], [T[1]], placement=cpu, input=[A])
        def read():
            return A.array.copy()

    expected = 2.0 * np.arange(n) + 1.0
    assert T[1].result == float(expected[: n // 2].sum())
    assert np.array_equal(T[2].result, expected) and np.array_equal(a, expected)
    pairs = {k: (v["copies"], v["bytes"]) for k, v in stats()["copies_per_pair"].items()}
    assert pairs == {"cpu(0)->gpu(1)": (1, 8 * n), "gpu(1)->gpu(0)": (1, 4 * n), "gpu(1)->cpu(0)": (1, 8 * n)}


def test_a_gpu_chain_of_parray_writes_needs_no_host_sync(parla):
    n = 1 << 14
    with parla(virtual_gpus=4):
        A = parray.asarray(np.zeros(n))
        T = TaskSpace("T")
        for i in range(4):

            @spawn(T[i], [T[i - 1]], placement=gpu(i), inout=[A])
            def step():
                pk.parallel_for(n, _add_one, x=A.view)  # a View over this logical GPU's copy

        @spawn(T[4], [T[3]], placement=cpu, input=[A])
        def read():
            return float(A.array.sum())

    assert T[4].result == 4.0 * n


@pk.workunit
def _add_one(i, x):
    x[i] += 1.0
