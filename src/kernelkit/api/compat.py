"""PyKokkos compatibility names that need no compiler support.

- `Timer` (Kokkos::Timer): `seconds()` since construction or the last `reset()`.
- `initialize()` / `finalize()`: accepted and harmless (kernelkit needs no global set-up; `finalize` fences).
- `set_default_precision(dtype)` / `get_default_precision()`: the type `pk.real` names. `pk.real` is float64
  unless set; setting it rebinds `pk.real`, so call it at the start of the program, before kernels that use
  `pk.real` are defined or launched and before Views are created with it (a value read earlier, e.g. by
  `from kernelkit import real`, keeps the old type).
- `ViewTypeInfo(space=, layout=, trait=)`: the record PyKokkos passes in decorator keywords
  (`@pk.workload(x=pk.ViewTypeInfo(layout=pk.LayoutRight))`); the decorators store it.
- `DataTypeClass`: the type of `pk.int32`, `pk.double`, ... (PyKokkos annotates dtype parameters with it);
  `DataType`: the same types by name (`pk.DataType.int32 is pk.int32`).
"""

from __future__ import annotations

import enum
import math
import sys
import time
from dataclasses import dataclass
from typing import Any

from kernelkit.api.patterns import fence
from kernelkit.errors import KernelValueError
from kernelkit.ir import types as _types

__all__ = [
    "Iterate",
    "Rank",
    "DataType",
    "DataTypeClass",
    "e",
    "inf",
    "nan",
    "pi",
    "result_type",
    "Timer",
    "ViewTypeInfo",
    "finalize",
    "get_default_precision",
    "initialize",
    "is_initialized",
    "set_default_precision",
]


# --------------------------------------------------------------------------------------------------- Timer


class Timer:
    """Wall-clock timer (Kokkos::Timer). It does not fence: call `pk.fence()` before reading it after
    asynchronous (GPU) launches.

    >>> t = Timer(); t.seconds() >= 0.0
    True
    """

    __slots__ = ("_start",)

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def seconds(self) -> float:
        """Seconds elapsed since the timer was created or last reset."""
        return time.perf_counter() - self._start

    def reset(self) -> None:
        """Restart the timer at zero."""
        self._start = time.perf_counter()

    def __repr__(self) -> str:
        return f"pk.Timer({self.seconds():.6f} s)"


# --------------------------------------------------------------------------------- initialize / finalize

_state = {"initialized": False}


def initialize(*args: Any, **kwargs: Any) -> None:
    """Accepted for PyKokkos/Kokkos compatibility; kernelkit needs no set-up (importing it starts nothing).
    Arguments (Kokkos' `--kokkos-num-threads=...` style or keywords) are ignored."""
    _state["initialized"] = True


def finalize() -> None:
    """Accepted for compatibility: waits for outstanding work (`pk.fence()`); kernelkit keeps working
    after it."""
    try:
        fence()
    finally:
        _state["initialized"] = False


def is_initialized() -> bool:
    """True between `initialize()` and `finalize()` (informational only: kernelkit works either way)."""
    return _state["initialized"]


# --------------------------------------------------------------------------------------------- precision

_precision = [_types.float64]


def set_default_precision(dtype: object) -> None:
    """Make `pk.real` name `dtype` (pk.float32 / pk.float or pk.float64 / pk.double).

    PyKokkos programs call this once at start-up; do the same here: `pk.real` is rebound, so kernels and
    Views that read `pk.real` afterwards see the new type."""
    st = _types.as_scalar_type(dtype)
    if st not in (_types.float32, _types.float64):
        raise KernelValueError(f"the default precision must be pk.float32 or pk.float64, got {st!r}")
    _precision[0] = st
    pkg = sys.modules.get("kernelkit")
    if pkg is not None:
        pkg.real = st  # type: ignore[attr-defined]


def get_default_precision() -> _types.ScalarType:
    """The type `pk.real` names: float64 unless `set_default_precision` changed it."""
    return _precision[0]


# ---------------------------------------------------------------------------------------------- ViewTypeInfo


@dataclass(frozen=True)
class ViewTypeInfo:
    """Layout, memory space and trait of a member View, given in decorator keywords as PyKokkos does:
    `@pk.workunit(x=pk.ViewTypeInfo(layout=pk.LayoutLeft))`. kernelkit takes the layout from the View itself
    (each layout gets its own specialization), so the record is stored, not needed."""

    space: Any = None
    layout: Any = None
    trait: Any = None

    def __repr__(self) -> str:
        fields = (("space", self.space), ("layout", self.layout), ("trait", self.trait))
        parts = [f"{k}={v!r}" for k, v in fields if v is not None]
        return f"pk.ViewTypeInfo({', '.join(parts)})"


# ------------------------------------------------------------------------------------------------- dtypes

DataTypeClass = _types.ScalarType
"""The class of kernelkit's element types: `isinstance(pk.int32, pk.DataTypeClass)`."""


class DataType:
    """PyKokkos' `pk.DataType.<name>`: the element types by name (`pk.DataType.double is pk.float64`; as in
    PyKokkos, `float` is float32).

    >>> DataType.int32 is _types.int32, DataType.float is _types.float32
    (True, True)
    """

    int8, int16, int32, int64 = _types.int8, _types.int16, _types.int32, _types.int64
    uint8, uint16, uint32, uint64 = _types.uint8, _types.uint16, _types.uint32, _types.uint64
    float32, float64, double = _types.float32, _types.float64, _types.float64
    float = _types.float32  # noqa: A003 - PyKokkos' name
    bool = _types.bool_  # noqa: A003


def result_type(*types: object) -> _types.ScalarType:
    """The element type arithmetic in kernels gives these types or Views (kernelkit's promotion rules).

    >>> result_type(_types.uint8, _types.uint16), result_type(_types.float32, _types.int64)
    (pk.uint16, pk.float64)
    """
    if not types:
        raise KernelValueError("result_type() needs at least one type or View")
    sts = [_types.as_scalar_type(getattr(t, "dtype", t)) for t in types]
    out = sts[0]
    for st in sts[1:]:
        out = _types.promote(out, st)
    return out


e, pi, inf, nan = math.e, math.pi, math.inf, math.nan  # PyKokkos' constants (plain floats: usable in kernels)


class Iterate(enum.Enum):
    """Kokkos' iteration orders for `pk.Rank` (accepted; kernelkit picks the order by the Views' layouts)."""

    Default = "Default"
    Left = "Left"
    Right = "Right"


@dataclass(frozen=True)
class Rank:
    """`pk.MDRangePolicy(begin, end, tile, rank=pk.Rank(2, pk.Iterate.Left, pk.Iterate.Right))`: recorded and
    accepted, as the iteration order changes speed, never results."""

    n: int
    outer: Iterate = Iterate.Default
    inner: Iterate = Iterate.Default
