"""The types of the kernel language.

Scalar types double as the user-facing dtype names (`pk.double`, `pk.int32`, ...): one object per dtype, shared by
the frontend, the IR, the backends and the View class. Everything here is immutable and hashable, because types
are part of specialization keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class ScalarType:
    """A sized scalar: the element type of Views and the type of kernel locals."""

    name: str  # kernelkit name, e.g. "float64"
    kind: str  # "b" bool, "i" signed int, "u" unsigned int, "f" float
    bits: int
    ctype: str  # C/C++ spelling
    np_dtype: np.dtype

    @property
    def is_float(self) -> bool:
        return self.kind == "f"

    @property
    def is_int(self) -> bool:
        return self.kind in "iu"

    @property
    def is_signed(self) -> bool:
        return self.kind in "if"

    @property
    def is_bool(self) -> bool:
        return self.kind == "b"

    @property
    def itemsize(self) -> int:
        return max(self.bits // 8, 1)

    @property
    def typenum(self) -> int:
        """NumPy's type number: how the native launcher recognizes array dtypes."""
        return self.np_dtype.num

    def __call__(self, value):  # pk.float32(1.5) outside kernels behaves like the NumPy scalar type
        return self.np_dtype.type(value)

    def __repr__(self) -> str:
        return f"pk.{self.name}"

    def __reduce__(self):
        return (from_name, (self.name,))


def _st(name: str, kind: str, bits: int, ctype: str, npname: str) -> ScalarType:
    return ScalarType(name, kind, bits, ctype, np.dtype(npname))


bool_ = _st("bool", "b", 8, "bool", "bool")
int8 = _st("int8", "i", 8, "int8_t", "int8")
int16 = _st("int16", "i", 16, "int16_t", "int16")
int32 = _st("int32", "i", 32, "int32_t", "int32")
int64 = _st("int64", "i", 64, "int64_t", "int64")
uint8 = _st("uint8", "u", 8, "uint8_t", "uint8")
uint16 = _st("uint16", "u", 16, "uint16_t", "uint16")
uint32 = _st("uint32", "u", 32, "uint32_t", "uint32")
uint64 = _st("uint64", "u", 64, "uint64_t", "uint64")
float32 = _st("float32", "f", 32, "float", "float32")
float64 = _st("float64", "f", 64, "double", "float64")

SCALARS: tuple[ScalarType, ...] = (
    bool_,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
    float32,
    float64,
)
_BY_NAME = {t.name: t for t in SCALARS}
_BY_NP = {t.np_dtype: t for t in SCALARS}


def from_name(name: str) -> ScalarType:
    return _BY_NAME[name]


def from_numpy(dtype) -> ScalarType | None:
    """The ScalarType of a NumPy dtype, or None when the kernel language has no such type."""
    return _BY_NP.get(np.dtype(dtype))


def as_scalar_type(obj) -> ScalarType:
    """Turn anything a user may pass as a dtype (pk.double, int, float, bool, np.float32, 'float32') into a
    ScalarType; raise TypeError naming the accepted spellings otherwise."""
    if isinstance(obj, ScalarType):
        return obj
    if obj is int:
        return int64
    if obj is float:
        return float64
    if obj is bool:
        return bool_
    try:
        t = from_numpy(obj)
    except TypeError:
        t = None
    if t is None:
        raise TypeError(
            f"{obj!r} is not a kernelkit dtype; use one of "
            + ", ".join(f"pk.{s.name}" for s in SCALARS)
            + " (or int, float, bool, or a NumPy dtype of those)"
        )
    return t


def promote(a: ScalarType, b: ScalarType) -> ScalarType:
    """The result type of arithmetic on a and b, following NumPy's rules for arrays (bool arithmetic is int64, as
    in Python; uint64 mixed with a signed type stays integral as int64, where NumPy would give float64)."""
    if a is b:
        return int64 if a.is_bool else a
    if a.is_bool:
        return promote(int64, b) if not b.is_bool else int64
    if b.is_bool:
        return promote(a, int64)
    if a.is_float or b.is_float:
        if a.is_float and b.is_float:
            return a if a.bits >= b.bits else b
        f, i = (a, b) if a.is_float else (b, a)
        # float32 holds int8/int16 exactly; wider ints need float64 (NumPy's rule)
        return f if (f.bits == 64 or i.bits <= 16) else float64
    if a.kind == b.kind:
        return a if a.bits >= b.bits else b
    s, u = (a, b) if a.kind == "i" else (b, a)
    if s.bits > u.bits:
        return s
    return {8: int16, 16: int32, 32: int64, 64: int64}[u.bits]


def int_range(t: ScalarType) -> tuple[int, int]:
    """The smallest and largest value of an integer (or bool) type."""
    if t.is_bool:
        return 0, 1
    if t.kind == "u":
        return 0, (1 << t.bits) - 1
    return -(1 << (t.bits - 1)), (1 << (t.bits - 1)) - 1


