"""The runtime context (`with Parla(): ...`) and `spawn`.

    with Parla():                                   # workers start; leaving waits for every task
        T = TaskSpace("T")
        @spawn(T[0], placement=gpu)
        def first(): ...
        @spawn(T[1], dependencies=[T[0]], placement=[gpu, cpu], input=[A], inout=[(B, 0)])
        async def second():
            x = await T[0]                          # T[0]'s return value
            ...

Leaving the block re-raises the first task exception (the others are listed in its notes) and ends with a
TaskDeadlockError, never a silent hang, when tasks wait on tasks that were never spawned.
"""

from __future__ import annotations

import time
import types
from typing import Any

from kernelkit import config
from kernelkit.errors import KernelRuntimeError
from kernelkit.tasks import data as _data
from kernelkit.tasks import devices as _devices
from kernelkit.tasks import trace as _trace
from kernelkit.tasks.data import AccessMode
from kernelkit.tasks.environments import _locals
from kernelkit.tasks.errors import NoRuntimeError, TaskTypeError
from kernelkit.tasks.parray import PArray
from kernelkit.tasks.scheduler import Scheduler
from kernelkit.tasks.tasks import Task, TaskList, TaskSpace, flatten_tasks
from kernelkit.tasks.trace import Trace, _stats

_current: list[Scheduler | None] = [None]


def current_scheduler() -> Scheduler:
    s = _current[0]
    if s is None:
        raise NoRuntimeError("this needs a running task runtime: put it inside `with Parla(): ...`")
    return s


def get_scheduler() -> Scheduler | None:
    """The running runtime's scheduler (None outside `with Parla():`)."""
    return _current[0]


def get_device_manager() -> _devices.DeviceManager:
    """The running runtime's devices."""
    return current_scheduler().device_manager


def _note(exc: BaseException, text: str) -> None:
    add = getattr(exc, "add_note", None)
    if add is not None:
        add(text)


class Parla:
    """The task runtime, for the duration of a `with` block.

    `n_workers`: threads running task bodies (default: the physical cores); `dev_config_file`: a Parla device
    file (YAML) giving the number of logical GPUs and memory sizes; `virtual_gpus`: the number of logical GPUs
    (default KERNELKIT_VIRTUAL_GPUS, else the physical GPUs); `trace`: a file for a Chrome/Perfetto trace
    (default KERNELKIT_TRACE). Parla's other arguments (scheduler_class, sig_type, logfile) are accepted."""

    def __init__(
        self,
        scheduler_class: Any = None,
        sig_type: Any = None,
        logfile: str | None = None,
        n_workers: int | None = None,
        dev_config_file: str | None = None,
        virtual_gpus: int | None = None,
        trace: str | None = None,
        **kwds: Any,
    ):
        if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1):
            raise TaskTypeError(f"n_workers must be a positive int, got {n_workers!r}")
        self.n_workers = n_workers
        self.dev_config_file = dev_config_file
        self.virtual_gpus = virtual_gpus
        self.trace_path = trace
        self.logfile = logfile
        self._sched: Scheduler | None = None
        self._t0 = 0.0

    @property
    def scheduler(self) -> Scheduler | None:
        return self._sched

    def __enter__(self) -> Parla:
        if self._sched is not None:
            raise KernelRuntimeError("a Parla object runs once; make a new Parla() for another block")
        if _current[0] is not None:
            raise KernelRuntimeError("a Parla context is already running (they do not nest; spawn tasks instead)")
        manager = _devices.DeviceManager(self.dev_config_file, self.virtual_gpus)
        n = self.n_workers or _devices.physical_cores()
        from kernelkit.api import spaces

        default = spaces.get_default_space()
        host_scope = spaces.OpenMP if default.backend_name in ("cuda", "cudacheck") else None
        trace = Trace(self.trace_path or config.get().trace)
        _devices._active[0] = manager
        self._sched = Scheduler(manager, n, trace, host_scope)
        _current[0] = self._sched
        _trace._active[0] = trace
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        sched = self._sched
        assert sched is not None
        try:
            if exc_type is not None:
                sched.abandon()
            deadlock = sched.shutdown()
            if exc_type is None:
                _data.flush()  # every PArray's host array current: the arrays it wraps are read after the block
        finally:
            _trace._active[0] = None
            _current[0] = None
            _devices._active[0] = None
            _stats.wall_s += time.perf_counter() - self._t0
            sched.trace.write()
        failures = _summary(sched.failures)
        if exc is not None:
            if failures:
                _note(exc, f"tasks of the Parla block also failed: {failures}")
            return None
        if deadlock is not None:
            if failures:
                _note(deadlock, f"tasks also failed: {failures}")
            raise deadlock
        if sched.failures:
            first = sched.failures[0]
            err = first.exception
            assert err is not None
            _note(err, f"raised in task {first.name} (kernelkit.tasks)")
            others = [t for t in sched.failures[1:] if t.exception is not err]
            if others:
                _note(err, f"{len(others)} other task(s) failed: {_summary(others)}")
            raise err
        return None


