# ruff: noqa: B023 - spawn gives each body the loop variables of its own iteration (Parla's rule)
"""TaskSpace semantics as Parla 0.3 has them: names, handles created by indexing, slices, tuples, bounds, the
empty T[-1], len, states, views, and dependencies on tasks spawned later."""

from __future__ import annotations

import pytest

from kernelkit.tasks import (
    AtomicTaskSpace,
    Task,
    TaskCompleted,
    TaskCreated,
    TaskList,
    TaskSpace,
    TaskTypeError,
    spawn,
)


def test_names_of_tasks():
    T = TaskSpace("T")
    assert T[3].name == "T_3"
    assert T[1, 2].name == "T_1_2"
    assert repr(T[3]) == "Task(T_3)"
    assert T["x"].name == "T_x"


def test_indexing_creates_one_handle_per_index():
    T = TaskSpace("T")
    assert len(T) == 0
    a, b = T[0], T[0]
    assert a is b and isinstance(a, Task)
    assert isinstance(T[0].state, TaskCreated)
    assert len(T) == 1
    T[1, 1]
    assert len(T) == 2
    assert repr(T) == "TaskSpace(T, ntasks=2)"


def test_negative_index_is_empty():
    T = TaskSpace("T")
    empty = T[-1]
    assert isinstance(empty, TaskList) and len(empty) == 0
    assert len(T) == 0


def test_slices_and_tuples():
    T = TaskSpace("T")
    s = T[0:3]
    assert [t.name for t in s] == ["T_0", "T_1", "T_2"]
    assert len(T[0:0]) == 0
    grid = T[1, 0:2]
    assert [t.name for t in grid] == ["T_1_0", "T_1_1"]
    assert [t.name for t in T[0:4:2]] == ["T_0", "T_2"]
    assert [t.name for t in T[[5, 7]]] == ["T_5", "T_7"]
    assert s[1] is T[1]


def test_shape_and_start_bound_the_indices():
    T = TaskSpace("B", shape=(3,), start=(1,))
    assert len(T[0]) == 0  # below start
    assert T[1].name == "B_1"
    assert len(T[4]) == 0  # past the end
    assert [t.name for t in T[0:10]] == ["B_1", "B_2", "B_3"]
    assert [t.name for t in T[:]] == ["B_1", "B_2", "B_3"]


def test_open_slice_without_shape_is_an_error():
    T = TaskSpace("T")
    with pytest.raises(TaskTypeError, match="open slice"):
        T[2:]


def test_view_does_not_create():
    T = TaskSpace("T")
    T[0]
    assert len(T.view[0:5]) == 1
    assert len(T) == 1


def test_atomic_task_space_is_a_task_space():
    A = AtomicTaskSpace("A")
    assert isinstance(A, TaskSpace)
    assert A[2].name == "A_2"
    assert repr(A) == "AtomicTaskSpace(A, ntasks=1)"


def test_dependency_on_a_task_spawned_later(parla):
    order = []
    with parla():
        T = TaskSpace("T")

        @spawn(T[1], dependencies=[T[0]])
        def second():
            order.append(1)

        assert not isinstance(T[1].state, TaskCreated)  # spawned, waiting for T[0]

        @spawn(T[0])
        def first():
            order.append(0)

    assert order == [0, 1]
    assert isinstance(T[1].state, TaskCompleted)


def test_chain_with_empty_first_dependency(parla):
    out = []
    with parla():
        T = TaskSpace("T")
        for i in range(20):

            @spawn(T[i], dependencies=[T[i - 1]])
            def step():
                out.append(i)

    assert out == list(range(20))


def test_dependencies_on_slices_of_spaces(parla):
    seen = {}
    with parla():
        T = TaskSpace("T")
        for i in range(6):

            @spawn(T[i])
            def work():
                seen[i] = True

        @spawn(T[10], dependencies=[T[0:6]])
        def after():
            seen["all"] = len([k for k in seen if k != "all"])

    assert seen["all"] == 6


def test_task_space_as_dependency(parla):
    got = []
    with parla():
        T = TaskSpace("T")
        for i in range(3):

            @spawn(T[i])
            def w():
                got.append(i)

        @spawn(dependencies=T)
        def last():
            got.append("last")

    assert got[-1] == "last" and sorted(got[:-1]) == [0, 1, 2]
