"""Hierarchical parallelism inside kernels: the nested ranges, `single`, scratch memory (Kokkos names).

A team workunit takes a `pk.TeamMember` first. Inside it, nested `pk.parallel_for/reduce/scan` over
`pk.TeamThreadRange(team, n)` (split across the team's threads), `pk.ThreadVectorRange(team, n)` (across one
thread's vector lanes), `pk.TeamVectorRange(team, n)` (across all lanes of the team) or
`pk.TeamThreadMDRange(team, n0, n1[, n2])` run nested workunits written as inner `def`s, which capture the
enclosing locals. The range objects and `single` only mean something inside kernels, where the compiler
translates them; outside kernels they raise. The launch policy, `pk.TeamPolicy`, is host-side (api/policies.py).
"""

from __future__ import annotations

import operator

from kernelkit.errors import KernelTypeError, KernelValueError, caller_loc
from kernelkit.ir import types as T
from kernelkit.lang import registry


class _Auto:
    """pk.AUTO: let kernelkit choose the team size (1 on the host; from the kernel's resources on CUDA)."""

    def __repr__(self) -> str:
        return "pk.AUTO"


AUTO = _Auto()


class PerTeam:
    """`PerTeam(bytes)` in `set_scratch_size`; `PerTeam(team)` in `pk.single` inside kernels."""

    def __init__(self, value):
        self.value = value

    def __repr__(self) -> str:
        return f"pk.PerTeam({self.value!r})"


class PerThread(PerTeam):
    """`PerThread(bytes)` in `set_scratch_size`; `PerThread(team)` in `pk.single` inside kernels."""

    def __repr__(self) -> str:
        return f"pk.PerThread({self.value!r})"


class TeamMember:
    """The annotation of a team workunit's first parameter (`def f(team: pk.TeamMember, ...)`)."""

    _kk_annotation = T.team


def count(v, what: str) -> int:
    """A non-negative integer argument (league size, team size, scratch bytes, extents)."""
    try:
        n = operator.index(v)
    except TypeError:
        raise KernelTypeError(f"{what} must be an integer, got {type(v).__name__}", caller_loc()) from None
    if n < 0:
        raise KernelValueError(f"{what} must be >= 0, got {n}", caller_loc())
    return n


def _kernel_only(name: str):
    def fn(*args, **kwargs):
        raise KernelTypeError(f"pk.{name}(...) is only meaningful inside a TeamPolicy workunit", caller_loc())

    fn.__name__ = fn.__qualname__ = name
    return fn


TeamThreadRange = _kernel_only("TeamThreadRange")
ThreadVectorRange = _kernel_only("ThreadVectorRange")
TeamVectorRange = _kernel_only("TeamVectorRange")
TeamThreadMDRange = _kernel_only("TeamThreadMDRange")
TeamVectorMDRange = _kernel_only("TeamVectorMDRange")
single = _kernel_only("single")


class ScratchViewType:
    """`pk.ScratchView1D[pk.double]`: in kernels, `pk.ScratchView1D[pk.double](team.team_scratch(0), n)`;
    outside, `.shmem_size(n)` gives the bytes to request with `set_scratch_size`."""

    def __init__(self, rank: int, dtype: T.ScalarType | None = None):
        self.rank = rank
        self.dtype = dtype

    def __getitem__(self, dtype) -> ScratchViewType:
        return ScratchViewType(self.rank, T.as_scalar_type(dtype))

    def shmem_size(self, *extents) -> int:
        if self.dtype is None:
            raise KernelTypeError(
                "give the element type first: pk.ScratchView1D[pk.double].shmem_size(n)", caller_loc()
            )
        if len(extents) != self.rank:
            raise KernelValueError(f"ScratchView{self.rank}D needs {self.rank} extents", caller_loc())
        n = 1
        for e in extents:
            n *= count(e, "extent")
        return (n * self.dtype.itemsize + 7) // 8 * 8  # each scratch allocation is 8-byte aligned

    def __call__(self, *args):
        raise KernelTypeError("ScratchViews are created inside TeamPolicy workunits", caller_loc())

    def __repr__(self) -> str:
        return f"pk.ScratchView{self.rank}D[{self.dtype!r}]"


ScratchView1D = ScratchViewType(1)
ScratchView2D = ScratchViewType(2)
ScratchView3D = ScratchViewType(3)

# the nested ranges: kind "range" or "mdrange", named by the level they split
registry.register(TeamThreadRange, "range", "thread")
registry.register(ThreadVectorRange, "range", "vector")
registry.register(TeamVectorRange, "range", "teamvector")
registry.register(TeamThreadMDRange, "mdrange", "thread")
registry.register(TeamVectorMDRange, "mdrange", "teamvector")
registry.register(single, "single", "single")
registry.register(PerTeam, "per", "team")
registry.register(PerThread, "per", "thread")
registry.register_type(ScratchViewType, "scratch_view")
