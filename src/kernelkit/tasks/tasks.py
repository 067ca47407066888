"""Tasks and task spaces (Parla's vocabulary).

A Task is a handle first: indexing a TaskSpace creates it (state TaskCreated), so other tasks may depend on it
before it is spawned. `spawn` gives it a body. States follow Parla: created, spawned, mapped, ready, running,
completed or exception (and cancelled, when a dependency failed). `await task` in an `async def` task body
suspends the body until the task completes and gives its return value; `await space` waits for every task of
the space.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from kernelkit.tasks.errors import TaskTypeError

# Task states (ints on the hot path; `Task.state` builds Parla's state objects on demand)
CREATED, SPAWNED, MAPPED, RESERVED, READY, RUNNING, RUNAHEAD, COMPLETED, EXCEPTION, CANCELLED = range(10)
TERMINAL = (COMPLETED, EXCEPTION, CANCELLED)


class TaskState:
    """Parla's task states; `value` is the number Parla gives them, `is_terminal` whether the task ended."""

    value = -1
    is_terminal = False

    def __init__(self, task: Task | None = None):
        self._task = task

    def __repr__(self) -> str:
        return type(self).__name__

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


class TaskCreated(TaskState):
    """A handle: the task was named but not spawned."""

    value = 0


class TaskSpawned(TaskState):
    """Spawned; waiting for its dependencies."""

    value = 1


class TaskMapped(TaskState):
    """Dependencies done, devices chosen; waiting for a worker."""

    value = 2


class TaskReserved(TaskState):
    value = 3


class TaskReady(TaskState):
    """Ready: its dependencies completed; waiting for resources on its devices."""

    value = 4


class TaskRunning(TaskState):
    value = 5

    def __repr__(self) -> str:
        body = getattr(self._task, "body", None)
        return f"TaskRunning({getattr(body, '__name__', '?')})"


class TaskRunahead(TaskState):
    value = 6


class TaskCompleted(TaskState):
    value = 7
    is_terminal = True

    @property
    def return_value(self) -> Any:
        return self._task.result if self._task is not None else None

    def __repr__(self) -> str:
        return f"TaskCompleted({self.return_value!r})"


class TaskException(TaskState):
    value = 8
    is_terminal = True

    @property
    def exception(self) -> BaseException | None:
        return self._task.exception if self._task is not None else None

    def __repr__(self) -> str:
        return f"TaskException({self.exception!r})"


class TaskCancelled(TaskException):
    """Not run: a dependency failed (`exception` is the TaskCancelledError naming it)."""

    def __repr__(self) -> str:
        return f"TaskCancelled({self.exception!r})"


_STATE_CLASSES = (
    TaskCreated,
    TaskSpawned,
    TaskMapped,
    TaskReserved,
    TaskReady,
    TaskRunning,
    TaskRunahead,
    TaskCompleted,
    TaskException,
    TaskCancelled,
)


class AwaitTasks:
    """What an awaited task or collection yields to the runtime: the tasks to wait for, and the task whose
    return value the `await` gives (None: the await gives None)."""

    __slots__ = ("tasks", "value_task")

    def __init__(self, tasks: list[Task], value_task: Task | None):
        self.tasks = tasks
        self.value_task = value_task


