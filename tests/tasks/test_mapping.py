# ruff: noqa: B023 - spawn gives each body the loop variables of its own iteration (Parla's rule)
"""The mapping policy: among the options that fit, data already valid on the devices wins, then the least
loaded devices, then the order of the placement list."""

from __future__ import annotations

import numpy as np

from kernelkit.tasks import TaskSpace, cpu, get_current_context, get_current_devices, gpu, parray, spawn, wait


def _gid():
    return get_current_context()().get_global_id()


def test_locality_picks_the_device_holding_the_data(parla):
    got = {}
    with parla():
        a = parray.asarray(np.arange(20.0).reshape(4, 5))
        b = parray.asarray(np.arange(15.0).reshape(3, 5))
        ts = TaskSpace("Mapping")

        @spawn(ts[0], placement=[gpu(1)], input=[(a, 0)])
        def t0():
            got[0] = _gid()

        @spawn(ts[1], placement=[gpu(0), gpu(1), gpu(2), gpu(3)], dependencies=[ts[0]], input=[(a, 0)])
        def t1():
            got[1] = _gid()  # a is valid on gpu(1) only (and the host)

        @spawn(ts[3], placement=[gpu(3)], input=[(b, 0)])
        def t3():
            got[3] = _gid()

        wait(ts)

        @spawn(
            ts[4],
            placement=[(gpu(1), gpu(2)), (gpu(0), gpu(1)), (cpu(0), gpu(1)), (gpu(1), gpu(3))],
            input=[(a, 0), (b, 1)],
        )
        def t4():
            got[4] = [d().get_global_id() for d in get_current_devices()]

        @spawn(ts[5], placement=[gpu], input=[(b, 0)], dependencies=[ts[4]])
        def t5():
            got[5] = _gid()

    assert got == {0: 2, 1: 2, 3: 4, 4: [2, 4], 5: 4}


def test_subarrays_are_tracked_apart(parla):
    got = {}
    with parla():
        c = parray.asarray(np.arange(12.0))
        T = TaskSpace("S")

        @spawn(T[0], placement=gpu(2), input=[c[0:4]])
        def first():
            pass

        wait(T)

        @spawn(T[1], placement=gpu, input=[c[0:4]])
        def same_part():
            got["same"] = _gid()

        @spawn(T[2], placement=gpu, input=[c[8:12]], dependencies=[T[1]])
        def other_part():
            got["other"] = _gid()  # no GPU holds it: the least loaded, the first listed

    assert got == {"same": 3, "other": 1}


def test_load_spreads_independent_tasks(parla):
    with parla():
        G = TaskSpace("gate")
        T = TaskSpace("T")
        for i in range(8):

            @spawn(T[i], placement=gpu, dependencies=[G[0]])
            def w():
                pass

        @spawn(G[0], placement=cpu)
        def open_gate():
            pass  # all 8 become ready at once and are mapped one after the other

    counts = {}
    for t in T:
        counts[repr(t.devices[0])] = counts.get(repr(t.devices[0]), 0) + 1
    assert counts == {"gpu(0)": 2, "gpu(1)": 2, "gpu(2)": 2, "gpu(3)": 2}


def test_writes_make_the_writer_the_only_holder(parla):
    from kernelkit.tasks import Coherence, data

    with parla():
        a = parray.asarray(np.zeros(8))
        T = TaskSpace("W")

        @spawn(T[0], placement=gpu(0), input=[a])
        def read0():
            pass

        @spawn(T[1], placement=gpu(1), input=[a], dependencies=[T[0]])
        def read1():
            pass

        wait(T)
        assert data.states(a) == {0: Coherence.SHARED, 1: Coherence.SHARED, 2: Coherence.SHARED}

        @spawn(T[2], placement=gpu(2), inout=[a], dependencies=[T[1]])
        def write():
            a[0] = 5.0

        wait(T)
        assert data.states(a) == {3: Coherence.MODIFIED}

        @spawn(T[3], placement=gpu, input=[a])
        def reader():
            return _gid(), float(a[0])

    assert reader.result == (3, 5.0)
