"""Graphs: a sequence of launches (parallel_for) and deep copies recorded once and replayed many times.

    with pk.graph() as g:          # records; nothing runs (on every space)
        for _ in range(100):
            pk.parallel_for(n, step, u=u, v=v)
            pk.deep_copy(u, v)
    g.launch()                     # replays all of it

`recording` is read by the launcher (and deep_copy) on every call: while it is set in this thread, a launch is
typed and lowered (so errors name the user's line at once) and appended instead of run. At the end of the `with`
block the graph is built. When every launch is on one CUDA device and the backend can capture, it becomes a CUDA
graph: first each launch's kernel is compiled, its specialization made and its Views staged on the device (so
that no compile, allocation or host copy happens inside the capture), then the launches and device-to-device
copies are queued on a capturing stream, which records them; `launch()` replays the instantiated graph with one
driver call. Anything else (host spaces, the interpreter, launches on several devices, KERNELKIT_BOUNDS_CHECK)
replays the recorded calls in order through the ordinary launcher, which gives the same results.

Coherence: a CUDA replay first makes each View the graph uses current on the device (a host write between two
replays is uploaded), checks that its device copy is still the one the graph captured (a released copy cannot be
replayed: record again), launches, and marks what the graph writes, as a launch does. Reductions and scans
cannot be recorded: their result is returned to Python when they run, and a graph's launches run later.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kernelkit import _native, config
from kernelkit.backends.base import Backend
from kernelkit.compile import pipeline
from kernelkit.errors import KernelRuntimeError, KernelTypeError, KernelValueError, caller_loc
from kernelkit.interop import KDL_CPU, dlpack_device
from kernelkit.ir import types as T
from kernelkit.runtime import coherence
from kernelkit.runtime.args import param_descriptor

recording: Recorder | None = None  # the recording in progress (one per process, in the thread that opened it)

_STALE = coherence.DEVICE_STALE | coherence.DERIVED


class _Launch:
    __slots__ = ("backend", "wu", "rec", "kwargs", "kernel", "guards", "args", "loc")

    def __init__(self, backend: Backend, wu: Any, rec: Any, kwargs: dict, prepared: tuple, loc: Any):
        self.backend, self.wu, self.rec, self.kwargs = backend, wu, rec, kwargs
        self.kernel, self.guards, self.args = prepared
        self.loc = loc


class _Copy:
    __slots__ = ("copy", "dst", "src", "loc")

    def __init__(self, copy: Callable[[Any, Any], None], dst: Any, src: Any, loc: Any):
        self.copy, self.dst, self.src, self.loc = copy, dst, src, loc


class Recorder:
    """What a `with pk.graph()` block has recorded so far."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.thread = threading.get_ident()
        self.ops: list[_Launch | _Copy] = []

    def here(self) -> bool:
        return self.thread == threading.get_ident()

    def add_launch(self, backend: Backend, wu: Any, rec: Any, kwargs: dict[str, Any]) -> None:
        from kernelkit.runtime.launcher import prepare

        loc = caller_loc()
        if rec.pattern != "for":
            raise KernelValueError(
                f"parallel_{rec.pattern} cannot be recorded in a graph: it returns its result when it runs, and "
                "the launches of a graph run later, at g.launch(); call it outside the `with pk.graph()` block "
                "(or write the result into a View with a parallel_for)",
                loc,
            )
        self.ops.append(_Launch(backend, wu, rec, dict(kwargs), prepare(wu, rec, kwargs, backend.device_memory), loc))

    def add_copy(self, copy: Callable[[Any, Any], None], dst: Any, src: Any) -> None:
        self.ops.append(_Copy(copy, dst, src, caller_loc()))


class _View:
    """A root View a CUDA graph uses: the device address it captured, whether the graph writes it, and whether it
    must hold its current contents first (everything but a destination that only deep copies overwrite)."""

    __slots__ = ("root", "ptr", "writes", "contents")

    def __init__(self, root: Any, writes: bool, contents: bool):
        self.root, self.ptr, self.writes, self.contents = root, 0, writes, contents