def _summary(tasks: list[Task]) -> str:
    shown = [f"{t.name} ({type(t.exception).__name__}: {t.exception})" for t in tasks[:5]]
    more = f", and {len(tasks) - 5} more" if len(tasks) > 5 else ""
    return "; ".join(shown) + more


def _detach(body: Any) -> Any:
    """A copy of `body` whose closure holds the values its variables have now (Parla's rule): a task spawned in
    a loop sees the loop variable of its own iteration."""
    if not isinstance(body, types.FunctionType):
        return body
    cells = body.__closure__
    if not cells:
        return body
    fresh = []
    for c in cells:
        try:
            fresh.append(types.CellType(c.cell_contents))
        except ValueError:  # not assigned yet (e.g. the task's own name): keep the live cell
            fresh.append(c)
    f = types.FunctionType(body.__code__, body.__globals__, body.__name__, body.__defaults__, tuple(fresh))
    f.__kwdefaults__ = body.__kwdefaults__
    f.__qualname__ = body.__qualname__
    f.__doc__ = body.__doc__
    f.__dict__.update(body.__dict__)
    return f


_MODES = (("input", AccessMode.IN), ("output", AccessMode.OUT), ("inout", AccessMode.INOUT))


def _dataflow(arrays: dict[str, Any], max_slots: int) -> list | None:
    out = []
    for name, mode in _MODES:
        items = arrays[name]
        if items is None:
            continue
        todo = [items]
        while todo:
            it = todo.pop()
            if isinstance(it, PArray):
                out.append((it, 0, mode))
            elif type(it) is tuple and len(it) == 2 and isinstance(it[0], PArray) and isinstance(it[1], int):
                if not 0 <= it[1] < max_slots:
                    raise TaskTypeError(
                        f"{name}=({it[0].name}, {it[1]}): the task runs on at most {max_slots} "
                        f"device(s), so the device index is 0..{max_slots - 1}"
                    )
                out.append((it[0], it[1], mode))
            elif isinstance(it, (list, tuple)):
                todo.extend(reversed(it))
            else:
                raise TaskTypeError(
                    f"{name}= takes PArrays (parray.asarray(a)) or (PArray, device index) pairs; "
                    f"got {type(it).__name__}"
                )
    out.reverse()
    return out or None


def spawn(
    task: Any = None,
    dependencies: Any = (),
    placement: Any = None,
    input: Any = None,
    output: Any = None,
    inout: Any = None,
    vcus: float | None = None,
    memory: int | None = None,
    runahead: Any = None,
):
    """Spawn the decorated function (or `async def`) as a task; the decorated name becomes the Task.

    `task`: a handle (`T[i]`; default: a new task); `dependencies`: tasks, task spaces or slices of them that
    must complete first (they may be spawned later); `placement`: where it may run (`cpu`, `gpu`, `gpu(i)`, a
    list of alternatives, a tuple for one task on several devices, `gpu(0)[{"vcus": 0.5}]`); `input`,
    `output`, `inout`: the PArrays it reads and writes; `vcus`, `memory`: what it reserves on each device.
    """
    sched = current_scheduler()
    if task is None:
        space = sched.default_space
        if space is None:
            space = sched.default_space = TaskSpace("Task")
        task = space[len(space._tasks)]
    elif isinstance(task, TaskList) or not isinstance(task, Task):
        what = "an empty task list (an index outside the TaskSpace)" if isinstance(task, TaskList) else repr(task)
        raise TaskTypeError(f"spawn() takes one task handle such as T[i] or T[i, j]; got {what}")
    deps = flatten_tasks(dependencies, [])
    options = _devices.placement_options(placement, vcus, memory, sched.device_manager)
    dataflow = _dataflow({"input": input, "output": output, "inout": inout}, max(len(o) for o in options))

    def decorator(body: Any) -> Task:
        if not callable(body):
            raise TaskTypeError(f"@spawn(...) decorates a function (def or async def), got {type(body).__name__}")
        sched.spawn(task, _detach(body), deps, options, dataflow)
        return task

    return decorator


def in_task() -> bool:
    return _locals.task is not None
