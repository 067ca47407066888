"""Streams and events of GPU tasks.

Each task on a GPU gets a stream of its own (from a per-GPU pool) and a kernelkit execution space instance on
it, so kernelkit launches (and CuPy calls, when CuPy is installed) inside the body are queued there. After the
body, an event is recorded on the stream: a dependent GPU task makes its own stream wait for that event (no
host synchronization between dependent GPU tasks); a dependent host task, an `await` and the end of the
Parla context wait for it on the host. Logical GPUs backed by the host have no streams: their work is done when
the body returns.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from kernelkit.tasks.arrays import cupy_module
from kernelkit.tasks.environments import DeviceEnvironment


class StreamPool:
    """Streams (with their kernelkit space instances) per physical GPU, reused across tasks."""

    def __init__(self) -> None:
        self._free: dict[int, list[tuple[Any, Any]]] = {}
        self._lock = threading.Lock()
        self.created = 0

    def acquire(self, ordinal: int) -> tuple[Any, Any]:
        with self._lock:
            free = self._free.setdefault(ordinal, [])
            if free:
                return free.pop()
        from kernelkit.api import spaces
        from kernelkit.backends.cuda import driver

        # a blocking stream: kernelkit's own copies on the legacy default stream stay ordered with it
        stream = driver.Stream(ordinal)
        inst = spaces.ExecutionSpaceInstance(spaces.Cuda(ordinal), stream)
        with self._lock:
            self.created += 1
        return stream, inst

    def release(self, ordinal: int, item: tuple[Any, Any]) -> None:
        with self._lock:
            self._free.setdefault(ordinal, []).append(item)


def environments(devices: tuple, pool: StreamPool) -> list[DeviceEnvironment]:
    """One DeviceEnvironment per device of a task, with a stream from the pool for each physical GPU."""
    envs = []
    for d in devices:
        if d.physical is None:
            e = d._env
            if e is None:
                e = d._env = DeviceEnvironment(d)
            envs.append(e)
        else:
            stream, inst = pool.acquire(d.physical)
            envs.append(DeviceEnvironment(d, stream, inst))
    return envs


def wait_for(events: list[tuple[int, Any]], envs: list[DeviceEnvironment]) -> None:
    """Order this task after its dependencies' GPU work: a stream wait on a GPU, a host wait elsewhere."""
    if not events:
        return
    gpu_envs = [e for e in envs if e.device.physical is not None]
    for _, ev in events:
        if gpu_envs:
            for e in gpu_envs:
                e.stream.wait_event(ev)
        else:
            ev.synchronize()
    if gpu_envs and len(gpu_envs) < len(envs):
        for _, ev in events:  # a task on a host device and GPUs: its host part needs the data too
            ev.synchronize()


def finish(envs: list[DeviceEnvironment], pool: StreamPool) -> list[tuple[int, Any]] | None:
    """Record an event on each GPU stream of the task and give the streams back; returns the events."""
    events = None
    for e in envs:
        p = e.device.physical
        if p is None:
            continue
        from kernelkit.backends.cuda import driver

        ev = driver.Event(timing=False, device=p)
        ev.record(e.stream)
        e.event = ev
        if events is None:
            events = []
        events.append((p, ev))
        pool.release(p, (e.stream, e.space))
    return events


def synchronize(events: list[tuple[int, Any]] | None) -> None:
    if events:
        for _, ev in events:
            ev.synchronize()


@contextlib.contextmanager
def library_scope(env: DeviceEnvironment) -> Iterator[None]:
    """Make CuPy (when installed) use the task's GPU and stream inside the body."""
    p = env.device.physical
    cp = cupy_module() if p is not None else None
    if cp is None:
        yield
        return
    with cp.cuda.Device(p), cp.cuda.ExternalStream(env.stream.handle, p):
        yield
