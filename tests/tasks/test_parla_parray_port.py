# ruff: noqa
# fmt: off
"""Parla 0.3's PArray tests (ut-parla/parla-experimental, testing/python/test_parray.py and
test_task_mapping_policy_locality.py) with only their imports
rewritten (`tools/parla_port.py`'s rule), run with 4 logical GPUs (backed by the host on CPU-only CI). It looks
at Parla's internals (`_array._buffer`, `_coherence._local_states`, `_coherence.owner`,
`get_parray_parentid_from_cpp`), which kernelkit's PArray answers from tasks/data.py."""

import pytest

from kernelkit import config as _kk_config


@pytest.fixture(autouse=True)
def _four_logical_gpus():
    with _kk_config.override(virtual_gpus="4"):
        yield


# --- the Parla test, imports rewritten ---------------------------------------------------------------------
import pytest

from kernelkit.tasks import Parla, spawn, TaskSpace, parray
from kernelkit.tasks import Coherence
from kernelkit.tasks import cpu, gpu
import numpy as np

def test_parray_creation():
    with Parla():
        A = parray.asarray([[1, 2], [3, 4]])

        a = A[0]
        assert A[0,1] == 2
        assert A[1,0] == 3
        assert A[1,1] == 4
        assert np.array_equal(A, np.asarray([[1, 2], [3, 4]]))

def test_parray_task():
    with Parla():
        @spawn(placement=cpu)
        def main():
            np.random.seed(10)
            # Construct input data
            a = np.array([[1, 2, 4, 5, 6], [1, 2, 4, 5, 6], [1, 2, 4, 5, 6], [1, 2, 4, 5, 6]])
            b = np.array([[1, 2, 4, 5, 6], [1, 2, 4, 5, 6], [1, 2, 4, 5, 6], [1, 2, 4, 5, 6]])
            a = parray.asarray(a, name="A")
            b = parray.asarray(b, name="B")

            # C++ test: parray parent id check
            c = b[0:10]
            a_parentid = a.get_parray_parentid_from_cpp()
            b_parentid = b.get_parray_parentid_from_cpp()
            assert c.get_parray_parentid_from_cpp() == b_parentid

            ts = TaskSpace("CopyBack")

            assert a._current_device_index == -1
            assert a._array._buffer[1] is None
            assert a._array._buffer[-1] is not None
            assert a._coherence._local_states[1] == Coherence.INVALID
            assert a._coherence._local_states[-1] == Coherence.MODIFIED

            @spawn(ts[1], placement=gpu(1), output=[(b,0)])
            def check_array_write():
                assert b[0,0] == 1
                assert b._current_device_index == 1
                b.print_overview()
                
                b[1,1] = 0
                assert b[1,1] == 0
                assert b._array._buffer[1] is not None
                assert b._array._buffer[-1] is None
                assert b._coherence._local_states[-1] == Coherence.INVALID
                assert b._coherence._local_states[1] == Coherence.MODIFIED

            @spawn(ts[2], dependencies=[ts[1]], placement=gpu(0), output=[(a[0:2],0), (a[2],0)])
            def check_array_slicing():
                assert a[1,0] == 1
                assert a._current_device_index == 0
                a[0:2].print_overview()
                assert a_parentid == a[0:2].get_parray_parentid_from_cpp()
                
                a[1,1] = 0
                assert a[1,1] == 0
                assert a._array._buffer[-1] is not None
                assert isinstance(a._array._buffer[0], list)
                assert a._coherence._local_states[-1] == Coherence.INVALID
                assert isinstance(a._coherence._local_states[0], dict)

            @spawn(ts[3], dependencies=[ts[2]], placement=cpu, output=[(a,0)])
            def check_array_write_back():
                assert a[1,1] == 0
                assert a._current_device_index == -1
                a.print_overview()
                
                assert a._array._buffer[-1] is not None
                assert a._array._buffer[0] is None
                assert a._coherence._local_states[-1] == Coherence.MODIFIED
                assert a._coherence._local_states[0] == Coherence.INVALID

            @spawn(ts[4], dependencies=[ts[3]], placement=gpu(1), inout=[(a,0)])
            def check_array_update():
                a.update(np.array([1,2,3,4]))  # here np array are converted to cupy array

                assert len(a) == 4
                assert a[-1] == 4
                assert a._coherence.owner == 1


            @spawn(ts[5], dependencies=[ts[4]], placement=gpu(0), inout=[(a,0)])
            def check_array_indexing():
                a[np.array([0,2])] = 0
                assert len(a) == 4
                assert a[0] == 0
                assert a._coherence.owner == 0


