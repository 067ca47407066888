"""kernelkit.tasks: a Parla-compatible task runtime over kernelkit's kernels and Views.

A Parla 0.3 program runs once its imports name this module (`from parla import Parla`, `from parla.tasks
import spawn, TaskSpace`, `from parla.devices import cpu, gpu`, `from parla import parray` all become
`from kernelkit.tasks import ...`; `import parla` becomes `import kernelkit.tasks as parla`):

    from kernelkit.tasks import Parla, spawn, TaskSpace, cpu, gpu

    with Parla():
        T = TaskSpace("T")
        for i in range(4):
            @spawn(T[i], placement=[gpu, cpu])
            def work():
                ...                       # kernelkit launches here run on the task's device and stream
        @spawn(T[4], dependencies=T[0:4], placement=cpu)
        def reduce():
            ...

Logical GPUs (`KERNELKIT_VIRTUAL_GPUS=4`) let multi-GPU programs run on one GPU or on the CPU alone.
`KERNELKIT_TRACE=trace.json` writes a Perfetto trace; `stats()` gives counts and times.
"""

from __future__ import annotations

from typing import Any

from kernelkit.tasks import parray
from kernelkit.tasks.arrays import clone_here, copy
from kernelkit.tasks.data import AccessMode, Coherence
from kernelkit.tasks.devices import (
    VCU_BASELINE,
    Architecture,
    Device,
    DeviceManager,
    DeviceResource,
    DeviceType,
    cpu,
    cuda,
    gpu,
)
from kernelkit.tasks.environments import (
    DeviceEnvironment,
    HostStream,
    TaskEnvironment,
    get_active_device,
    get_current_context,
    get_current_devices,
    get_current_stream,
    get_current_task,
)
from kernelkit.tasks.errors import (
    CopyError,
    DuplicateTaskError,
    NoRuntimeError,
    PlacementError,
    TaskCancelledError,
    TaskDeadlockError,
    TaskTypeError,
)
from kernelkit.tasks.parray import PArray, asarray, asarray_batch
from kernelkit.tasks.runtime import Parla, get_device_manager, get_scheduler, spawn
from kernelkit.tasks.tasks import (
    AtomicTaskList,
    AtomicTaskSpace,
    BackendTaskSpace,
    Task,
    TaskCancelled,
    TaskCollection,
    TaskCompleted,
    TaskCreated,
    TaskException,
    TaskList,
    TaskMapped,
    TaskReady,
    TaskRunahead,
    TaskRunning,
    TaskSpace,
    TaskSpawned,
    TaskState,
)
from kernelkit.tasks.trace import reset_stats, stats
from kernelkit.tasks.utility import sleep_gil, sleep_nogil, timeout
from kernelkit.tasks.variants import VariantDefinitionError, specialize

array = parray.array
Tasks = TaskCollection
CompletedTaskSpace = TaskSpace


def wait(barrier: Any) -> None:
    """Block until every task of `barrier` (a task, task space or list) has ended (Parla's `wait`)."""
    barrier.wait()


def __getattr__(name: str) -> Any:
    # CuPy is imported on first use only (it takes about a second)
    if name == "cupy":
        from kernelkit.tasks.arrays import cupy_module

        return cupy_module()
    if name == "CUPY_ENABLED":
        from kernelkit.tasks.arrays import cupy_enabled

        return cupy_enabled()
    raise AttributeError(f"module 'kernelkit.tasks' has no attribute {name!r}")


__all__ = [
    # runtime and tasks
    "Parla",
    "spawn",
    "TaskSpace",
    "AtomicTaskSpace",
    "BackendTaskSpace",
    "CompletedTaskSpace",
    "Task",
    "Tasks",
    "TaskCollection",
    "TaskList",
    "AtomicTaskList",
    "wait",
    "specialize",
    "VariantDefinitionError",
    "get_current_task",
    "get_current_context",
    "get_current_devices",
    "get_current_stream",
    "get_active_device",
    "get_scheduler",
    "get_device_manager",
    "TaskState",
    "TaskCreated",
    "TaskSpawned",
    "TaskMapped",
    "TaskReady",
    "TaskRunning",
    "TaskRunahead",
    "TaskCompleted",
    "TaskException",
    "TaskCancelled",
    # devices
    "cpu",
    "gpu",
    "cuda",
    "Architecture",
    "Device",
    "DeviceType",
    "DeviceResource",
    "DeviceManager",
    "VCU_BASELINE",
    "TaskEnvironment",
    "DeviceEnvironment",
    "HostStream",
    # data
    "parray",
    "PArray",
    "array",
    "asarray",
    "asarray_batch",
    "clone_here",
    "copy",
    "Coherence",
    "AccessMode",
    "cupy",
    "CUPY_ENABLED",
    # tools
    "stats",
    "reset_stats",
    "sleep_gil",
    "sleep_nogil",
    "timeout",
    # errors
    "PlacementError",
    "TaskTypeError",
    "CopyError",
    "DuplicateTaskError",
    "TaskCancelledError",
    "TaskDeadlockError",
    "NoRuntimeError",
]
