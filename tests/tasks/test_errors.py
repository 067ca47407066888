# ruff: noqa: B023 - spawn gives each body the loop variables of its own iteration (Parla's rule)
"""Errors: a task's exception is re-raised when the Parla block ends (the others in its notes), its dependents
are cancelled with an error naming it, an awaited failure raises in the awaiting body, and a wait on tasks
that are never spawned ends with a TaskDeadlockError naming them instead of hanging."""

from __future__ import annotations

import pytest

from kernelkit.tasks import (
    TaskCancelled,
    TaskCancelledError,
    TaskDeadlockError,
    TaskException,
    TaskSpace,
    cpu,
    spawn,
    wait,
)


def test_task_exception_is_reraised_with_its_task(parla):
    with pytest.raises(ValueError, match="bad input") as info:
        with parla():
            T = TaskSpace("T")

            @spawn(T[0])
            def fails():
                raise ValueError("bad input")

    notes = getattr(info.value, "__notes__", [])
    assert any("T_0" in n for n in notes)
    assert isinstance(T[0].state, TaskException)


def test_dependents_are_cancelled_and_name_the_failed_task(parla):
    ran = []
    with pytest.raises(ZeroDivisionError):
        with parla():
            T = TaskSpace("T")

            @spawn(T[0])
            def fails():
                return 1 / 0

            for i in range(1, 4):

                @spawn(T[i], dependencies=[T[i - 1]])
                def never():
                    ran.append(i)

            @spawn(T[9])
            def independent():
                ran.append("independent")

    assert ran == ["independent"]
    for i in range(1, 4):
        st = T[i].state
        assert isinstance(st, TaskCancelled)
        err = T[i].exception
        assert isinstance(err, TaskCancelledError) and isinstance(err, RuntimeError)
        assert err.failed == "T_0"
        assert f"T_{i}" in str(err) and "T_0" in str(err)
        assert isinstance(err.__cause__, ZeroDivisionError)


def test_spawning_after_a_dependency_failed_cancels_at_once(parla):
    with pytest.raises(KeyError):
        with parla():
            T = TaskSpace("T")

            @spawn(T[0])
            def fails():
                raise KeyError("k")

            T[0].scheduler.wait_for([T[0]])

            @spawn(T[1], dependencies=[T[0]])
            def late():
                pass

            assert isinstance(T[1].state, TaskCancelled)


def test_several_failures_are_listed(parla):
    with pytest.raises(RuntimeError) as info:
        with parla():
            T = TaskSpace("T")
            for i in range(3):

                @spawn(T[i], placement=cpu)
                def fails():
                    raise RuntimeError(f"failure {i}")

    notes = " ".join(getattr(info.value, "__notes__", []))
    assert "2 other task(s) failed" in notes


def test_an_awaited_failure_raises_in_the_awaiting_body(parla):
    caught = []
    with pytest.raises(OSError):
        with parla():

            @spawn(placement=cpu)
            async def main():
                T = TaskSpace("T")

                @spawn(T[0])
                def fails():
                    raise OSError("disk")

                try:
                    await T[0]
                except OSError as e:
                    caught.append(str(e))
                return "handled"

    assert caught == ["disk"]
    assert main.result == "handled"


def test_never_spawned_dependency_is_a_deadlock_report(parla):
    with pytest.raises(TaskDeadlockError) as info:
        with parla():
            T = TaskSpace("T")
            for i in range(10):
                if i == 5:
                    continue

                @spawn(T[i])
                def w():
                    pass

            @spawn(T[11], dependencies=[T[0:10]])
            def last():
                pass

    err = info.value
    assert "T_11 waits on T_5 (never spawned)" in str(err)
    assert err.waiting == {"T_11": ["T_5"]}
    assert isinstance(err, RuntimeError)


def test_transitive_waiters_are_counted(parla):
    with pytest.raises(TaskDeadlockError, match=r"T_1 waits on T_0 \(never spawned\)") as info:
        with parla():
            T = TaskSpace("T")
            for i in range(1, 4):

                @spawn(T[i], dependencies=[T[i - 1]])
                def w():
                    pass

    assert "2 more task(s) wait on those" in str(info.value)


def test_await_on_a_never_spawned_task_is_a_deadlock(parla):
    with pytest.raises(TaskDeadlockError, match="main_task_0 waits on T_7"):
        with parla():
            M = TaskSpace("main_task")

            @spawn(M[0], placement=cpu)
            async def main():
                await TaskSpace("T")[7]

    assert M[0].name == "main_task_0"  # the handle is still usable


def test_blocking_wait_on_a_never_spawned_task_is_a_deadlock(parla):
    with parla():
        T = TaskSpace("T")
        with pytest.raises(TaskDeadlockError, match="T_3"):
            wait(T[3])


def test_an_exception_in_the_block_cancels_waiting_tasks(parla):
    ran = []
    with pytest.raises(LookupError):
        with parla():
            T = TaskSpace("T")

            @spawn(T[1], dependencies=[T[0]])
            def never():
                ran.append(1)

            raise LookupError("in the block")

    assert ran == []
    assert isinstance(T[1].state, TaskCancelled)
