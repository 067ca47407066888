"""The OS threads that run task workers, kept between Parla contexts.

A `with Parla()` block needs n worker threads; the threads themselves outlive it, parked, and the next block
takes them again (as Dask's threaded scheduler keeps its pool). What a thread builds on first use stays built:
CuPy's cuBLAS and cuSOLVER handles are per thread, and creating them in 16 fresh threads cost a GPU
Cholesky of 120 tasks about 200 ms of its 320 (they serialize in the driver), and destroying them at thread
exit another 35 ms. A parked thread that no block takes within `IDLE_S` seconds exits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

IDLE_S = 60.0  # a parked worker thread exits after this long without work


class Worker:
    """One job (a scheduler's worker loop) on a pooled thread: `join()` waits for the job, not the thread."""

    __slots__ = ("name", "thread", "_done", "_job")

    def __init__(self, name: str, job: Callable[[], None]) -> None:
        self.name = name
        self.thread: threading.Thread | None = None
        self._done = threading.Event()
        self._job = job

    def join(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)


class _Thread:
    """A pooled thread: runs the Worker it is handed, then parks until the next or until IDLE_S passes."""

    def __init__(self, pool: _Pool) -> None:
        self.pool = pool
        self.wake = threading.Event()
        self.worker: Worker | None = None
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        me = threading.current_thread()
        while True:
            w = self.worker
            if w is None:
                return
            w.thread = me
            me.name = w.name
            try:
                w._job()
            finally:
                w._done.set()
                me.name = "kernelkit-task-worker (parked)"
            if not self.pool._park(self):
                return


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parked: list[_Thread] = []

    def start(self, name: str, job: Callable[[], None]) -> Worker:
        """Run `job` on a parked thread, or on a new one; returns at once."""
        w = Worker(name, job)
        with self._lock:
            t = self._parked.pop() if self._parked else None
        if t is None:
            t = _Thread(self)
            t.worker = w
            t.thread.start()
        else:
            t.worker = w
            t.wake.set()
        return w

    def _park(self, t: _Thread) -> bool:
        """Called by `t` after its job: wait for the next (True) or give up after IDLE_S (False: exit)."""
        t.worker = None
        t.wake.clear()
        with self._lock:
            self._parked.append(t)
        if t.wake.wait(IDLE_S):
            return True
        with self._lock:
            if t in self._parked:  # not taken meanwhile: leave
                self._parked.remove(t)
                return False
        t.wake.wait()  # taken just as the wait timed out: the job is on its way
        return True

    def parked(self) -> int:
        with self._lock:
            return len(self._parked)


pool = _Pool()
