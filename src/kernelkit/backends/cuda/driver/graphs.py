"""CUDA graphs by stream capture: `begin_capture(stream)`, the work queued on it, `end_capture(stream)` -> Graph,
`graph.instantiate()` -> GraphExec, `exec.launch(stream)` replays it.

Work queued on a capturing stream is recorded, not run. In the thread-local capture mode used by default, calls
of this thread that would synchronize or allocate (a synchronous copy, cuMemAlloc, a stream or context
synchronization) fail with a capture error instead, which is how a caller proves that nothing but the captured
work happens inside a capture.
"""

from __future__ import annotations

import ctypes

from kernelkit.backends.cuda.driver import api
from kernelkit.backends.cuda.driver.api import check, cu
from kernelkit.errors import SpaceUnavailable


def _table() -> api.Table:
    table = cu()
    if table.cuStreamBeginCapture is None or table.cuGraphInstantiateWithFlags is None:
        raise SpaceUnavailable("this CUDA driver has no graph API (stream capture needs CUDA 11.4 or newer)")
    return table


def begin_capture(stream: int, mode: int = api.CAPTURE_MODE_THREAD_LOCAL) -> None:
    """Start recording the work queued on `stream` (a created stream: the legacy default stream cannot)."""
    check(_table().cuStreamBeginCapture(stream, mode), "cuStreamBeginCapture")


def end_capture(stream: int) -> Graph:
    """Stop recording on `stream`; the graph of what was queued."""
    handle = ctypes.c_void_p()
    check(_table().cuStreamEndCapture(stream, ctypes.byref(handle)), "cuStreamEndCapture")
    return Graph(handle.value or 0)


def capture_status(stream: int) -> int:
    """CAPTURE_STATUS_NONE, _ACTIVE or _INVALIDATED (a failed call inside the capture invalidates it)."""
    status = ctypes.c_int()
    check(_table().cuStreamIsCapturing(stream, ctypes.byref(status)), "cuStreamIsCapturing")
    return status.value


class Graph:
    """A captured CUDA graph (owned: destroyed with the object)."""

    def __init__(self, handle: int):
        self.handle = handle
        self._generation = api.state.generation

    def node_count(self) -> int:
        n = ctypes.c_size_t()
        check(_table().cuGraphGetNodes(self.handle, None, ctypes.byref(n)), "cuGraphGetNodes")
        return n.value

    def instantiate(self) -> GraphExec:
        handle = ctypes.c_void_p()
        check(_table().cuGraphInstantiateWithFlags(ctypes.byref(handle), self.handle, 0), "cuGraphInstantiate")
        return GraphExec(handle.value or 0)

    def destroy(self) -> None:
        if self.handle and self._generation == api.state.generation:
            handle, self.handle = self.handle, 0
            check(cu().cuGraphDestroy(handle), "cuGraphDestroy")

    def __del__(self) -> None:
        try:
            self.destroy()
        except Exception:  # interpreter shutdown or a dead context: nothing useful to do
            pass


class GraphExec:
    """An instantiated graph: `launch(stream)` queues one replay of it on `stream` (asynchronous)."""

    def __init__(self, handle: int):
        self.handle = handle
        self._generation = api.state.generation

    def launch(self, stream: int) -> None:
        check(cu().cuGraphLaunch(self.handle, stream), "cuGraphLaunch")

    def destroy(self) -> None:
        if self.handle and self._generation == api.state.generation:
            handle, self.handle = self.handle, 0
            check(cu().cuGraphExecDestroy(handle), "cuGraphExecDestroy")

    def __del__(self) -> None:
        try:
            self.destroy()
        except Exception:  # interpreter shutdown or a dead context
            pass
