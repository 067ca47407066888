"""kernelkit over MPI, with mpi4py and a real MPI library as the engine (`pip install "kernelkit[mpi]"`).

Views go straight into mpi4py (`comm.Send(view, dest)`, `comm.Allreduce(MPI.IN_PLACE, view)`: host memory,
synchronized with any device copy); the helpers here stay thin and speak mpi4py's terms:

- `init(comm=None)`: the communicator; one GPU per node-local rank; cores shared among a node's ranks;
  `MPI_Abort` on an uncaught exception in any rank.
- `Cart(dims, periods, reorder, comm)`: a Cartesian grid; `block(global_shape)`; `halo_exchange(view, width)`
  for host and device Views, strided halo planes included.
- `allreduce(value, op)` for scalars such as `parallel_reduce` results (`op` may be `pk.Sum`, `pk.Max`, ...).
- `message(view, write=False)`: an mpi4py message for any View or subview (derived datatypes for strided
  ones; device memory when MPI is CUDA-aware: `cuda_aware()`, `set_cuda_aware()`).

Run with a launcher: `mpiexec -n 4 python app.py`. See docs/mpi.md.
"""

from __future__ import annotations

try:
    from mpi4py import MPI
except ImportError as _e:  # pragma: no cover - exercised without the extra installed
    raise ImportError(
        'kernelkit.mpi needs mpi4py and an MPI library: pip install "kernelkit[mpi]" (mpi4py with the MPICH '
        "wheel), or mpi4py built against your system MPI"
    ) from _e

from kernelkit.mpi._buffers import message, reset_stats, stats
from kernelkit.mpi._reduce import allreduce, mpi_op
from kernelkit.mpi._setup import cuda_aware, init, local_rank, set_cuda_aware
from kernelkit.mpi.cart import Cart

__all__ = [
    "MPI",
    "init",
    "local_rank",
    "Cart",
    "allreduce",
    "mpi_op",
    "message",
    "cuda_aware",
    "set_cuda_aware",
    "stats",
    "reset_stats",
]