class Graph:
    """A recorded sequence of launches; `launch()` replays it (asynchronously on a GPU, like parallel_for).

    Made by `pk.graph()`. `nodes` is the number of recorded launches and copies, `captured` whether it
    replays as one CUDA graph (else the recorded calls run in order)."""

    def __init__(self) -> None:
        self._ops: list[_Launch | _Copy] = []
        self._state = "new"  # new, recording, ready, failed
        self.captured = False
        self._exec: Any = None
        self._backend: Any = None
        self._views: list[_View] = []
        self._after: list[Callable[[], None]] = []
        self._keep: list[Any] = []

    @property
    def nodes(self) -> int:
        return len(self._ops)

    # -------------------------------------------------------------------------------------- recording

    def __enter__(self) -> Graph:
        global recording
        if self._state != "new":
            raise KernelValueError("a graph records once: make a new one with pk.graph()", caller_loc())
        if recording is not None:
            raise KernelValueError("graphs do not nest: this thread is already recording one", caller_loc())
        self._state = "recording"
        recording = Recorder(self)
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        global recording
        rec, recording = recording, None
        if kind is not None or rec is None:
            self._state = "failed"
            return
        self._ops = rec.ops
        try:
            self._build()
        except BaseException:
            self._state = "failed"
            raise
        self._state = "ready"

    def _build(self) -> None:
        launches = [op for op in self._ops if isinstance(op, _Launch)]
        backends = {op.backend.spec_key for op in launches}
        b = launches[0].backend if launches else None
        if b is None or len(backends) != 1 or b.interpreted or config.get().bounds_check:
            return  # replayed in order (and bounds-checked launch by launch)
        if b.capture_available():
            self._capture(b)

    def _capture(self, backend: Backend) -> None:
        place = backend.place
        views: dict[int, _View] = {}
        steps: list[Callable[[int], None]] = []
        specs: dict[tuple, Any] = {}

        def use(root: Any, writes: bool, contents: bool = True) -> None:
            v = views.get(id(root))
            if v is None:
                views[id(root)] = v = _View(root, writes, contents)
            else:
                v.writes |= writes
                v.contents |= contents

        for op in self._ops:
            if isinstance(op, _Copy):
                steps.append(self._capture_copy(backend, op, use))
                continue
            kernel, args = op.kernel, op.args
            for p in kernel.params:
                a = args[p.name]
                if isinstance(a, _native.ViewBase):
                    if type(a) is not _native.ViewBase:  # (a bare description is a GPU array's: no coherence)
                        use(coherence.root_of(a), p.name in kernel.writes)
                elif isinstance(p.type, T.ViewType) and _host_array(a):
                    raise KernelTypeError(
                        f"argument {p.name!r} of a launch recorded in a graph is a {type(a).__name__} in host "
                        "memory: pass a View (or a GPU array); its temporary device copy would not outlive the "
                        "recording",
                        op.loc,
                    )
            staged, after = coherence.stage(args, kernel.params, kernel.writes, place)
            self._after += after  # marks of written subviews
            target = backend.for_launch(op.rec)
            params = tuple(
                param_descriptor(p.name, p.type, args[p.name], p.name in kernel.writes) for p in kernel.params
            )
            key = (id(kernel), op.rec.kind, getattr(target, "team_shape", None), params)
            spec = specs.get(key)
            if spec is None:
                built = pipeline.build(target, kernel)
                guard_tuple = tuple((g.holder, g.key, g.value) for g in op.guards)
                spec = specs[key] = target.make_spec(kernel, built.binary, params, guard_tuple, op.rec)
            steps.append(_kernel_step(backend, spec, op, staged))
            self._keep += [staged, op.kwargs]
        for v in views.values():  # every copy current at its address before the capture, which copies nothing
            coherence.ensure(v.root, place, write=v.writes)
            v.ptr = v.root._dptr
        self._exec = backend.capture(lambda stream: [step(stream) for step in steps])
        self._backend = backend
        self._views = list(views.values())
        self._keep += list(specs.values())
        self.captured = True

    def _capture_copy(self, backend: Backend, op: _Copy, use: Callable[..., None]) -> Callable[[int], None]:
        dst, src = op.dst, op.src
        ok = (
            isinstance(dst, _native.ViewBase)
            and isinstance(src, _native.ViewBase)
            and getattr(dst, "_parent", None) is None
            and getattr(src, "_parent", None) is None
            and dst._array is not None
            and src._array is not None
            and dst._array.dtype == src._array.dtype
            and dst._array.shape == src._array.shape
            and dst._array.strides == src._array.strides
            and (dst._array.flags.c_contiguous or dst._array.flags.f_contiguous)
        )
        if not ok:
            raise KernelTypeError(
                "a graph on the GPU records deep copies between whole Views of the same dtype, shape and layout "
                "(device to device); do other copies outside the `with pk.graph()` block",
                op.loc,
            )
        if dst is src:
            return lambda stream: None
        use(src, False)
        use(dst, True, contents=False)
        nbytes = dst._array.nbytes

        def step(stream: int) -> None:
            backend.queue_copy(dst._dptr, src._dptr, nbytes, stream)

        return step

    # -------------------------------------------------------------------------------------- replay

    def launch(self) -> None:
        """Replay the recorded launches and copies (asynchronously on a GPU; `pk.fence()` waits)."""
        if self._state != "ready":
            why = {"new": "it has recorded nothing yet", "recording": "it is still recording"}.get(
                self._state, "its recording failed"
            )
            raise KernelValueError(f"this graph cannot be launched: {why}", caller_loc())
        if not self.captured:
            self._replay_in_order()
            return
        place = self._backend.place
        for v in self._views:
            root = v.root
            f = root._flags
            if root._dptr != v.ptr or root._dplace != place.code or f & _STALE or (v.writes and f & coherence.MULTI):
                coherence.ensure(root, place, contents=v.contents or not v.writes, write=v.writes)
                if root._dptr != v.ptr:
                    raise KernelRuntimeError(
                        "a View this graph uses has a new device copy since the graph was recorded (its copy was "
                        "released or moved); record the graph again",
                        caller_loc(),
                    )
        self._backend.replay(self._exec)
        for v in self._views:
            if v.writes:
                coherence.mark_written(v.root, place)
        for done in self._after:
            done()

    def _replay_in_order(self) -> None:
        from kernelkit.runtime.launcher import launch

        for op in self._ops:
            if isinstance(op, _Copy):
                op.copy(op.dst, op.src)
            else:
                launch(op.backend, op.wu, op.rec, op.kwargs)

    def __repr__(self) -> str:
        how = "as one CUDA graph" if self.captured else "in order"
        return f"<kernelkit Graph: {self.nodes} launches and copies, {self._state}, replayed {how}>"


def _host_array(a: Any) -> bool:
    if hasattr(a, "__cuda_array_interface__"):
        return False
    dev = dlpack_device(a)
    return dev is None or dev[0] == KDL_CPU


def _kernel_step(backend: Backend, spec: Any, op: _Launch, staged: dict[str, Any]) -> Callable[[int], None]:
    def step(stream: int) -> None:
        r = backend.native([spec], op.rec, staged, stream)
        if r is NotImplemented:
            raise KernelRuntimeError(
                f"internal error: the specialization made for a graph does not accept its launch of "
                f"{op.kernel.name!r}; please report this",
                op.loc,
            )

    return step
