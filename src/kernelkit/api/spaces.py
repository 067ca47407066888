"""Execution spaces: where a kernel runs. Kokkos names, PyKokkos spellings (`pk.OpenMP`,
`pk.ExecutionSpace.OpenMP`)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from kernelkit import _native, config
from kernelkit.backends import base
from kernelkit.errors import KernelTypeError, KernelValueError, SpaceUnavailable

_BY_NAME_LATE: dict = {}  # filled below, once the spaces exist


class ExecutionSpace:
    """An execution space. `pk.Cuda(1)` names the second GPU."""

    __slots__ = ("name", "backend_name", "device_id", "_backend", "stream")

    def __new__(cls, name, backend_name=None, device_id: int = 0):
        # PyKokkos spells a lookup by name as a constructor: pk.ExecutionSpace("OpenMP")
        if isinstance(name, str) and backend_name is None and name.lower() in _BY_NAME_LATE:
            return _BY_NAME_LATE[name.lower()]
        return super().__new__(cls)

    def __init__(self, name: str, backend_name: str | None = None, device_id: int = 0):
        if backend_name is None and isinstance(name, str) and name.lower() in _BY_NAME_LATE:
            return  # a lookup by name returned an existing space
        self.name = name
        self.backend_name = backend_name
        self.device_id = device_id
        self._backend = None
        self.stream = None  # an execution space instance's stream (kernelkit.backends.cuda.driver.Stream)

    def __call__(self, device_id: int = 0) -> ExecutionSpace:
        if self.backend_name != "cuda":
            raise KernelTypeError(f"pk.{self.name} takes no device id")
        return ExecutionSpace(self.name, self.backend_name, int(device_id))

    @property
    def backend(self) -> base.Backend:
        b = self._backend
        if b is None:
            if self.backend_name is None:
                return get_default_space().backend
            b = base.get(self.backend_name)
            if self.device_id:
                b = b.for_device(self.device_id)
            ok, why = b.available()
            if not ok:
                raise SpaceUnavailable(f"pk.{self.name} is not available here: {why}")
            self._backend = b
        return b

    def available(self) -> bool:
        if self.backend_name is None:
            return True
        try:
            return base.get(self.backend_name).available()[0]
        except Exception:  # an optional backend that fails to import is simply unavailable
            return False

    def __repr__(self) -> str:
        s = f"pk.{self.name}" + (f"({self.device_id})" if self.device_id else "")
        return s if self.stream is None else f"pk.ExecutionSpaceInstance({s}, stream={self.stream.handle:#x})"

    def __eq__(self, other) -> bool:
        return isinstance(other, ExecutionSpace) and (self.backend_name, self.device_id, id(self.stream)) == (
            other.backend_name,
            other.device_id,
            id(other.stream),
        )

    def __hash__(self) -> int:
        return hash((self.backend_name, self.device_id, id(self.stream)))

    def fence(self) -> None:
        """Wait for the work launched on this space (on an instance: on its stream only)."""
        self.backend.fence()


Debug = ExecutionSpace("Debug", "debug")
Serial = ExecutionSpace("Serial", "serial")
OpenMP = ExecutionSpace("OpenMP", "openmp")
Threads = OpenMP
Cuda = ExecutionSpace("Cuda", "cuda")
Default = ExecutionSpace("Default", None)
CudaCheck = ExecutionSpace("CudaCheck", "cudacheck")  # compile for CUDA with NVRTC, run on OpenMP (for CI)

for _s in (Debug, Serial, OpenMP, Cuda, Default):
    setattr(ExecutionSpace, _s.name, _s)
ExecutionSpace.Threads = OpenMP  # type: ignore[attr-defined]

_BY_NAME = {
    "debug": Debug,
    "serial": Serial,
    "openmp": OpenMP,
    "threads": OpenMP,
    "cuda": Cuda,
    "cudacheck": CudaCheck,
    "default": Default,
}
_BY_NAME_LATE.update(_BY_NAME)
# The process default space. `_default[0]` is also the launch fast path's cache (api/patterns.py reads it
# directly), so while any thread is inside a `space_scope` it is held at None and every launch that names no
# space asks `get_default_space()`, which consults the thread's scope first. `_process[0]` keeps the process
# default meanwhile. Writers take `_scope_lock`; readers take no lock.
_default: list[ExecutionSpace | None] = [None]
_process: list[ExecutionSpace | None] = [None]
_scopes = [0]  # threads inside a space_scope
_scope_lock = threading.Lock()


class _Local(threading.local):
    space: ExecutionSpace | None = None  # this thread's innermost scope


_local = _Local()


def ExecutionSpaceInstance(space, stream=None) -> ExecutionSpace:
    """An execution space whose launches go to their own stream: `pk.ExecutionSpaceInstance(pk.Cuda)` makes a
    stream, `pk.ExecutionSpaceInstance(pk.Cuda, s)` adopts one (a CUstream handle, a CuPy or PyTorch stream).
    Launches are asynchronous on it; a reduction returns its value (synchronizing that stream); `inst.fence()`
    waits for it and `pk.fence()` for everything. Host spaces have no streams: their instances are the space."""
    space = space_from(space)
    if space.backend_name != "cuda":
        return space
    from kernelkit.backends.cuda import driver

    base_backend = space.backend
    if stream is None:
        s = driver.Stream(space.device_id)
    else:
        s = driver.Stream.wrap(stream, space.device_id)
    inst = ExecutionSpace(space.name, space.backend_name, space.device_id)
    inst.stream = s
    inst._backend = base_backend.with_stream(s.handle)
    return inst


def set_device(device_id: int) -> None:
    """Make GPU `device_id` the default space's device (pk.Cuda(device_id))."""
    set_default_space(Cuda(int(device_id)))


