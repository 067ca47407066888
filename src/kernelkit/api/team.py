"""Hierarchical parallelism: TeamPolicy, the nested ranges, single, and scratch memory (Kokkos names).

A TeamPolicy launches `league_size` teams of `team_size` threads, each with `vector_length` vector lanes. The
workunit takes a `pk.TeamMember` first. Inside it, nested `pk.parallel_for/reduce/scan` over
`pk.TeamThreadRange(team, n)` (split across the team's threads), `pk.ThreadVectorRange(team, n)` (across one
thread's vector lanes), `pk.TeamVectorRange(team, n)` (across all lanes of the team) or
`pk.TeamThreadMDRange(team, n0, n1[, n2])` run nested workunits written as inner `def`s, which capture the
enclosing locals. The range objects and `single` only mean something inside kernels; the compiler translates
them. Outside kernels they raise.
"""

from __future__ import annotations

import operator

from kernelkit import _native
from kernelkit.api.spaces import ExecutionSpace
from kernelkit.errors import KernelTypeError, KernelValueError, caller_loc
from kernelkit.ir import types as T


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


def _count(v, what: str) -> int:
    try:
        n = operator.index(v)
    except TypeError:
        raise KernelTypeError(f"{what} must be an integer, got {type(v).__name__}", caller_loc()) from None
    if n < 0:
        raise KernelValueError(f"{what} must be >= 0, got {n}", caller_loc())
    return n


class TeamPolicy:
    """`TeamPolicy([space,] league_size, team_size | pk.AUTO [, vector_length])`.

    >>> policy = pk.TeamPolicy(pk.OpenMP, E, pk.AUTO, M).set_scratch_size(0, pk.PerTeam(1024))
    """

    __slots__ = ("space", "league_size", "team_size", "vector_length", "scratch_team", "scratch_thread")

    def __init__(self, *args, **kwargs):
        args = list(args)
        space = kwargs.pop("space", None)
        if args and isinstance(args[0], ExecutionSpace):
            space = args.pop(0)
        if "league_size" in kwargs:
            args.insert(0, kwargs.pop("league_size"))
        if "team_size" in kwargs:
            args.append(kwargs.pop("team_size"))
        vector_length = kwargs.pop("vector_length", None)
        if kwargs:
            raise KernelTypeError(f"TeamPolicy got unexpected arguments {sorted(kwargs)}", caller_loc())
        if len(args) == 3 and vector_length is None:
            vector_length = args.pop()
        if len(args) == 1:
            args.append(AUTO)
        if len(args) != 2:
            raise KernelTypeError("TeamPolicy([space,] league_size, team_size | pk.AUTO [, vector_length])",
                                  caller_loc())
        self.space = space
        self.league_size = _count(args[0], "league_size")
        ts = args[1]
        self.team_size = ts if ts is AUTO else _count(ts, "team_size")
        if self.team_size == 0:
            raise KernelValueError("team_size must be >= 1 (or pk.AUTO)", caller_loc())
        vl = 1 if vector_length is None or vector_length is AUTO else _count(vector_length, "vector_length")
        if vl < 1 or vl & (vl - 1):
            raise KernelValueError(f"vector_length must be a power of two, got {vl}", caller_loc())
        self.vector_length = vl
        self.scratch_team = [0, 0]
        self.scratch_thread = [0, 0]

    def set_scratch_size(self, level: int, *sizes) -> TeamPolicy:
        """Request scratch memory: `set_scratch_size(level, pk.PerTeam(bytes) [, pk.PerThread(bytes)])`."""
        if level not in (0, 1):
            raise KernelValueError(f"scratch level must be 0 or 1, got {level!r}", caller_loc())
        for s in sizes:
            if isinstance(s, PerThread):
                self.scratch_thread[level] = _count(s.value, "PerThread scratch bytes")
            elif isinstance(s, PerTeam):
                self.scratch_team[level] = _count(s.value, "PerTeam scratch bytes")
            else:
                raise KernelTypeError(f"set_scratch_size takes pk.PerTeam(bytes) / pk.PerThread(bytes), got {s!r}",
                                      caller_loc())
        return self

    def team_size_recommended(self, *args) -> int:
        return 1 if self.team_size is AUTO else self.team_size

    def __repr__(self) -> str:
        return (f"TeamPolicy({self.space!r}, {self.league_size}, {self.team_size!r}, {self.vector_length})"
                + (f" scratch team={self.scratch_team} thread={self.scratch_thread}"
                   if any(self.scratch_team + self.scratch_thread) else ""))


TeamPolicy.__init__ = _native.clean(TeamPolicy.__init__)  # type: ignore[method-assign]
TeamPolicy.set_scratch_size = _native.clean(TeamPolicy.set_scratch_size)  # type: ignore[method-assign]


class TeamMember:
    """The annotation of a team workunit's first parameter (`def f(team: pk.TeamMember, ...)`)."""

    _kk_annotation = T.team


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

NESTED_RANGES = {TeamThreadRange: "thread", ThreadVectorRange: "vector", TeamVectorRange: "teamvector",
                 TeamThreadMDRange: "thread", TeamVectorMDRange: "teamvector"}
MD_RANGES = (TeamThreadMDRange, TeamVectorMDRange)


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
            raise KernelTypeError("give the element type first: pk.ScratchView1D[pk.double].shmem_size(n)",
                                  caller_loc())
        if len(extents) != self.rank:
            raise KernelValueError(f"ScratchView{self.rank}D needs {self.rank} extents", caller_loc())
        n = 1
        for e in extents:
            n *= _count(e, "extent")
        return (n * self.dtype.itemsize + 7) // 8 * 8  # each scratch allocation is 8-byte aligned

    def __call__(self, *args):
        raise KernelTypeError("ScratchViews are created inside TeamPolicy workunits", caller_loc())

    def __repr__(self) -> str:
        return f"pk.ScratchView{self.rank}D[{self.dtype!r}]"


ScratchView1D = ScratchViewType(1)
ScratchView2D = ScratchViewType(2)
ScratchView3D = ScratchViewType(3)