def int_fits(value, t: ScalarType) -> bool:
    """Whether the Python number `value` is an integer that `t` (an integer type) represents exactly."""
    if isinstance(value, float):
        return False
    lo, hi = int_range(t)
    return lo <= int(value) <= hi


def literal_type(value: int) -> ScalarType | None:
    """The type of a Python int literal on its own: int64, uint64 from 2**63 to 2**64 - 1, None beyond."""
    if -(1 << 63) <= value < (1 << 63):
        return int64
    if 0 <= value < (1 << 64):
        return uint64
    return None


def wrap_int(value: int, t: ScalarType) -> int:
    """`value` reduced to the width of integer type `t` (two's complement), as C converts integers."""
    bits = t.bits
    v = int(value) & ((1 << bits) - 1)
    if t.kind == "i" and v >> (bits - 1):
        v -= 1 << bits
    return v


def float_to_int(value: float, t: ScalarType) -> int:
    """The kernel language's float -> integer conversion: truncation toward zero, NaN -> 0, values beyond the
    type's range saturate to its smallest or largest value (docs/numerics.md; CUDA's cvt.rzi semantics)."""
    if value != value:
        return 0
    lo, hi = int_range(t)
    if value >= hi:
        return hi
    if value <= lo:
        return lo
    return int(value)


def convert_value(value, t: ScalarType):
    """A Python number converted to type `t` the way kernels convert values of that type."""
    if t.is_bool:
        return bool(value)
    if t.is_float:
        if t.bits == 64:
            return float(value)
        if isinstance(value, int) and abs(value) >= (1 << 53):  # one rounding, straight from the integer
            return float(np.array(value, dtype=np.uint64 if value > 0 else np.int64).astype(np.float32))
        with np.errstate(over="ignore"):
            return float(np.float32(float(value)))
    if isinstance(value, float):
        return float_to_int(value, t)
    return wrap_int(int(value), t)


# --- composite types -------------------------------------------------------------------------------------------

LAYOUT_RIGHT = "C"  # row-major, the last index is contiguous (Kokkos LayoutRight)
LAYOUT_LEFT = "F"  # column-major, the first index is contiguous (Kokkos LayoutLeft)
LAYOUT_STRIDE = "A"  # arbitrary strides (Kokkos LayoutStride), e.g. a strided subview


@dataclass(frozen=True)
class ViewType:
    """The type of a View (or NumPy array) argument: element type, rank and memory layout."""

    dtype: ScalarType
    rank: int
    layout: str = LAYOUT_RIGHT
    const: bool = False  # never written by the kernel (filled in by analysis, used for `const` in C++)
    scratch: bool = False  # a ScratchView: team or thread scratch memory, created inside the kernel
    atomic: bool = False  # the Atomic memory trait: read-modify-writes are atomic

    def __str__(self) -> str:
        return (
            f"{'Scratch' if self.scratch else ''}View{self.rank}D[{self.dtype.name},{self.layout}"
            f"{',Atomic' if self.atomic else ''}]"
        )


@dataclass(frozen=True)
class AccType:
    """A reduction or scan accumulator: a scalar the body updates in place."""

    dtype: ScalarType

    def __str__(self) -> str:
        return f"Acc[{self.dtype.name}]"


@dataclass(frozen=True)
class LocType:
    """The value of a MinLoc/MaxLoc accumulator: `acc.val` and `acc.loc`."""

    val: ScalarType
    loc: ScalarType = int64

    def __str__(self) -> str:
        return f"ValLoc[{self.val.name},{self.loc.name}]"


@dataclass(frozen=True)
class TeamType:
    """A pk.TeamMember: the handle a TeamPolicy workunit gets (league and team ranks, barrier, scratch)."""

    def __str__(self) -> str:
        return "TeamMember"


team = TeamType()


class StructType:
    """A @pk.classtype value: named fields, filled in while its constructor is lowered (then fixed)."""

    def __init__(self, name: str, pyname: str):
        self.name = name  # unique C identifier
        self.pyname = pyname
        self.fields: dict[str, Type] = {}

    def __eq__(self, other) -> bool:
        return isinstance(other, StructType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __str__(self) -> str:
        return f"{self.pyname}{{{', '.join(f'{k}: {v}' for k, v in self.fields.items())}}}"

    __repr__ = __str__


@dataclass(frozen=True)
class RandomPoolType:
    """A random pool argument: travels as a 2-element uint64 View (seed, claim counter)."""

    def __str__(self) -> str:
        return "RandomPool"


@dataclass(frozen=True)
class RandomStateType:
    """A generator claimed from a pool (`pool.get_state()`): one uint64 of xorshift64* state."""

    def __str__(self) -> str:
        return "RandomState"


random_pool = RandomPoolType()
random_state = RandomStateType()


@dataclass(frozen=True)
class VoidType:
    def __str__(self) -> str:
        return "void"


void = VoidType()

Type = ScalarType | ViewType | AccType | LocType | TeamType | RandomPoolType | RandomStateType | StructType | VoidType
