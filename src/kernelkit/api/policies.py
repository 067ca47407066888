"""Iteration policies: an int N, RangePolicy, MDRangePolicy (Kokkos names and argument orders)."""

from __future__ import annotations

import operator

from kernelkit import _native
from kernelkit.api.spaces import ExecutionSpace
from kernelkit.errors import KernelTypeError, KernelValueError, caller_loc


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
        kwargs.pop("rank", None)
        if kwargs or len(args) != 2:
            raise KernelTypeError("MDRangePolicy([space,] begin, end, tile=None)", caller_loc())
        begin, end = args
        if not isinstance(begin, (list, tuple)) or not isinstance(end, (list, tuple)):
            raise KernelTypeError("MDRangePolicy begin and end are lists, one entry per dimension", caller_loc())
        if len(begin) != len(end):
            raise KernelValueError(f"MDRangePolicy begin has {len(begin)} entries but end has {len(end)}",
                                   caller_loc())
        if not 2 <= len(begin) <= 6:
            raise KernelValueError(f"MDRangePolicy rank must be 2 to 6, got {len(begin)} (use RangePolicy for 1)",
                                   caller_loc())
        self.space = space
        self.rank = len(begin)
        self.begin = tuple(_int(b, "MDRangePolicy begin") for b in begin)
        self.end = tuple(_int(e, "MDRangePolicy end") for e in end)
        for k, (b, e) in enumerate(zip(self.begin, self.end)):
            if e < b:
                raise KernelValueError(f"MDRangePolicy dimension {k}: end ({e}) is before begin ({b})", caller_loc())
        if tile is not None:
            if len(tile) != self.rank:
                raise KernelValueError(f"MDRangePolicy tile has {len(tile)} entries for rank {self.rank}",
                                       caller_loc())
            tile = tuple(_int(t, "tile size") for t in tile)
            if any(t < 1 for t in tile):
                raise KernelValueError(f"MDRangePolicy tile sizes must be positive, got {tile}", caller_loc())
        self.tile = tile

    def __repr__(self) -> str:
        return f"MDRangePolicy({self.space!r}, {list(self.begin)}, {list(self.end)}, tile={self.tile})"


RangePolicy.__init__ = _native.clean(RangePolicy.__init__)  # type: ignore[method-assign]
MDRangePolicy.__init__ = _native.clean(MDRangePolicy.__init__)  # type: ignore[method-assign]
