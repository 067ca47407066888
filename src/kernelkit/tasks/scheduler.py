"""The scheduler: dependencies, mapping, worker threads, completion, cancellation and deadlock detection.

One lock guards every task's state, the devices' accounting and the queues. There is no scheduler thread:
whoever makes a task ready (the spawner, or the worker finishing its last dependency) maps it and queues it;
workers sleep on a condition variable while the run queue is empty. A task that fits no device now waits in
`resource_wait` and is retried whenever a task gives resources back.

Invariant for deadlock detection: `busy` counts the tasks queued or running on a worker (a worker blocked in
`wait()` does not count). While `busy` is 0 no task can end, so a thread waiting for unfinished tasks then
waits forever: it gets a TaskDeadlockError naming the tasks that were never spawned instead.
"""

from __future__ import annotations

import threading
import time
import types
from collections import deque
from typing import Any

from kernelkit.api.spaces import space_scope as _space_scope
from kernelkit.tasks import data as _data
from kernelkit.tasks import mapping
from kernelkit.tasks import streams as _gpu
from kernelkit.tasks import workers as _workers
from kernelkit.tasks.environments import _locals, make_environment
from kernelkit.tasks.errors import DuplicateTaskError, TaskCancelledError, TaskDeadlockError, TaskTypeError
from kernelkit.tasks.tasks import (
    CANCELLED,
    COMPLETED,
    CREATED,
    EXCEPTION,
    MAPPED,
    READY,
    RUNNING,
    SPAWNED,
    AwaitTasks,
    Task,
)
from kernelkit.tasks.trace import _stats

_perf = time.perf_counter
_CoroutineType = types.CoroutineType


class _Suspend:
    """A body that yielded at an `await`: what it waits for."""

    __slots__ = ("awaited",)

    def __init__(self, awaited: AwaitTasks):
        self.awaited = awaited