# --- Parla's locality mapping test (testing/python/test_task_mapping_policy_locality.py), imports rewritten ---
from kernelkit.tasks import Parla, spawn, TaskSpace, parray
from kernelkit.tasks import get_scheduler, get_device_manager, get_current_context, get_current_devices
from kernelkit.tasks import cpu, gpu

import numpy as np

def test_task_mapping_policy():
    with Parla():
        @spawn(placement=[cpu])
        async def main():
            a = np.array([[1, 2, 4, 5, 6], [1, 2, 4, 5, 6], [1, 2, 4, 5, 6], [1, 2, 4, 5, 6]])
            b = np.array([[1, 2, 4, 5, 6], [1, 2, 4, 5, 6], [1, 2, 4, 5, 6]])
            a = parray.asarray(a)
            b = parray.asarray(b)
            ts = TaskSpace("Mapping")
            scheduler = get_scheduler()

            # Single device task mapping test.

            @spawn(ts[0], placement=[gpu(1)], input=[(a, 0)])
            def t0():
                ctx = get_current_context()
                assert ctx().get_global_id() == 2

            @spawn(ts[1], placement=[gpu(0), gpu(1), gpu(2), gpu(3)], dependencies=[ts[0]], input=[(a, 0)])
            def t1():
                ctx = get_current_context()
                assert ctx().get_global_id() == 2

            @spawn(ts[2], placement=[gpu(2)], dependencies=[ts[1]], input=[(a, 0)])
            def t2():
                ctx = get_current_context()
                assert ctx().get_global_id() == 3

            await ts

            # Multi-device task mapping test.

            @spawn(ts[3], placement=[gpu(3)], input=[(b, 0)])
            def t3():
                ctx = get_current_context()
                assert ctx().get_global_id() == 4

            @spawn(ts[4], placement=[(gpu(1), gpu(2)), (gpu(1), gpu(4)), (gpu(0), gpu(1)), (cpu(0), gpu(1)), (gpu(1), gpu(3))], dependencies=[ts[3]], input=[(a, 0), (b, 1)])
            def t4():
                devs = get_current_devices()
                assert devs[0]().get_global_id() == 2
                assert devs[1]().get_global_id() == 4

            await ts

            # Single architecture task mapping task.

            @spawn(ts[5], placement=[gpu], input=[(b, 0)])
            def t5():
                ctx = get_current_context()
                assert ctx().get_global_id() == 4

            # 1, 2, -1
            @spawn(ts[6], placement=[gpu], input=[(a, 0)])
            def t6():
                ctx = get_current_context()
                assert ctx().get_global_id() == 2 or ctx().get_global_id() == 3
                assert not ctx().get_global_id() == 0
                assert not ctx().get_global_id() == 1
                assert not ctx().get_global_id() == 4

            # [Slice test]

            c = np.array([1, 2, 4, 5, 6, 1, 2, 4, 5, 6, 1, 2, 4, 5, 6])
            c = parray.asarray(c)

            @spawn(ts[7], placement=[gpu(0)], input=[(c[0:2], 0)])
            def t7():
                ctx = get_current_context()
                assert ctx().get_global_id() == 1

            @spawn(ts[8], placement=[gpu(1)], input=[(c[2:4], 0)])
            def t8():
                ctx = get_current_context()
                assert ctx().get_global_id() == 2

            @spawn(ts[9], placement=[gpu(2)], input=[(c[4:6], 0)])
            def t9():
                ctx = get_current_context()
                assert ctx().get_global_id() == 3
            await ts

            # When a policy calculate locality score, it can access root PArray information.
            # It does not calculate subarray's information.

            # Input should be slices before they are write back  

            # Multi-device placements consisting of the same devices are never chosen.
            @spawn(ts[10], placement=[(gpu(0), gpu(3)), (gpu(1), gpu(3))], input=[(c,0), (c,1)])
            def t10():
                devs = get_current_devices()
                assert devs[0]().get_global_id() == 1 or devs[0]().get_global_id() == 2 or devs[0]().get_global_id() == 4
                assert not devs[1]().get_global_id() == 1 and (devs[1]().get_global_id() == 4)
            await ts
