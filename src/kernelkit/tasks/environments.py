"""Where a task runs: its environment (Parla's TaskEnvironment), one DeviceEnvironment per device, and the
thread-local "current" task, environment and stream that `get_current_*` read.

Inside a task, `get_current_context()` is the task's environment; `get_current_devices()` its devices (each
callable, giving the Device: `devs[0]().get_global_id()`); `get_current_stream()` the stream of its first
device (a CUDA stream for a GPU task, a host stand-in with the same methods elsewhere).
"""

from __future__ import annotations

import threading
from typing import Any

from kernelkit.tasks.devices import Device, DeviceType


class HostStream:
    """The stream of a host device: work is synchronous, so its methods have nothing to wait for."""

    __slots__ = ("device",)

    handle = 0

    def __init__(self, device: Device):
        self.device = device

    def synchronize(self) -> None:
        return None

    def wait_event(self, event: Any) -> None:
        return None

    def record(self, event: Any = None) -> None:
        return None

    @property
    def stream(self) -> HostStream:
        return self

    def __repr__(self) -> str:
        return f"HostStream({self.device})"


class DeviceEnvironment:
    """One device of a task's environment: Parla's TerminalEnvironment. Calling it gives the Device."""

    __slots__ = ("_device", "stream", "space", "event")

    def __init__(self, device: Device, stream: Any = None, space: Any = None):
        self._device = device
        self.stream: Any = stream if stream is not None else HostStream(device)
        self.space = space if space is not None else device.space  # kernelkit space (with the task's stream)
        self.event: Any = None

    def __call__(self) -> Device:
        return self._device

    @property
    def device(self) -> Device:
        return self._device

    @property
    def architecture(self) -> Any:
        return self._device.arch

    @property
    def devices(self) -> list[DeviceEnvironment]:
        return [self]

    @property
    def contexts(self) -> list[DeviceEnvironment]:
        return [self]

    def get_all_devices(self) -> list[DeviceEnvironment]:
        return [self]

    @property
    def streams(self) -> list[Any]:
        return [self.stream]

    def get_global_id(self) -> int:
        return self._device.get_global_id()

    @property
    def global_ids(self) -> set[int]:
        return {self._device.get_global_id()}

    @property
    def gpu_id(self) -> int | None:
        return self._device.physical

    def has(self, kind: DeviceType) -> bool:
        return self._device.arch == kind

    def synchronize(self) -> None:
        self.stream.synchronize()

    def __enter__(self) -> DeviceEnvironment:
        _locals.push_context(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _locals.pop_context()

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> DeviceEnvironment:
        if index != 0:
            raise IndexError("a device environment holds one device")
        return self

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DeviceEnvironment):
            return other._device == self._device
        return isinstance(other, Device) and other == self._device

    def __hash__(self) -> int:
        return hash(self._device)

    def __repr__(self) -> str:
        kind = "GPUEnvironment" if self._device.is_gpu else "CPUEnvironment"
        return f"{kind}({self._device})"


class TaskEnvironment:
    """The devices a task runs on. A one-device task's environment is that device's DeviceEnvironment; this
    class holds several (`placement=[(cpu, gpu)]`): index it, iterate `devices`, `loop()` over them."""

    def __init__(self, envs: list[DeviceEnvironment]):
        self.env_list = envs

    @property
    def devices(self) -> list[DeviceEnvironment]:
        return list(self.env_list)

    @property
    def contexts(self) -> list[DeviceEnvironment]:
        return list(self.env_list)

    def get_all_devices(self) -> list[DeviceEnvironment]:
        return list(self.env_list)

    def get_devices(self, kind: Any) -> list[DeviceEnvironment]:
        return [e for e in self.env_list if e.architecture == kind]

    @property
    def device(self) -> DeviceEnvironment:
        return self.env_list[0]

    @property
    def streams(self) -> list[Any]:
        return [e.stream for e in self.env_list]

    @property
    def stream(self) -> Any:
        return self.env_list[0].stream

    @property
    def global_ids(self) -> set[int]:
        return {e.get_global_id() for e in self.env_list}

    @property
    def gpu_ids(self) -> list[int | None]:
        return [e.gpu_id for e in self.env_list if e.device.is_gpu]

    def has(self, kind: DeviceType) -> bool:
        return any(e.architecture == kind for e in self.env_list)

    def synchronize(self) -> None:
        for e in self.env_list:
            e.synchronize()

    def loop(self, envs: list[DeviceEnvironment] | None = None):
        """Enter each device's environment in turn (kernels launched in the loop body run on it)."""
        from kernelkit.api.spaces import space_scope

        for e in envs if envs is not None else self.env_list:
            with e, space_scope(e.space):
                yield e

    def parfor(self, envs: list[DeviceEnvironment] | None = None):
        """`@ctx.parfor()` runs the decorated `f(env)` once per device, each in its own thread, and returns
        the last result (re-raising the first exception)."""
        from kernelkit.api.spaces import space_scope

        chosen = envs if envs is not None else self.env_list

        def deco(fn):
            results: list[Any] = [None] * len(chosen)
            errors: list[BaseException | None] = [None] * len(chosen)

            def run(i: int, e: DeviceEnvironment) -> None:
                try:
                    with e, space_scope(e.space):
                        results[i] = fn(e)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                    errors[i] = exc

            threads = [threading.Thread(target=run, args=(i, e)) for i, e in enumerate(chosen)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for exc in errors:
                if exc is not None:
                    raise exc
            return results[-1] if results else None

        return deco

    def __enter__(self) -> TaskEnvironment:
        _locals.push_context(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _locals.pop_context()

    def __len__(self) -> int:
        return len(self.env_list)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            envs = self.env_list[index]
            return envs[0] if len(envs) == 1 else TaskEnvironment(envs)
        return self.env_list[index]

    def __iter__(self):
        return iter(self.env_list)

    def __contains__(self, obj: object) -> bool:
        if isinstance(obj, (Device, DeviceEnvironment)):
            return any(e == obj for e in self.env_list)
        if isinstance(obj, TaskEnvironment):
            return obj.global_ids <= self.global_ids
        return False

    def __repr__(self) -> str:
        return f"TaskEnvironment({self.env_list})"


def make_environment(envs: list[DeviceEnvironment]) -> DeviceEnvironment | TaskEnvironment:
    return envs[0] if len(envs) == 1 else TaskEnvironment(envs)


class _Locals(threading.local):
    """Per thread: the stack of environments entered, the running task and the runtime's scheduler."""

    def __init__(self) -> None:
        self.contexts: list[Any] = []
        self.task: Any = None
        self.scheduler: Any = None

    def push_context(self, env: Any) -> None:
        self.contexts.append(env)

    def pop_context(self) -> Any:
        return self.contexts.pop()


_locals = _Locals()


def get_current_task() -> Any:
    """The task running on this thread (None outside tasks)."""
    return _locals.task


def get_current_context() -> Any:
    """The environment of the running task (its device, or a TaskEnvironment of several); None outside tasks."""
    c = _locals.contexts
    return c[-1] if c else None


def get_current_devices() -> list[DeviceEnvironment]:
    """The devices of the running task, as environments (call one to get the Device); [] outside tasks."""
    ctx = get_current_context()
    return ctx.devices if ctx is not None else []


def get_active_device() -> Device | None:
    devs = get_current_devices()
    return devs[0]() if devs else None


def get_current_stream() -> Any:
    """The stream of the running task's first device: a kernelkit CUDA Stream on a GPU (CuPy and kernelkit
    launches inside the task already use it), a HostStream elsewhere; None outside tasks."""
    ctx = get_current_context()
    return ctx.stream if ctx is not None else None