class Task:
    """A task: a name in a TaskSpace, a body once spawned, a state and, when done, a result or an exception."""

    __slots__ = (
        "_name",
        "space",
        "idx",
        "_state",
        "body",
        "coro",
        "dependencies",
        "dependents",
        "awaiters",
        "pending",
        "options",
        "slots",
        "devices",
        "dataflow",
        "result",
        "exception",
        "events",
        "env",
        "scheduler",
        "resume_value",
        "resume_error",
        "awaiting",
        "t_spawn",
        "t_ready",
        "t_start",
        "t_end",
        "worker",
        "trace_end",
        "watched",
        "__weakref__",
    )

    # set when first needed (spawn, mapping, running), not in __init__
    body: Any
    pending: int
    options: list
    slots: tuple
    dataflow: Any
    env: Any
    resume_value: Any
    awaiting: list[Task]
    t_spawn: float
    t_ready: float
    t_start: float
    t_end: float
    worker: int

    def __init__(self, space: TaskSpace | None = None, idx: tuple = (), name: str | None = None):
        # only what every task needs is set here (spawn is on the hot path); the rest is set when used
        self.space = space
        self.idx = idx
        self._name = name  # built on first use from the space and index
        self._state = CREATED
        self.dependents: Any = []  # list[Task]; None once the task ended: later dependents see it done
        self.awaiters: Any = []  # the suspended async tasks waiting for this one (None once it ended)
        self.dependencies: list[Task] = []
        self.coro: Any = None
        self.scheduler: Any = None
        self.result: Any = None
        self.exception: BaseException | None = None
        self.events: Any = None  # per-GPU completion events recorded after the body (None on the host)
        self.devices: tuple = ()
        self.resume_error: BaseException | None = None
        self.trace_end: Any = None
        self.watched = False  # a thread in wait() is woken when this task ends

    @property
    def name(self) -> str:
        n = self._name
        if n is None:
            space = self.space
            n = self._name = "_".join(str(i) for i in ((space.name if space is not None else "Task"), *self.idx))
        return n

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

    @property
    def state(self) -> TaskState:
        return _STATE_CLASSES[self._state](self)

    @property
    def done(self) -> bool:
        return self._state >= COMPLETED

    def get_name(self) -> str:
        return self.name

    def get_state(self) -> int:
        return _STATE_CLASSES[self._state].value

    def get_assigned_devices(self) -> list:
        return list(self.devices)

    def get_dependencies(self) -> list[Task]:
        return list(self.dependencies)

    def wait(self, timeout: float | None = None) -> Any:
        """Block the calling thread until the task ends; returns its result (re-raises its exception)."""
        if self.scheduler is None:
            from kernelkit.tasks.runtime import current_scheduler

            current_scheduler().wait_for([self], timeout)
        else:
            self.scheduler.wait_for([self], timeout)
        if self.exception is not None:
            raise self.exception
        return self.result

    def __await__(self):
        return (yield AwaitTasks([self], self))

    def __repr__(self) -> str:
        return f"Task({self.name})"


def flatten_tasks(obj: Any, out: list[Task]) -> list[Task]:
    """Append every Task in `obj` (a Task, a TaskSpace, a TaskList or nested lists/tuples/dicts) to `out`."""
    if type(obj) is list:  # the common case: [T[i - 1]]
        for x in obj:
            if type(x) is Task:
                out.append(x)
            else:
                flatten_tasks(x, out)
    elif isinstance(obj, Task):
        out.append(obj)
    elif isinstance(obj, TaskCollection):
        out.extend(obj.tasks)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for x in obj:
            flatten_tasks(x, out)
    elif isinstance(obj, dict):
        for x in obj.values():
            flatten_tasks(x, out)
    elif obj is None:
        pass
    else:
        raise TaskTypeError(
            f"dependencies are tasks (T[i]), task spaces, slices of them (T[0:i]) or lists of those; got "
            f"{type(obj).__name__} {obj!r}"
        )
    return out


class TaskCollection:
    """Tasks that can be awaited together (`await c`), waited for from any thread (`c.wait()`), iterated."""

    @property
    def tasks(self) -> list[Task]:
        raise NotImplementedError

    def __await__(self):
        return (yield AwaitTasks(list(self.tasks), None))

    def wait(self, timeout: float | None = None) -> None:
        """Block the calling thread until every task of the collection has ended."""
        tasks = list(self.tasks)
        from kernelkit.tasks.runtime import current_scheduler

        current_scheduler().wait_for(tasks, timeout)

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(list(self.tasks))

    def __contains__(self, task: object) -> bool:
        return task in self.tasks


class TaskList(TaskCollection):
    """A list of tasks (what slicing a TaskSpace returns)."""

    def __init__(self, tasks: Iterable[Task]):
        self._tasks = list(tasks)

    @property
    def tasks(self) -> list[Task]:
        return self._tasks

    def __getitem__(self, index: int | slice) -> Task | TaskList:
        r = self._tasks[index]
        return TaskList(r) if isinstance(r, list) else r

    def __add__(self, other: TaskCollection) -> TaskList:
        return TaskList(self._tasks + list(other.tasks))

    def __repr__(self) -> str:
        return f"TaskList({self._tasks})"


AtomicTaskList = TaskList