def space_from(obj) -> ExecutionSpace:
    if isinstance(obj, ExecutionSpace):
        return obj
    if isinstance(obj, str) and obj.lower() in _BY_NAME:
        return _BY_NAME[obj.lower()]
    raise KernelValueError(f"unknown execution space {obj!r}; known: {', '.join(sorted(_BY_NAME))}")


def get_default_space() -> ExecutionSpace:
    """The space used when a policy names none: the thread's `space_scope` if any, else KERNELKIT_SPACE, else
    Cuda when a GPU is usable, else OpenMP."""
    s = _default[0]
    if s is not None:
        return s
    if _scopes[0]:  # some thread is in a scope: this thread's scope, else the process default
        s = _local.space
        if s is not None:
            return s
        s = _process[0]
        if s is not None:
            return s
    s = _process[0]
    if s is None:
        name = config.get().space
        if name:
            s = space_from(name)
        else:
            s = Cuda if Cuda.available() else OpenMP
    with _scope_lock:
        if _process[0] is None:
            _process[0] = s
        if not _scopes[0]:
            _default[0] = _process[0]
        return _process[0]


def set_default_space(space) -> None:
    s = space_from(space)
    if s is Default:  # pk.Default means "the default": resolve it now, never store it
        s = get_default_space()
    with _scope_lock:
        _process[0] = s
        if not _scopes[0]:
            _default[0] = s


@contextlib.contextmanager
def space_scope(space) -> Iterator[ExecutionSpace]:
    """Make `space` the default space of this thread inside the block (launches that name no space run there;
    other threads keep theirs). The task runtime runs each task body in the scope of its device.

    >>> with space_scope(pk.Serial):
    ...     pk.parallel_for(n, axpy, a=2.0, x=x, y=y)   # runs on pk.Serial
    """
    s = space_from(space)
    if s is Default:
        s = get_default_space()
    outer = _local.space
    _local.space = s
    with _scope_lock:
        if not _scopes[0] and _default[0] is not None:
            _process[0] = _default[0]  # unscoped, the cache is the truth (pk.execute writes it directly)
        _scopes[0] += 1
        _default[0] = None
    try:
        yield s
    finally:
        with _scope_lock:
            _scopes[0] -= 1
            if not _scopes[0]:
                _default[0] = _process[0]
        _local.space = outer


def set_num_threads(n: int) -> None:
    """Threads used by pk.OpenMP launches (default: OMP_NUM_THREADS, else every core available)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise KernelValueError(f"the number of threads must be a positive int, got {n!r}")
    _native.set_num_threads(n)


def get_num_threads() -> int:
    return _native.get_num_threads()


_native.set_num_threads(config.get().num_threads)
