"""Launch policies: an int N, RangePolicy, MDRangePolicy, TeamPolicy (Kokkos names and argument orders).

The in-kernel side of hierarchical parallelism (nested ranges, single, scratch views) is kernelkit.lang.team.
"""

from __future__ import annotations

import operator

from kernelkit import _native
from kernelkit.api.spaces import ExecutionSpace
from kernelkit.errors import KernelTypeError, KernelValueError, caller_loc
from kernelkit.lang.team import AUTO, PerTeam, PerThread, count


def _int(v, what: str) -> int:
    try:
        return operator.index(v)
    except TypeError:
        raise KernelTypeError(f"{what} must be an integer, got {type(v).__name__}", caller_loc()) from None


class RangePolicy:
    """`RangePolicy([space,] begin, end)`: the indices begin <= i < end.

    >>> pk.parallel_for(pk.RangePolicy(pk.OpenMP, 0, n), axpy, a=2.0, x=x, y=y)
    """

    __slots__ = ("space", "begin", "end")
    rank = 1

    def __init__(self, *args, **kwargs):
        space = kwargs.pop("space", None)
        args = list(args)
        if args and isinstance(args[0], ExecutionSpace):
            space = args.pop(0)
        begin = kwargs.pop("begin", None)
        end = kwargs.pop("end", None)
        kwargs.pop("chunk_size", None)
        if kwargs:
            raise KernelTypeError(f"RangePolicy got unexpected arguments {sorted(kwargs)}", caller_loc())
        if len(args) == 2:
            begin, end = args
        elif len(args) == 1:
            begin, end = (0, args[0]) if end is None else (args[0], end)
        elif args:
            raise KernelTypeError("RangePolicy([space,] begin, end)", caller_loc())
        if end is None:
            raise KernelTypeError("RangePolicy needs an end", caller_loc())
        self.space = space
        self.begin = _int(0 if begin is None else begin, "RangePolicy begin")
        self.end = _int(end, "RangePolicy end")
        if self.end < self.begin:
            raise KernelValueError(f"RangePolicy end ({self.end}) is before begin ({self.begin})", caller_loc())

    def __repr__(self) -> str:
        return f"RangePolicy({self.space!r}, {self.begin}, {self.end})"


class MDRangePolicy:
    """`MDRangePolicy([space,] begin, end, tile=None)` for ranks 2 to 6: one index per dimension."""

    __slots__ = ("space", "begin", "end", "tile", "rank")

    def __init__(self, *args, tile=None, space=None, **kwargs):
        args = list(args)
        if args and isinstance(args[0], ExecutionSpace):
            space = args.pop(0)
        if "begin" in kwargs:
            args.insert(0, kwargs.pop("begin"))
        if "end" in kwargs:
            args.append(kwargs.pop("end"))
        kwargs.pop("rank", None)  # pk.Rank(n, outer, inner): Kokkos' iteration order, which results never depend on
        if len(args) == 3 and tile is None:  # PyKokkos: MDRangePolicy(begin, end, tile)
            tile = args.pop()
        if kwargs or len(args) != 2:
            raise KernelTypeError("MDRangePolicy([space,] begin, end, tile=None)", caller_loc())
        begin, end = args
        if not isinstance(begin, (list, tuple)) or not isinstance(end, (list, tuple)):
            raise KernelTypeError("MDRangePolicy begin and end are lists, one entry per dimension", caller_loc())
        if len(begin) != len(end):
            raise KernelValueError(f"MDRangePolicy begin has {len(begin)} entries but end has {len(end)}", caller_loc())
        if not 2 <= len(begin) <= 6:
            raise KernelValueError(
                f"MDRangePolicy rank must be 2 to 6, got {len(begin)} (use RangePolicy for 1)", caller_loc()
            )
        self.space = space
        self.rank = len(begin)
        self.begin = tuple(_int(b, "MDRangePolicy begin") for b in begin)
        self.end = tuple(_int(e, "MDRangePolicy end") for e in end)
        for k, (b, e) in enumerate(zip(self.begin, self.end, strict=True)):
            if e < b:
                raise KernelValueError(f"MDRangePolicy dimension {k}: end ({e}) is before begin ({b})", caller_loc())
        if tile is not None:
            if len(tile) != self.rank:
                raise KernelValueError(f"MDRangePolicy tile has {len(tile)} entries for rank {self.rank}", caller_loc())
            tile = tuple(_int(t, "tile size") for t in tile)
            if any(t < 1 for t in tile):
                raise KernelValueError(f"MDRangePolicy tile sizes must be positive, got {tile}", caller_loc())
        self.tile = tile

    def __repr__(self) -> str:
        return f"MDRangePolicy({self.space!r}, {list(self.begin)}, {list(self.end)}, tile={self.tile})"


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
        elif args and isinstance(args[-1], ExecutionSpace):  # PyKokkos also takes the space last
            space = args.pop()
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
            raise KernelTypeError(
                "TeamPolicy([space,] league_size, team_size | pk.AUTO [, vector_length])", caller_loc()
            )
        self.space = space
        self.league_size = count(args[0], "league_size")
        ts = args[1]
        if isinstance(ts, str) and ts.lower() == "auto":  # PyKokkos accepts the word as well as pk.AUTO
            ts = AUTO
        if isinstance(vector_length, str) and vector_length.lower() == "auto":
            vector_length = AUTO
        self.team_size = ts if ts is AUTO else count(ts, "team_size")
        if self.team_size == 0:
            raise KernelValueError("team_size must be >= 1 (or pk.AUTO)", caller_loc())
        vl = 1 if vector_length is None or vector_length is AUTO else count(vector_length, "vector_length")
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
                self.scratch_thread[level] = count(s.value, "PerThread scratch bytes")
            elif isinstance(s, PerTeam):
                self.scratch_team[level] = count(s.value, "PerTeam scratch bytes")
            else:
                raise KernelTypeError(
                    f"set_scratch_size takes pk.PerTeam(bytes) / pk.PerThread(bytes), got {s!r}", caller_loc()
                )
        return self

    def team_size_recommended(self, *args) -> int:
        return 1 if self.team_size is AUTO else self.team_size

    def __repr__(self) -> str:
        return f"TeamPolicy({self.space!r}, {self.league_size}, {self.team_size!r}, {self.vector_length})" + (
            f" scratch team={self.scratch_team} thread={self.scratch_thread}"
            if any(self.scratch_team + self.scratch_thread)
            else ""
        )


RangePolicy.__init__ = _native.clean(RangePolicy.__init__)  # type: ignore[method-assign]
MDRangePolicy.__init__ = _native.clean(MDRangePolicy.__init__)  # type: ignore[method-assign]
TeamPolicy.__init__ = _native.clean(TeamPolicy.__init__)  # type: ignore[method-assign]
TeamPolicy.set_scratch_size = _native.clean(TeamPolicy.set_scratch_size)  # type: ignore[method-assign]
