# ruff: noqa: B023 - spawn gives each body the loop variables of its own iteration (Parla's rule)
"""Real data movement between places (4 logical GPUs backed by the host): each place has its own copy, a task
reads the copy where it runs, only stale bytes move (a subarray moves alone), writes invalidate the other
copies, the mapper prefers the place holding the bytes, copies are counted and traced, and a failing copy fails
its task."""

from __future__ import annotations

import json

import numpy as np
import pytest

import kernelkit as pk
from kernelkit.errors import KernelError
from kernelkit.tasks import (
    Coherence,
    CopyError,
    TaskSpace,
    cpu,
    get_current_devices,
    gpu,
    parray,
    reset_stats,
    spawn,
    stats,
)
from kernelkit.tasks import data as _data


@pytest.fixture(autouse=True)
def _fresh_stats():
    reset_stats()
    yield
    _data._fault[0] = None


def _copies():
    return {k: (v["copies"], v["bytes"]) for k, v in stats()["copies_per_pair"].items()}


def _host(x):
    """A task's array on the host: a logical GPU's copy is NumPy where it is backed by the host (CI) and CuPy on
    a physical GPU."""
    return x.get() if hasattr(x, "get") and not isinstance(x, np.ndarray) else np.asarray(x)


def _aliases(x, a) -> bool:
    """Whether the array a task sees is the host array `a` itself (a device copy never is)."""
    return isinstance(x, np.ndarray) and np.shares_memory(x, a)


def test_a_gpu_write_is_read_by_a_later_cpu_task_with_exactly_one_copy(parla):
    a = np.arange(16.0)
    with parla():
        A = parray.asarray(a)
        T = TaskSpace("T")

        @spawn(T[0], placement=gpu(1), inout=[A])
        def write():
            x = A.array
            assert not _aliases(x, a)  # the gpu(1) copy, not the host's
            x *= 2.0

        @spawn(T[1], [T[0]], placement=cpu, input=[A])
        def read():
            return float(A.array.sum()), np.shares_memory(A.array, a)

    assert T[1].result == (2.0 * np.arange(16.0).sum(), True)
    assert _copies() == {"cpu(0)->gpu(1)": (1, 128), "gpu(1)->cpu(0)": (1, 128)}  # the read: one copy back
    assert np.array_equal(a, 2.0 * np.arange(16.0))
    s = stats()
    assert s["copies"] == 2 and s["copy_bytes"] == 256


def test_the_host_is_current_after_the_block_and_outside_tasks(parla):
    a = np.zeros(8)
    with parla():
        A = parray.asarray(a)
        T = TaskSpace("T")

        @spawn(T[0], placement=gpu(3), output=[A])
        def write():
            A.array[:] = 5.0

        T[0].wait()
        assert a[0] == 0.0  # the host array is stale until something reads it on the host
        assert A[0] == 5.0 and np.array_equal(np.asarray(A), np.full(8, 5.0))  # outside tasks: copied back

        @spawn(T[1], [T[0]], placement=gpu(2), inout=[A])
        def again():
            A.array[:] += 1.0

    assert np.array_equal(a, np.full(8, 6.0))  # the end of the block wrote it back


def test_a_subarray_moves_only_its_bytes(parla):
    a = np.arange(1000.0)
    m = np.arange(64.0 * 8).reshape(64, 8)
    with parla():
        A, M = parray.asarray(a), parray.asarray(m)
        T = TaskSpace("T")

        @spawn(T[0], placement=gpu(2), input=[A[100:200], M[:, 2:4]])
        def part():
            assert get_current_devices()[0]().get_global_id() == 3
            return float(A[100:200].array.sum()), float(M[:, 2:4].array.sum())

    assert T[0].result == (float(a[100:200].sum()), float(m[:, 2:4].sum()))
    assert _copies() == {"cpu(0)->gpu(2)": (2, 100 * 8 + 64 * 2 * 8)}


def test_subarray_writes_on_two_gpus_are_merged_for_a_whole_read(parla):
    a = np.zeros(8)
    with parla():
        A = parray.asarray(a)
        T = TaskSpace("T")
        for i in range(2):

            @spawn(T[i], placement=gpu(i), inout=[A[4 * i : 4 * i + 4]])
            def half():
                A[4 * i : 4 * i + 4].array[:] += i + 1.0

        @spawn(T[2], T[0:2], placement=gpu(3), input=[A])
        def whole():
            return A.array.copy()

    assert np.array_equal(_host(T[2].result), [1, 1, 1, 1, 2, 2, 2, 2])
    assert np.array_equal(a, [1, 1, 1, 1, 2, 2, 2, 2])
    c = _copies()
    assert c["cpu(0)->gpu(0)"] == (1, 32) and c["cpu(0)->gpu(1)"] == (1, 32)


def test_overlapping_subarray_writes_keep_the_newest_data(parla):
    a = np.zeros(8)
    with parla():
        A = parray.asarray(a)
        T = TaskSpace("T")

        @spawn(T[0], placement=gpu(0), inout=[A[0:6]])
        def first():
            A[0:6].array[:] += 1.0

        @spawn(T[1], [T[0]], placement=gpu(1), inout=[A[4:8]])
        def second():
            A[4:8].array[:] += 10.0

        @spawn(T[2], [T[1]], placement=gpu(2), input=[A[3:6]])
        def middle():
            return A[3:6].array.copy()

    assert np.array_equal(_host(T[2].result), [1, 11, 11])
    assert np.array_equal(a, [1, 1, 1, 1, 11, 11, 10, 10])


