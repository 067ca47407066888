# ruff: noqa: B023 - spawn gives each body the loop variables of its own iteration (Parla's rule)
"""spawn: bodies, return values, async bodies with await, nested spawns, closures, waits and argument errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from kernelkit.tasks import (
    DuplicateTaskError,
    NoRuntimeError,
    PlacementError,
    Task,
    TaskCompleted,
    TaskSpace,
    TaskTypeError,
    cpu,
    get_current_task,
    spawn,
    wait,
)


def test_spawn_returns_the_task_and_keeps_the_result(parla):
    with parla():
        T = TaskSpace("T")

        @spawn(T[0])
        def body():
            return 42

    assert body is T[0]
    assert T[0].result == 42
    assert isinstance(T[0].state, TaskCompleted)
    assert repr(T[0].state) == "TaskCompleted(42)"


def test_each_task_sees_its_own_loop_variable(parla):
    out = {}
    with parla():
        T = TaskSpace("T")
        for i in range(8):

            @spawn(T[i])
            def body():
                out[i] = i * i

    assert out == {i: i * i for i in range(8)}


def test_await_gives_return_values(parla):
    got = []
    with parla():

        @spawn(placement=cpu, vcus=0)
        async def main():
            T = TaskSpace("T")
            for i in range(2):

                @spawn(T[i])
                def t():
                    return np.ones(4) + i

            a = await T[0]
            b = await T[1]
            got.extend([a, b])

    assert np.array_equal(got[0], np.ones(4)) and np.array_equal(got[1], 2 * np.ones(4))


def test_await_a_space_is_a_barrier(parla):
    log = []
    with parla():

        @spawn(placement=cpu)
        async def main():
            T = TaskSpace("T")
            for i in range(5):

                @spawn(T[i])
                def first():
                    log.append(("a", i))

            r = await T
            assert r is None
            log.append("barrier")
            for i in range(5):

                @spawn(T[i + 5])
                def second():
                    log.append(("b", i))

    k = log.index("barrier")
    assert sorted(log[:k]) == [("a", i) for i in range(5)]
    assert sorted(log[k + 1 :]) == [("b", i) for i in range(5)]


def test_await_an_empty_space_returns_at_once(parla):
    with parla():
        T = TaskSpace("chain")
        for i in range(50):

            @spawn(T[i], dependencies=[T[i - 1]])
            async def outer():
                await TaskSpace(f"inner_{i}")

    assert all(t.done for t in T)


def test_await_in_a_chain_of_async_tasks(parla):
    with parla():

        @spawn(placement=cpu)
        async def main():
            total = 0
            for i in range(10):
                T = TaskSpace(f"T{i}")

                @spawn(T[0])
                def t():
                    return i

                total += await T[0]
            return total

    assert main.result == sum(range(10))


def test_nested_spawns(parla):
    leaves = []
    lock = threading.Lock()
    with parla():
        T = TaskSpace("tree")

        def node(i, depth):
            @spawn(T[i])
            def t():
                if depth == 0:
                    with lock:
                        leaves.append(i)
                    return
                node(2 * i, depth - 1)
                node(2 * i + 1, depth - 1)

        node(1, 4)

    assert sorted(leaves) == list(range(16, 32))


def test_spawn_without_a_task_names_one(parla):
    with parla():

        @spawn()
        def a():
            return get_current_task()

        @spawn()
        def b():
            return 2

    assert isinstance(a, Task) and a.result is a and a.name != b.name


def test_blocking_waits_from_the_main_thread_and_from_tasks(parla):
    with parla(n_workers=1):
        T = TaskSpace("T")
        for i in range(4):

            @spawn(T[i])
            def w():
                return i

        wait(T)  # the main thread
        assert [t.result for t in T] == [0, 1, 2, 3]

        @spawn(placement=cpu)
        def waiter():
            U = TaskSpace("U")

            @spawn(U[0])
            def inner():
                return "inner"

            return U[0].wait()  # a blocked worker: another takes its place

    assert waiter.result == "inner"


def test_duplicate_spawn_is_an_error(parla):
    with parla():
        T = TaskSpace("T")

        @spawn(T[1])
        def a():
            pass

        with pytest.raises(DuplicateTaskError, match="T_1 was already spawned"):

            @spawn(T[1])
            def b():
                pass


def test_self_dependency_is_an_error(parla):
    with parla():
        T = TaskSpace("T")
        with pytest.raises(TaskTypeError, match="cannot depend on itself"):

            @spawn(T[0], dependencies=[T[0]])
            def a():
                pass


def test_bad_arguments(parla):
    with parla():
        T = TaskSpace("T")
        with pytest.raises(TaskTypeError, match="dependencies are tasks"):
            spawn(T[0], dependencies=[3])
        with pytest.raises(TaskTypeError, match="one task handle"):
            spawn(T[-1])
        with pytest.raises(TaskTypeError, match="one task handle"):
            spawn("T_0")
        with pytest.raises(TaskTypeError, match="decorates a function"):
            spawn(T[1])(42)
        with pytest.raises(TaskTypeError, match="takes PArrays"):
            spawn(T[2], input=[np.zeros(3)])
        with pytest.raises(PlacementError):
            spawn(T[3], placement=[])


def test_awaiting_something_else_fails_the_task(parla):
    import asyncio

    with pytest.raises(TaskTypeError, match="await tasks"):
        with parla():

            @spawn()
            async def bad():
                await asyncio.sleep(0)


def test_spawn_outside_a_runtime():
    with pytest.raises(NoRuntimeError, match="with Parla"):
        spawn()


def test_parla_contexts_do_not_nest(parla):
    from kernelkit.errors import KernelRuntimeError

    with parla():
        with pytest.raises(KernelRuntimeError, match="already running"):
            with parla():
                pass
    p = parla()
    with p:
        pass
    with pytest.raises(KernelRuntimeError, match="runs once"):
        with p:
            pass