def _int_like(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class TaskSpace(TaskCollection):
    """A named, indexable collection of tasks: `T[i]`, `T[i, j]`, `T[0:i]` (the tasks 0..i-1), `T[-1]` (empty
    in a space starting at 0). Indexing creates the handles it names, so tasks may depend on tasks spawned
    later. `shape`/`start` bound the indices (slices are clipped to them). `T.view[...]` looks without
    creating."""

    def __init__(self, name: str = "", create: bool = True, shape: Any = None, start: Any = None):
        self._name = name
        self._tasks: dict[tuple, Task] = {}
        self._create = create
        self.shape = (shape,) if shape is not None and not isinstance(shape, tuple) else shape
        self.start = (start,) if start is not None and not isinstance(start, tuple) else start
        self._view: TaskSpace | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def tasks(self) -> list[Task]:
        return list(self._tasks.values())

    @property
    def view(self) -> TaskSpace:
        if self._view is None:
            v = type(self)(self._name, create=False, shape=self.shape, start=self.start)
            v._tasks = self._tasks
            self._view = v
        return self._view

    def _bounds(self, dim: int) -> tuple[int, int | None]:
        lo = self.start[dim] if self.start is not None and dim < len(self.start) else 0
        hi = lo + self.shape[dim] if self.shape is not None and dim < len(self.shape) else None
        return lo, hi

    def _task(self, idx: tuple) -> Task | None:
        t = self._tasks.get(idx)
        if t is None and self._create:
            t = self._tasks.setdefault(idx, Task(self, idx))  # setdefault: two threads get the same handle
        return t

    def _expand(self, index: tuple) -> list[tuple]:
        out: list[tuple] = [()]
        for dim, k in enumerate(index):
            lo, hi = self._bounds(dim)
            if isinstance(k, slice):
                if k.step is not None and not _int_like(k.step):
                    raise TaskTypeError(f"TaskSpace slices take int steps, got {k!r}")
                start = max(k.start, lo) if k.start is not None else lo
                stop = k.stop if k.stop is not None else hi
                if stop is None:
                    raise TaskTypeError(f"{self._name}[{k.start}:]: an open slice needs a TaskSpace with a shape")
                if hi is not None:
                    stop = min(stop, hi)
                values: list[Any] = list(range(start, stop, k.step or 1))
            elif _int_like(k):
                values = [k] if k >= lo and (hi is None or k < hi) else []
            elif isinstance(k, (list, tuple, range)):
                values = [v for v in k if not _int_like(v) or (v >= lo and (hi is None or v < hi))]
            elif isinstance(k, (str, float)):
                values = [k]
            else:
                raise TaskTypeError(f"TaskSpace indices are ints, slices, strings or lists of them; got {k!r}")
            out = [p + (v,) for p in out for v in values]
        return out

    def __getitem__(self, index: Any) -> Task | TaskList:
        if type(index) is int and self.shape is None and self.start is None:  # the hot path: T[i]
            if index < 0:
                return TaskList([])
            t = self._tasks.get((index,))
            if t is None:
                if not self._create:
                    return TaskList([])
                t = self._tasks.setdefault((index,), Task(self, (index,)))
            return t
        if _int_like(index):
            lo, hi = self._bounds(0)
            if index < lo or (hi is not None and index >= hi):
                return TaskList([])
            t = self._task((index,))
            return t if t is not None else TaskList([])
        if not isinstance(index, tuple):
            index = (index,)
        scalar = all(_int_like(k) or isinstance(k, (str, float)) for k in index)
        found = [t for t in (self._task(i) for i in self._expand(index)) if t is not None]
        if scalar and len(found) == 1:
            return found[0]
        return TaskList(found)

    def __add__(self, other: TaskSpace) -> TaskSpace:
        merged = type(self)(f"{self._name} + {other.name}", create=False, shape=self.shape, start=self.start)
        merged._tasks = {**self._tasks, **other._tasks}
        return merged

    def __iadd__(self, other: TaskSpace) -> TaskSpace:
        self._tasks.update(other._tasks)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name}, ntasks={len(self._tasks)})"

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


class AtomicTaskSpace(TaskSpace):
    """A TaskSpace safe to index and spawn into from several threads at once (every TaskSpace of kernelkit
    is; the name is Parla's)."""


class BackendTaskSpace(TaskSpace):
    """Parla's name for a TaskSpace kept by the runtime; the same here."""