def test_in_on_two_gpus_makes_two_shared_copies_and_inout_invalidates(parla):
    a = np.ones(32)
    with parla():
        A = parray.asarray(a)
        T = TaskSpace("T")
        for i in range(2):

            @spawn(T[i], placement=gpu(i), input=[A])
            def read():
                return float(A.array.sum())

        T[0].wait()
        T[1].wait()
        assert _data.states(A) == {0: Coherence.SHARED, 1: Coherence.SHARED, 2: Coherence.SHARED}
        assert _copies() == {"cpu(0)->gpu(0)": (1, 256), "cpu(0)->gpu(1)": (1, 256)}

        @spawn(T[2], T[0:2], placement=gpu(1), inout=[A])
        def write():
            A.array[:] = 3.0

        T[2].wait()
        assert _data.states(A) == {2: Coherence.MODIFIED}  # no new copy: gpu(1) had it

        @spawn(T[3], [T[2]], placement=gpu(0), input=[A])
        def stale():
            return float(A.array.sum())  # its old copy was invalidated: it is copied again (from gpu(1))

    assert T[0].result == T[1].result == 32.0 and T[3].result == 96.0
    assert _copies()["gpu(1)->gpu(0)"] == (1, 256)


def test_locality_mapping_prefers_the_place_holding_the_bytes(parla):
    a = np.ones(1 << 14)
    with parla():
        A = parray.asarray(a)
        T = TaskSpace("T")

        @spawn(T[0], placement=gpu(2), inout=[A])
        def write():
            A.array[:] = 2.0

        @spawn(T[1], [T[0]], placement=[gpu(0), gpu(1), gpu(2), gpu(3)], input=[A])
        def reader():
            return get_current_devices()[0]().index, float(A.array[0])

    assert T[1].result == (2, 2.0)
    assert set(_copies()) == {"cpu(0)->gpu(2)", "gpu(2)->cpu(0)"}  # the end of the block wrote it back


def test_element_access_in_a_task_uses_that_places_copy(parla):
    a = np.arange(12.0).reshape(3, 4)
    with parla():
        A = parray.asarray(a)
        T = TaskSpace("T")

        @spawn(T[0], placement=gpu(0), inout=[A[1]])
        def row():
            A[1, 2] = -1.0  # inside the row this task owns: no copy, no new part
            return A[1, 2], A[1].array.copy()

        @spawn(T[1], [T[0]], placement=cpu, input=[A])
        def host():
            return A[1, 2]

    assert T[0].result[0] == -1.0 and T[1].result == -1.0
    assert a[1, 2] == -1.0 and a[1, 1] == 5.0
    assert _copies() == {"cpu(0)->gpu(0)": (1, 32), "gpu(0)->cpu(0)": (1, 32)}


@pk.workunit
def _twice(i, x):
    x[i] = 2.0 * x[i] + 1.0


def test_a_kernel_in_a_task_computes_on_the_places_copy(parla):
    a = np.arange(64.0)
    with parla():
        A = parray.asarray(a)
        T = TaskSpace("T")

        @spawn(T[0], placement=gpu(1), inout=[A])
        def by_parray():
            pk.parallel_for(64, _twice, x=A)  # the PArray itself: its gpu(1) copy
            return bool(np.shares_memory(A.view, A.array)), a[1]

        @spawn(T[1], [T[0]], placement=gpu(2), inout=[A])
        def by_view():
            pk.parallel_for(64, _twice, x=A.view)  # a View over its gpu(2) copy

        @spawn(T[2], [T[1]], placement=cpu, input=[A])
        def host():
            return A.array.copy()

    assert T[0].result == (True, 1.0)  # the host array was not touched by the gpu(1) kernel
    assert np.array_equal(T[2].result, 4.0 * np.arange(64.0) + 3.0)


def test_copies_are_slices_of_the_trace(parla, tmp_path):
    path = tmp_path / "trace.json"
    with parla(trace=str(path)):
        A = parray.asarray(np.zeros(100))
        T = TaskSpace("T")

        @spawn(T[0], placement=gpu(1), inout=[A])
        def t():
            A.array[:] = 1.0

        @spawn(T[1], [T[0]], placement=cpu, input=[A])
        def u():
            pass

    ev = json.loads(path.read_text())["traceEvents"]
    copies = [e for e in ev if e.get("cat") == "copy" and e["name"].startswith("copy ")]
    assert {e["name"] for e in copies} == {"copy cpu(0)->gpu(1)", "copy gpu(1)->cpu(0)"}
    assert all(e["args"]["bytes"] == 800 and e["ph"] == "X" for e in copies)
    assert {e["args"]["task"] for e in copies} == {"T_0", "T_1"}


def test_a_failing_copy_fails_its_task_and_cancels_dependents(parla):
    def broken(src, dst, nbytes):
        if dst == "gpu(2)":
            raise OSError("link down")

    _data._fault[0] = broken
    with pytest.raises(CopyError, match=r"from cpu\(0\) to gpu\(2\) failed: link down") as info:
        with parla():
            A = parray.asarray(np.zeros(4))
            T = TaskSpace("T")

            @spawn(T[0], placement=gpu(2), input=[A])
            def t():
                raise AssertionError("the body must not run without its data")

            @spawn(T[1], [T[0]], placement=cpu)
            def u():
                pass

    assert isinstance(info.value, KernelError) and isinstance(info.value.__cause__, OSError)
    assert any("T_0" in n for n in getattr(info.value, "__notes__", [])) or "T_0" in str(info.value)
    assert type(T[1].state).__name__ == "TaskCancelled"
