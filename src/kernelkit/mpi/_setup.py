"""`init()`: the communicator, one GPU per node-local rank, OpenMP threads per rank, and MPI_Abort on an
uncaught exception; the CUDA-aware probe."""

from __future__ import annotations

import ctypes
import os
import sys
import traceback
from types import TracebackType
from typing import Any

from mpi4py import MPI

from kernelkit import config
from kernelkit.errors import KernelTypeError

__all__ = ["init", "local_rank", "cuda_aware", "set_cuda_aware"]


class _State:
    comm: Any = None  # the communicator init() returned
    local: Any = None  # its node-local part (COMM_TYPE_SHARED)
    hook_installed = False
    previous_hook: Any = None
    cuda_aware: bool | None = None  # set_cuda_aware's override
    probed: bool | None = None  # what the probe found (cached)


_state = _State()


def init(comm: Any = None) -> Any:
    """Set kernelkit up for an MPI program and return its communicator (`MPI.COMM_WORLD` by default).

    Idempotent. On the first call (or a call with another communicator) it

    - splits off the node-local ranks (`comm.Split_type(MPI.COMM_TYPE_SHARED)`) and, where the default space is
      pk.Cuda, gives each its GPU: local rank modulo the number of GPUs (`pk.set_device`); on a CPU-only node
      nothing changes;
    - shares the node's cores among its ranks: each runs `cores // local ranks` OpenMP threads (at least one),
      unless OMP_NUM_THREADS or KERNELKIT_NUM_THREADS says otherwise;
    - installs a `sys.excepthook` that prints an uncaught exception's traceback, prefixed by the rank, and calls
      `MPI_Abort`, so that the whole job ends within seconds instead of the other ranks waiting forever.

    >>> from kernelkit import mpi as kkmpi
    >>> comm = kkmpi.init()
    >>> comm.Get_size() >= 1
    True
    """
    if comm is None:
        comm = _state.comm if _state.comm is not None else MPI.COMM_WORLD
    if not isinstance(comm, MPI.Comm):
        raise KernelTypeError(f"init(comm): expected an mpi4py communicator, got {type(comm).__name__}")
    if _state.comm is not None and comm == _state.comm:
        return comm
    _state.comm = comm
    _state.local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=comm.Get_rank())
    _bind_gpu(_state.local.Get_rank())
    _share_cores(_state.local.Get_size())
    _install_hook()
    return comm


def local_rank() -> tuple[int, int]:
    """(rank among the ranks of this node, number of ranks on this node), after `init()`."""
    if _state.local is None:
        init()
    return _state.local.Get_rank(), _state.local.Get_size()


def _bind_gpu(local: int) -> None:
    from kernelkit.api import spaces

    space = spaces.get_default_space()
    if space.backend_name != "cuda":
        return  # no usable GPU, or the user chose a host space
    from kernelkit.backends.cuda import driver

    count = driver.device_count()
    if count > 0:
        spaces.set_device(local % count)


def _share_cores(local_size: int) -> None:
    if config.get().num_threads_set:
        return
    from kernelkit.api import spaces

    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    spaces.set_num_threads(max(1, cores // max(local_size, 1)))


def _install_hook() -> None:
    if _state.hook_installed:
        return
    _state.previous_hook = sys.excepthook
    sys.excepthook = _abort_on_exception
    _state.hook_installed = True


def _abort_on_exception(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    comm = _state.comm if _state.comm is not None else MPI.COMM_WORLD
    rank, size = MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
    lines = traceback.format_exception(exc_type, exc, tb)
    prefix = f"[rank {rank}] "
    text = "".join(prefix + line for chunk in lines for line in chunk.splitlines(keepends=True))
    sys.stderr.write(
        f"{prefix}kernelkit.mpi: uncaught {exc_type.__name__} on rank {rank} of {size}; calling MPI_Abort\n" + text
    )
    sys.stderr.flush()
    if size > 1 and not MPI.Is_finalized():
        comm.Abort(1)
    # one rank alone: the interpreter exits with status 1 after the hook, as without it


# --- CUDA-aware MPI ---------------------------------------------------------------------------------------


def cuda_aware() -> bool:
    """True when MPI is given device pointers directly (CUDA-aware MPI), False when kernelkit stages device
    data through pinned host buffers.

    Decided by, in order: `set_cuda_aware(flag)`; KERNELKIT_MPI_CUDA_AWARE=1/0; the MPI library's own answer
    (`MPIX_Query_cuda_support()`, which MPICH and Open MPI export); False when the library cannot say."""
    if _state.cuda_aware is not None:
        return _state.cuda_aware
    setting = config.get().mpi_cuda_aware
    if setting is not None:
        return setting
    if _state.probed is None:
        _state.probed = _probe_cuda_support()
    return _state.probed


def set_cuda_aware(flag: bool | None) -> None:
    """Override the CUDA-aware probe (True: pass device pointers to MPI; False: stage through pinned host
    memory; None: ask the probe again)."""
    if flag is not None and not isinstance(flag, bool):
        raise KernelTypeError(f"set_cuda_aware: expected True, False or None, got {flag!r}")
    _state.cuda_aware = flag


def _probe_cuda_support() -> bool:
    for lib in _mpi_libraries():
        fn = getattr(lib, "MPIX_Query_cuda_support", None)
        if fn is not None:
            fn.restype = ctypes.c_int
            fn.argtypes = []
            return bool(fn())
    return False


def _mpi_libraries() -> list[ctypes.CDLL]:
    """The MPI libraries loaded in this process (mpi4py loaded one when it initialized MPI)."""
    paths: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            for line in f:
                path = line.rsplit(None, 1)[-1] if "/" in line else ""
                name = os.path.basename(path)
                if name.startswith("libmpi") and ".so" in name and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    libs = []
    for path in paths:
        try:
            libs.append(ctypes.CDLL(path, mode=getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_GLOBAL))
        except OSError:
            continue
    if not libs:
        libs.append(ctypes.CDLL(None))
    return libs
