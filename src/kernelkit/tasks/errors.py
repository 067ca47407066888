"""Errors of the task runtime. Each is a KernelError and also the built-in exception a Python programmer would
catch: a bad placement is a ValueError, a cancelled task or a deadlock a RuntimeError."""

from __future__ import annotations

from kernelkit.errors import KernelRuntimeError, KernelTypeError, KernelValueError


class PlacementError(KernelValueError):
    """A placement names no device that exists here, or asks for more resources than a device has."""


class TaskTypeError(KernelTypeError):
    """An argument of `spawn` (task, dependencies, dataflow) has the wrong kind."""


class DuplicateTaskError(KernelValueError):
    """A task of a TaskSpace was spawned a second time."""


class TaskCancelledError(KernelRuntimeError):
    """A task did not run because a task it depends on failed (or was itself cancelled).

    `failed` names the task whose exception started the cancellation; `__cause__` is that exception."""

    failed: str = ""


class TaskDeadlockError(KernelRuntimeError):
    """Tasks wait on tasks that were never spawned, and nothing else can run: the wait would never end.

    `waiting` maps each blocked task's name to the names of the never-spawned tasks it waits on."""

    waiting: dict[str, list[str]]


class CopyError(KernelRuntimeError):
    """A copy of PArray data between two places failed; the task that needed it fails with this error (its
    dependents are cancelled). The message names the array, the bytes and both places; `__cause__` is the
    underlying error (a CUDA error, an allocation failure)."""


class NoRuntimeError(KernelRuntimeError):
    """`spawn` (or another call that needs the runtime) was used outside a `with Parla():` block."""
