"""`allreduce(value, op)`: a scalar (a `parallel_reduce` result) combined over the ranks."""

from __future__ import annotations

from typing import Any

import numpy as np
from mpi4py import MPI

from kernelkit.api.reducers import Reducer
from kernelkit.errors import KernelTypeError, KernelValueError
from kernelkit.mpi._setup import _state

__all__ = ["allreduce", "mpi_op"]

_OPS = {
    "Sum": MPI.SUM,
    "Prod": MPI.PROD,
    "Min": MPI.MIN,
    "Max": MPI.MAX,
    "MinLoc": MPI.MINLOC,
    "MaxLoc": MPI.MAXLOC,
    "LAnd": MPI.LAND,
    "LOr": MPI.LOR,
    "BAnd": MPI.BAND,
    "BOr": MPI.BOR,
}
_FLOAT_OPS = (MPI.SUM, MPI.PROD, MPI.MIN, MPI.MAX)


def mpi_op(op: Any) -> MPI.Op:
    """The MPI operation for an mpi4py op or a kernelkit reducer (pk.Sum, pk.Max, ...)."""
    if isinstance(op, MPI.Op):
        return op
    if isinstance(op, Reducer):
        return _OPS[op.name]
    if isinstance(op, type) and issubclass(op, Reducer):  # pragma: no cover - reducers are instances today
        raise KernelTypeError("pass the reducer object (pk.Sum), not its class")
    raise KernelTypeError(f"allreduce(op=...): expected an mpi4py op or a kernelkit reducer, got {op!r}")


def allreduce(value: Any, op: Any = MPI.SUM, comm: Any = None) -> Any:
    """Combine a scalar over all ranks of `comm` (default: `init()`'s communicator, else COMM_WORLD).

    `op` is an mpi4py op (`MPI.SUM`, `MPI.MAX`, ...) or a kernelkit reducer (`pk.Sum`, `pk.Prod`, `pk.Min`,
    `pk.Max`, `pk.MinLoc`/`pk.MaxLoc` on `(value, index)` pairs, `pk.LAnd`, `pk.LOr`, `pk.BAnd`, `pk.BOr`).
    Floats travel as float64 through `comm.Allreduce`; Python and NumPy ints stay exact ints (any size).

    >>> from kernelkit import mpi as kkmpi
    >>> kkmpi.allreduce(1)  # the number of ranks
    1
    """
    if comm is None:
        comm = _state.comm if _state.comm is not None else MPI.COMM_WORLD
    mop = mpi_op(op)
    if mop in (MPI.MINLOC, MPI.MAXLOC):
        if not (isinstance(value, tuple) and len(value) == 2):
            raise KernelTypeError(f"allreduce with {op!r} takes a (value, index) pair, got {value!r}")
        v, loc = value
        return comm.allreduce((_python_scalar(v), int(loc)), op=mop)
    v = _python_scalar(value)
    if isinstance(v, float) and mop in _FLOAT_OPS:
        send = np.array([v])
        recv = np.empty(1)
        comm.Allreduce(send, recv, op=mop)
        return float(recv[0])
    if isinstance(v, float) and mop not in _FLOAT_OPS:
        raise KernelValueError(f"allreduce: {op!r} does not apply to floats")
    return comm.allreduce(v, op=mop)


def _python_scalar(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    raise KernelTypeError(
        f"allreduce() takes a scalar (int, float or bool), got {type(value).__name__}; for arrays and Views use "
        "comm.Allreduce(MPI.IN_PLACE, view)"
    )
