"""Reducers: the identity and the join of a parallel_reduce, as in Kokkos.

The workunit updates its accumulator itself (`acc += x[i]`, `acc = max(acc, x[i])`,
`if x[i] < acc.val: acc.val = x[i]; acc.loc = i`); the reducer says what each thread's accumulator starts from
and how partial results combine. The same definitions exist in C++ in include/kernelkit/reducers.h.
"""

from __future__ import annotations

import math

from kernelkit.ir import types as T
from kernelkit.lang import registry


class Reducer:
    """One of pk.Sum, Prod, Min, Max, MinLoc, MaxLoc, LAnd, LOr, BAnd, BOr."""

    def __init__(self, name: str, default: T.ScalarType, with_loc: bool = False):
        self.name = name
        self.default = default
        self.with_loc = with_loc

    def __repr__(self) -> str:
        return f"pk.{self.name}"

    def __reduce__(self):
        return (by_name, (self.name,))

    # The Python side of the semantics, used by the Debug backend.
    def identity(self, dtype: T.ScalarType):
        n = self.name
        if n in ("Sum", "BOr"):
            return _cast(0, dtype)
        if n == "Prod":
            return _cast(1, dtype)
        if n == "LAnd":
            return True
        if n == "LOr":
            return False
        if n == "BAnd":
            return -1 if dtype.is_signed else (1 << dtype.bits) - 1
        if n in ("Min", "MinLoc"):
            v = math.inf if dtype.is_float else _int_max(dtype)
        else:  # Max, MaxLoc
            v = -math.inf if dtype.is_float else _int_min(dtype)
        return (v, -1) if self.with_loc else v

    def join(self, a, b):
        n = self.name
        if n == "Sum":
            return a + b
        if n == "Prod":
            return a * b
        if n == "Min":
            return b if b < a else a
        if n == "Max":
            return b if b > a else a
        if n == "LAnd":
            return bool(a and b)
        if n == "LOr":
            return bool(a or b)
        if n == "BAnd":
            return a & b
        if n == "BOr":
            return a | b
        # MinLoc / MaxLoc: the better value wins; on a tie the smaller location (-1, "none", loses every tie)
        better = (b[0] < a[0]) if n == "MinLoc" else (b[0] > a[0])
        tie = b[0] == a[0] and (b[1] % (1 << 64)) < (a[1] % (1 << 64))
        return b if (better or tie) else a


def _cast(v, dtype: T.ScalarType):
    return float(v) if dtype.is_float else (bool(v) if dtype.is_bool else int(v))


def _int_max(t: T.ScalarType) -> int:
    return (1 << (t.bits - 1)) - 1 if t.kind == "i" else (1 << t.bits) - 1


def _int_min(t: T.ScalarType) -> int:
    return -(1 << (t.bits - 1)) if t.kind == "i" else 0


Sum = Reducer("Sum", T.float64)
Prod = Reducer("Prod", T.float64)
Min = Reducer("Min", T.float64)
Max = Reducer("Max", T.float64)
MinLoc = Reducer("MinLoc", T.float64, with_loc=True)
MaxLoc = Reducer("MaxLoc", T.float64, with_loc=True)
LAnd = Reducer("LAnd", T.bool_)
LOr = Reducer("LOr", T.bool_)
BAnd = Reducer("BAnd", T.int64)
BOr = Reducer("BOr", T.int64)

ALL = {r.name: r for r in (Sum, Prod, Min, Max, MinLoc, MaxLoc, LAnd, LOr, BAnd, BOr)}


def by_name(name: str) -> Reducer:
    return ALL[name]


registry.register_type(Reducer, "reducer")
