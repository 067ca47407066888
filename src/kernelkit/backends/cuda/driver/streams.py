"""Streams and events."""

from __future__ import annotations

import ctypes
import time
from typing import Any

from kernelkit.backends.cuda.driver import api
from kernelkit.backends.cuda.driver.api import check, cu
from kernelkit.backends.cuda.driver.device import Device, as_device
from kernelkit.errors import KernelTypeError


def stream_handle(stream: Any) -> int:
    """The CUstream of `stream`: None is the legacy default stream (0), an int is a handle, anything else is
    adopted with `Stream.wrap` (a CuPy/PyTorch stream, anything with `__cuda_stream__`)."""
    if stream is None:
        return 0
    if isinstance(stream, Stream):
        return stream.handle
    if isinstance(stream, int):
        return stream
    return Stream.wrap(stream).handle


class Stream:
    """A CUDA stream: `Stream()` creates one on the current device (blocking with respect to the legacy
    default stream unless `non_blocking`); `Stream.wrap(x)` adopts a stream owned elsewhere (an int handle, a
    CuPy or PyTorch stream, anything with `__cuda_stream__`) without taking ownership."""

    def __init__(self, device: Device | int | None = None, *, non_blocking: bool = False):
        self.device = as_device(device)
        self.device.activate()
        handle = ctypes.c_void_p()
        flags = api.STREAM_NON_BLOCKING if non_blocking else 0
        check(cu().cuStreamCreate(ctypes.byref(handle), flags), "cuStreamCreate")
        self.handle: int = handle.value or 0
        self.owned = True
        self._generation = api.state.generation

    @classmethod
    def wrap(cls, obj: Any, device: Device | int | None = None) -> Stream:
        """A Stream for an existing handle; never destroyed by kernelkit."""
        if isinstance(obj, Stream):
            return obj
        if hasattr(obj, "__cuda_stream__"):
            handle = obj.__cuda_stream__()[1]
        elif hasattr(obj, "cuda_stream"):  # torch.cuda.Stream
            handle = obj.cuda_stream
        elif hasattr(obj, "ptr"):  # cupy.cuda.Stream
            handle = obj.ptr
        elif isinstance(obj, ctypes.c_void_p):
            handle = obj.value
        elif isinstance(obj, int) or hasattr(obj, "__int__"):
            handle = int(obj)
        else:
            raise KernelTypeError(f"cannot use {type(obj).__name__} as a CUDA stream")
        self = cls.__new__(cls)
        self.device = as_device(device)
        self.handle = int(handle or 0)
        self.owned = False
        self._generation = api.state.generation
        return self

    @classmethod
    def legacy_default(cls, device: Device | int | None = None) -> Stream:
        """The legacy default stream (handle 0), which synchronizes with every blocking stream."""
        return cls.wrap(0, device)

    def synchronize(self) -> None:
        """Wait until all work queued on the stream has finished; raises a CudaError for a failed kernel."""
        self.device.activate()
        # cuStreamQuery polled from Python, not cuStreamSynchronize: Ctrl-C ends the wait (KeyboardInterrupt
        # between two polls). Spinning first, as the driver's own wait does, then in sleeps of 50 us.
        api.queue_check()
        table = cu()
        status = table.cuStreamQuery(self.handle)
        start = time.perf_counter()
        while status == api.CUDA_ERROR_NOT_READY:
            if time.perf_counter() - start > 0.005:
                time.sleep(5e-5)
            status = table.cuStreamQuery(self.handle)
        check(status, "cuStreamSynchronize")

    def query(self) -> bool:
        """True when all work queued on the stream has finished."""
        self.device.activate()
        status = cu().cuStreamQuery(self.handle)
        if status == api.CUDA_ERROR_NOT_READY:
            return False
        check(status, "cuStreamQuery")
        return True

    def wait_event(self, event: Event) -> None:
        """Make later work on this stream wait for `event` (no host synchronization)."""
        check(cu().cuStreamWaitEvent(self.handle, event.handle, 0), "cuStreamWaitEvent")

    def record(self, event: Event | None = None) -> Event:
        """Record an event (a new one by default) on this stream and return it."""
        event = event or Event(device=self.device)
        return event.record(self)

    def destroy(self) -> None:
        """Destroy the stream if kernelkit created it (pending work still completes)."""
        if self.owned and self.handle and self._generation == api.state.generation:
            handle, self.handle, self.owned = self.handle, 0, False
            check(cu().cuStreamDestroy(handle), "cuStreamDestroy")

    def __del__(self) -> None:
        try:
            self.destroy()
        except Exception:  # interpreter shutdown or a dead context: nothing useful to do
            pass

    def __int__(self) -> int:
        return self.handle

    def __cuda_stream__(self) -> tuple[int, int]:
        return (0, self.handle)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stream) and other.handle == self.handle

    def __hash__(self) -> int:
        return hash(self.handle)

    def __repr__(self) -> str:
        owner = "" if self.owned else ", wrapped"
        return f"<cuda.Stream {self.handle:#x} on device {self.device.ordinal}{owner}>"


class Event:
    """A CUDA event: `record(stream)`, `synchronize()`, `query()`, `elapsed_time(end)` in milliseconds."""

    def __init__(self, *, timing: bool = True, blocking_sync: bool = False, device: Device | int | None = None):
        self.device = as_device(device)
        self.device.activate()
        flags = (0 if timing else api.EVENT_DISABLE_TIMING) | (api.EVENT_BLOCKING_SYNC if blocking_sync else 0)
        handle = ctypes.c_void_p()
        check(cu().cuEventCreate(ctypes.byref(handle), flags), "cuEventCreate")
        self.handle: int = handle.value or 0
        self._generation = api.state.generation

    def record(self, stream: Stream | int | None = None) -> Event:
        """Record the event on `stream` (the legacy default stream when None); returns self."""
        self.device.activate()  # handle 0 means the current context's default stream
        check(cu().cuEventRecord(self.handle, stream_handle(stream)), "cuEventRecord")
        return self

    def synchronize(self) -> None:
        """Wait until the work before the event's record has finished."""
        api.queue_check()
        check(cu().cuEventSynchronize(self.handle), "cuEventSynchronize")

    def query(self) -> bool:
        """True when the recorded work has finished."""
        status = cu().cuEventQuery(self.handle)
        if status == api.CUDA_ERROR_NOT_READY:
            return False
        check(status, "cuEventQuery")
        return True

    def elapsed_time(self, end: Event) -> float:
        """Milliseconds from this event to `end` (both recorded and complete)."""
        ms = ctypes.c_float()
        check(cu().cuEventElapsedTime(ctypes.byref(ms), self.handle, end.handle), "cuEventElapsedTime")
        return float(ms.value)

    def destroy(self) -> None:
        """Release the event."""
        if self.handle and self._generation == api.state.generation:
            handle, self.handle = self.handle, 0
            check(cu().cuEventDestroy(handle), "cuEventDestroy")

    def __del__(self) -> None:
        try:
            self.destroy()
        except Exception:  # interpreter shutdown or a dead context
            pass