class Scheduler:
    def __init__(self, manager: Any, n_workers: int, trace: Any, host_scope: Any):
        self.device_manager = manager
        self.n_workers = n_workers
        self.trace = trace
        self.host_scope = host_scope  # the space CPU tasks run kernels on when the default is a GPU, else None
        self.lock = threading.Lock()
        self.work = threading.Condition(self.lock)  # workers wait here for the run queue
        self.changed = threading.Condition(self.lock)  # threads in wait_for / shutdown wait here
        self.run_queue: deque[Task] = deque()
        self.resource_wait: deque[Task] = deque()
        self.live: set[Task] = set()  # spawned and not ended
        self.busy = 0
        self.idle = 0
        self.waiters = 0
        self.blocked: list[list[Task]] = []  # what each worker blocked in wait_for waits on
        self.failures: list[Task] = []
        self.deadlock: TaskDeadlockError | None = None
        self.deadlock_seen = False
        self._woken = False  # a watched task ended since the waiters were last woken
        self.owner = threading.get_ident()  # the thread of `with Parla()`: it may spawn more until it waits
        self.owner_waiting = False
        self.stopping = False
        self.threads: list[_workers.Worker] = []  # worker loops, on threads kept between contexts
        self.streams = _gpu.StreamPool()
        self.pending_events: list[Any] = []  # GPU work not yet waited for on the host (synchronized at exit)
        self.default_space: Any = None  # the TaskSpace of tasks spawned without one
        for _ in range(n_workers):
            self._start_worker()

    # -- threads --------------------------------------------------------------------------------------------

    def _start_worker(self) -> None:
        wid = len(self.threads)
        w = _workers.pool.start(f"kernelkit-task-worker-{wid}", lambda: self._worker(wid))
        self.threads.append(w)
        _stats.max_workers = max(_stats.max_workers, len(self.threads))

    def _worker(self, wid: int) -> None:
        _locals.scheduler = self
        try:
            self._work(wid)
        finally:
            _locals.scheduler = None  # the thread goes back to the pool

    def _work(self, wid: int) -> None:
        lock, queue, work = self.lock, self.run_queue, self.work
        while True:
            with lock:
                while not queue:
                    if self.stopping:
                        return
                    self.idle += 1
                    work.wait()
                    self.idle -= 1
                task = queue.popleft()
                task._state = RUNNING
            self._run(task, wid)

    def _kick(self, keep: int = 0) -> None:
        """Wake idle workers for the queued tasks (lock held); `keep` tasks are left for the calling worker,
        which takes one when it loops back."""
        n = min(self.idle, len(self.run_queue) - keep)
        if n > 0:
            self.work.notify(n)

    def _wake_waiters(self) -> None:
        """Wake threads in wait_for/shutdown when it matters to them (lock held): a task one of them watches
        ended, everything ended, or nothing runs any more (a deadlock to report)."""
        if self.waiters and (self._woken or not self.live or (not self.busy and not self.run_queue)):
            self._woken = False
            self.changed.notify_all()

    # -- spawning and readiness -------------------------------------------------------------------------------

    def spawn(self, task: Task, body: Any, deps: list[Task], options: list, dataflow: list | None) -> None:
        now = _perf()
        for d in deps:
            if d is task:
                raise TaskTypeError(f"task {task.name} cannot depend on itself")
        with self.lock:
            if task._state != CREATED:
                raise DuplicateTaskError(
                    f"task {task.name} was already spawned; each task of a TaskSpace is spawned once "
                    "(use another index, or another TaskSpace)"
                )
            task.body = body
            task.options = options
            task.dataflow = dataflow
            task.scheduler = self
            task.t_spawn = now
            task._state = SPAWNED
            task.dependencies = deps
            self.live.add(task)
            _stats.spawned += 1
            pending = 0
            failed = None
            for d in deps:
                st = d._state
                if st == COMPLETED:
                    continue
                if st == EXCEPTION or st == CANCELLED:
                    failed = d
                    break
                d.dependents.append(task)
                pending += 1
            if failed is not None:
                self._cancel_from(task, failed)
                self._wake_waiters()
            else:
                task.pending = pending
                if not pending:
                    self._ready(task)
                    self._kick()

    def _ready(self, task: Task) -> None:
        """All dependencies of `task` completed: map it and queue it, or let it wait for resources (lock held)."""
        task._state = READY
        task.t_ready = _perf()
        opt = mapping.choose(task.options, task.dataflow, self.n_workers)
        if opt is None:
            self.resource_wait.append(task)
            return
        self._queue(task, opt)

    def _queue(self, task: Task, opt: tuple) -> None:
        mapping.reserve(opt)
        task.slots = opt
        task.devices = tuple(s.device for s in opt)
        task._state = MAPPED
        self.busy += 1
        self.run_queue.append(task)

    def _retry_resources(self) -> None:
        """Resources were given back: queue the waiting tasks that fit now, in arrival order (lock held)."""
        if not self.resource_wait:
            return
        waiting, self.resource_wait = self.resource_wait, deque()
        for task in waiting:
            if task.coro is not None and task.slots:  # a resumed async body stays on its devices
                if mapping.fits(task.slots):
                    self._queue(task, task.slots)
                else:
                    self.resource_wait.append(task)
                continue
            opt = mapping.choose(task.options, task.dataflow, self.n_workers)
            if opt is None:
                self.resource_wait.append(task)
            else:
                self._queue(task, opt)

    # -- running ------------------------------------------------------------------------------------------------

    def _run(self, task: Task, wid: int) -> None:
        task.t_start = t0 = _perf()
        task.worker = wid
        outcome: Any = None
        error: BaseException | None = None
        envs: list = []
        try:
            envs = _gpu.environments(task.devices, self.streams)
            env = make_environment(envs)
            task.env = env
            _locals.task = task
            _locals.contexts.append(env)
            try:
                # after the dependencies' GPU work (a stream wait on a GPU): the copies read what they wrote
                _gpu.wait_for(self._dependency_events(task), envs)
                if task.dataflow:
                    self._prefetch(task)
                first = envs[0]
                # a physical GPU: the task's stream; the host: OpenMP when the default space is a GPU, else as is
                scope = first.space if first.device.physical is not None else self.host_scope
                outcome = self._body(task, first, scope)
            finally:
                _locals.contexts.pop()
                _locals.task = None
        except BaseException as e:  # noqa: BLE001 - a task's exception is its result; the context re-raises it
            error = e
        try:
            task.events = _gpu.finish(envs, self.streams)
        except BaseException as e:  # noqa: BLE001 - a failed event record fails the task, like its body would
            error = error or e
        t1 = _perf()
        task.t_end = t1
        if self.trace.enabled:
            self.trace.task(task, repr(task.devices[0]))
        if isinstance(outcome, _Suspend) and error is None:
            self._suspend(task, outcome.awaited, t1 - t0)
        else:
            self._complete(task, outcome, error, t1 - t0)

    def _body(self, task: Task, env: Any, scope: Any) -> Any:
        if env.device.physical is not None:
            with _gpu.library_scope(env), _space_scope(scope):
                return self._step(task)
        if scope is not None:
            with _space_scope(scope):
                return self._step(task)
        return self._step(task)

    def _step(self, task: Task) -> Any:
        """Run the body, or the next part of an async body; a yield at an `await` suspends it."""
        coro = task.coro
        if coro is None:
            r = task.body()
            if type(r) is not _CoroutineType:
                return r
            coro = task.coro = r  # an `async def` body: run it as a coroutine
            value: Any = None
        else:
            value = task.resume_value
        err, task.resume_error = task.resume_error, None
        try:
            yielded = coro.throw(err) if err is not None else coro.send(value)
        except StopIteration as stop:
            return stop.value
        if not isinstance(yielded, AwaitTasks):
            coro.close()
            raise TaskTypeError(
                f"task {task.name} awaited {yielded!r}; inside a task, await tasks (T[i]), task spaces or lists "
                "of tasks (other awaitables need their own event loop)"
            )
        return _Suspend(yielded)

    def _prefetch(self, task: Task) -> None:
        t0 = _perf()
        for p, slot, mode in task.dataflow:
            _data.prefetch([p], task.devices[min(slot, len(task.devices) - 1)], mode)
        if self.trace.enabled:
            self.trace.slice(
                f"prefetch {task.name}",
                "copy",
                t0,
                _perf(),
                repr(task.devices[0]),
                task.worker,
                {"arrays": [p.name for p, _, _ in task.dataflow]},
            )

    @staticmethod
    def _dependency_events(task: Task) -> list:
        out: list = []
        for d in task.dependencies if task.coro is None else task.awaiting:
            if d.events:
                out.extend(d.events)
        return out

    # -- ending -------------------------------------------------------------------------------------------------

    def _account(self, task: Task, seconds: float) -> None:
        _stats.run_s += seconds
        _stats.wait_s += task.t_start - task.t_spawn if task.coro is None else 0.0
        name = task.devices[0].label
        row = _stats.per_device.get(name)
        if row is None:
            row = _stats.per_device[name] = [0, 0.0]
        row[0] += 1
        row[1] += seconds

    def _complete(self, task: Task, result: Any, error: BaseException | None, seconds: float) -> None:
        with self.lock:
            mapping.release(task.slots)
            self.busy -= 1
            self._account(task, seconds)
            if task.events:
                self.pending_events.extend(task.events)
            if error is None:
                task.result = result
                self._end(task, COMPLETED)
                _stats.completed += 1
            else:
                task.exception = error
                self.failures.append(task)
                self._end(task, EXCEPTION)
                _stats.failed += 1
            self._retry_resources()
            self._kick(keep=1)
            self._wake_waiters()

    def _end(self, task: Task, state: int) -> None:
        """`task` ended: release its dependents and awaiters (lock held); failures cancel the dependents."""
        work = [(task, state)]
        while work:
            t, st = work.pop()
            t._state = st
            t.coro = None
            t.body = None  # drop what the body captured (the result stays)
            t.env = None
            self.live.discard(t)
            if t.watched:
                self._woken = True
            dependents, t.dependents = t.dependents, None
            awaiters, t.awaiters = t.awaiters, None
            for a in awaiters or ():
                if a._state >= COMPLETED:
                    continue  # ended meanwhile (a deadlock ends every live task)
                if st != COMPLETED and a.resume_error is None:
                    a.resume_error = t.exception
                a.pending -= 1
                if not a.pending:
                    self._resume(a)
            for d in dependents or ():
                if d._state != SPAWNED:
                    continue  # already cancelled by another failed dependency
                if st == COMPLETED:
                    d.pending -= 1
                    if not d.pending:
                        self._ready(d)
                else:
                    d.exception = self._cancel_error(d, t)
                    _stats.cancelled += 1
                    work.append((d, CANCELLED))

    def _cancel_error(self, task: Task, cause: Task) -> TaskCancelledError:
        exc = cause.exception
        if isinstance(exc, TaskCancelledError):
            root = exc.failed
            err = TaskCancelledError(
                f"task {task.name} was not run: its dependency {cause.name} was cancelled because {root} failed"
            )
            err.failed = root
            err.__cause__ = exc.__cause__
        else:
            err = TaskCancelledError(
                f"task {task.name} was not run: its dependency {cause.name} raised {type(exc).__name__}: {exc}"
            )
            err.failed = cause.name
            err.__cause__ = exc
        return err

    def _cancel_from(self, task: Task, cause: Task) -> None:
        task.exception = self._cancel_error(task, cause)
        _stats.cancelled += 1
        self._end(task, CANCELLED)

    # -- async bodies -------------------------------------------------------------------------------------------

    def _suspend(self, task: Task, aw: AwaitTasks, seconds: float) -> None:
        with self.lock:
            mapping.release(task.slots)  # a suspended body holds no resources; it gets its devices back
            self.busy -= 1
            self._account(task, seconds)
            _stats.suspensions += 1
            if task.events:
                self.pending_events.extend(task.events)
            task.awaiting = aw.tasks
            task.resume_value = None
            pending = 0
            for t in aw.tasks:
                st = t._state
                if st == COMPLETED:
                    continue
                if st == EXCEPTION or st == CANCELLED:
                    if task.resume_error is None:
                        task.resume_error = t.exception
                    continue
                t.awaiters.append(task)
                pending += 1
            task.pending = pending
            task.resume_value = aw.value_task
            if not pending:
                self._resume(task)
            self._retry_resources()
            self._kick(keep=1)
            self._wake_waiters()

    def _resume(self, task: Task) -> None:
        """The tasks an async body awaited ended: give it its value and queue it on its devices (lock held)."""
        vt = task.resume_value
        task.resume_value = vt.result if isinstance(vt, Task) and vt._state == COMPLETED else None
        task._state = READY
        task.t_ready = _perf()
        if mapping.fits(task.slots):
            self._queue(task, task.slots)
        else:
            self.resource_wait.append(task)

    # -- waiting ------------------------------------------------------------------------------------------------

    def wait_for(self, tasks: list[Task], timeout: float | None = None) -> None:
        """Block until every task in `tasks` ended (a task of a worker: another worker takes its place)."""
        in_task = _locals.task is not None and _locals.scheduler is self
        owner = threading.get_ident() == self.owner
        deadline = None if timeout is None else _perf() + timeout
        with self.lock:
            if all(t._state >= COMPLETED for t in tasks):
                return
            if owner:
                self.owner_waiting = True
                self.changed.notify_all()  # blocked workers re-check for a deadlock now that the owner waits
            if in_task:
                self.busy -= 1
                self.blocked.append(tasks)
                if not self.idle:
                    self._start_worker()  # keep n_workers threads running tasks while this one blocks
            self.waiters += 1
            first = 0
            try:
                while True:
                    while first < len(tasks) and tasks[first]._state >= COMPLETED:
                        first += 1  # tasks stay ended: each is passed once
                    if first == len(tasks):
                        return
                    rest = [t for t in tasks[first:] if t._state < COMPLETED]
                    rest[-1].watched = True  # tasks tend to end in order: the last pending wakes us rarely
                    if self.deadlock is not None:
                        self.deadlock_seen = True
                        raise self.deadlock
                    if self._quiescent():
                        err = self._declare_deadlock(rest)
                        self.deadlock_seen = True  # raised here: the end of the block need not raise it again
                        raise err
                    remaining = None if deadline is None else deadline - _perf()
                    if remaining is not None and remaining <= 0:
                        raise TimeoutError(
                            f"{len(rest)} task(s) still running after {timeout} s: "
                            f"{', '.join(t.name for t in rest[:5])}"
                        )
                    self.changed.wait(remaining)
            finally:
                self.waiters -= 1
                if owner:
                    self.owner_waiting = False
                if in_task:
                    self.busy += 1
                    self.blocked.remove(tasks)

    def _quiescent(self) -> bool:
        """No task can end any more: none queued or running, no blocked worker about to wake, and the thread of
        the Parla block is waiting too, so it will spawn nothing (lock held)."""
        if self.busy or self.run_queue or not self.owner_waiting:
            return False
        return not any(all(t._state >= COMPLETED for t in b) for b in self.blocked)

    def _declare_deadlock(self, waited: list[Task]) -> TaskDeadlockError:
        """Nothing can run and `waited` (plus every live task) can never end: build the report, end the live
        tasks with it and wake every waiter (lock held)."""
        never: dict[str, list[str]] = {}
        blocked = 0
        for t in list(self.live) + [t for t in waited if t._state == CREATED]:
            if t._state == CREATED:
                never.setdefault("the caller's wait()", []).append(t.name)
                continue
            blocked += 1
            waits = t.dependencies if t._state == SPAWNED else getattr(t, "awaiting", ())
            missing = sorted({d.name for d in waits if d._state == CREATED})
            if missing:
                never[t.name] = missing
        lines = [f"  {name} waits on {', '.join(m)} (never spawned)" for name, m in sorted(never.items())]
        others = blocked - sum(1 for n in never if n != "the caller's wait()")
        msg = (
            "deadlock: tasks wait on tasks that were never spawned, and nothing else can run:\n"
            + "\n".join(lines)
            + (f"\n  ({others} more task(s) wait on those)" if others > 0 else "")
        )
        err = TaskDeadlockError(msg)
        err.waiting = never
        self.deadlock = err
        self.resource_wait.clear()
        for t in list(self.live):
            t._state = CANCELLED  # first all, so that ending one resumes none of the others
        for t in list(self.live):
            t.exception = err
            self._end(t, CANCELLED)
        self.changed.notify_all()
        return err

    def shutdown(self) -> TaskDeadlockError | None:
        """Wait for every spawned task, stop the workers and wait for GPU work. Returns the deadlock no waiter
        was told about, if any."""
        with self.lock:
            self.waiters += 1
            self.owner_waiting = True
            self.changed.notify_all()
            try:
                while self.live:
                    if self._quiescent():
                        self._declare_deadlock([])
                        break
                    self.changed.wait()
            finally:
                self.waiters -= 1
            self.stopping = True
            self.work.notify_all()
        me = threading.current_thread()
        for w in self.threads:
            if w.thread is not me:
                w.join()
        _gpu.synchronize(self.pending_events)
        self.pending_events.clear()
        return None if self.deadlock_seen else self.deadlock

    def abandon(self) -> None:
        """The `with Parla()` body raised: tasks not started yet are cancelled (running ones finish)."""
        with self.lock:
            for t in list(self.live):
                if t._state in (SPAWNED, READY) and t.coro is None:
                    if t in self.resource_wait:
                        self.resource_wait.remove(t)
                    t.exception = TaskCancelledError(f"task {t.name} was not run: the Parla block raised")
                    _stats.cancelled += 1
                    self._end(t, CANCELLED)
