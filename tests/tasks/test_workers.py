"""Worker threads are kept between Parla contexts (tasks/workers.py): the second block runs on the threads of
the first, per-thread state survives, a block still waits for its own jobs only, and idle threads exit."""

from __future__ import annotations

import threading
import time

import pytest

from kernelkit.tasks import Parla, TaskSpace, spawn
from kernelkit.tasks import workers as W


def _idents(workers: int) -> set[int]:
    """The threads of a block's workers: `workers` tasks that meet at a barrier, so each runs on its own."""
    seen: set[int] = set()
    lock = threading.Lock()
    meet = threading.Barrier(workers, timeout=10)
    T = TaskSpace("T")
    with Parla(n_workers=workers):
        for i in range(workers):

            @spawn(T[i])
            def body():
                meet.wait()
                with lock:
                    seen.add(threading.get_ident())

    assert len(seen) == workers
    return seen


def test_a_second_context_runs_on_the_threads_of_the_first():
    first = _idents(3)
    second = _idents(3)
    assert second == first
    assert W.pool.parked() >= 3


def test_per_thread_state_survives_between_contexts():
    local = threading.local()
    built: list[int] = []

    def handle() -> int:  # as CuPy's per-thread cuBLAS handle: made once per thread
        if not hasattr(local, "h"):
            local.h = threading.get_ident()
            built.append(local.h)
        return local.h

    for _ in range(3):
        T = TaskSpace("T")
        with Parla(n_workers=2):
            for i in range(20):

                @spawn(T[i])
                def body():
                    handle()
                    time.sleep(0.001)

    assert len(built) <= 2 + 1, built  # the two workers (and at most the owner thread) built it, once each


def test_thread_names_and_the_scheduler_of_a_parked_thread():
    from kernelkit.tasks.environments import _locals

    names: list[str] = []
    T = TaskSpace("T")
    with Parla(n_workers=2):

        @spawn(T[0])
        def body():
            names.append(threading.current_thread().name)

    assert names and names[0].startswith("kernelkit-task-worker-")
    parked = [t for t in threading.enumerate() if t.name == "kernelkit-task-worker (parked)"]
    assert parked
    assert _locals.scheduler is None  # the owner thread never had one


def test_failures_still_propagate_on_reused_threads():
    _idents(2)
    T = TaskSpace("T")
    with pytest.raises(ValueError, match="boom"):
        with Parla(n_workers=2):

            @spawn(T[0])
            def bad():
                raise ValueError("boom")

            @spawn(T[1], [T[0]])
            def after():
                pass

    assert _idents(2)  # the pool still works after a failed block


def test_idle_threads_exit(monkeypatch):
    monkeypatch.setattr(W, "IDLE_S", 0.05)
    pool = W._Pool()
    done = threading.Event()
    w = pool.start("probe", done.set)
    assert w.join(5) and done.is_set()
    deadline = time.time() + 5
    while pool.parked() and time.time() < deadline:
        time.sleep(0.01)
    assert pool.parked() == 0
    w.thread.join(5)
    assert not w.thread.is_alive()
    w2 = pool.start("again", lambda: None)  # a new thread when none is parked
    assert w2.join(5)
