"""Math, atomics and `pk.printf`: the functions kernels call, and which Python functions are the same operation.

Inside a kernel the compiler replaces each call by native code (the frontend's "math", "atomic*" and "printf"
handlers). Called from plain Python they do the same thing sequentially, so they can be tested and used outside
kernels too. `math.sqrt`, `np.sqrt` and `pk.sqrt` are registered as one operation (lang/registry.py).
"""

from __future__ import annotations

import math
import sys

import numpy as np

from kernelkit.lang import registry

# name -> (number of arguments, result kind): "float" math keeps float32 as float32 (as Numba does) and turns
# ints into float64; "bool" answers a predicate.
MATH: dict[str, tuple[int, str]] = {
    **{
        n: (1, "float")
        for n in (
            "sqrt",
            "exp",
            "log",
            "log2",
            "log10",
            "sin",
            "cos",
            "tan",
            "asin",
            "acos",
            "atan",
            "sinh",
            "cosh",
            "tanh",
            "asinh",
            "acosh",
            "atanh",
            "floor",
            "ceil",
            "trunc",
            "fabs",
            "erf",
            "erfc",
            "exp2",
            "expm1",
            "log1p",
            "cbrt",
            "round",
            "tgamma",
            "lgamma",
            "rsqrt",
        )
    },
    **{n: (2, "float") for n in ("atan2", "pow", "fmin", "fmax", "fmod", "hypot", "copysign")},
    **{n: (1, "bool") for n in ("isnan", "isinf", "isfinite")},
}

# NumPy and `math` spellings of the same operations
_MATH_ALIASES = {
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arctan2": "atan2",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "power": "pow",
    "absolute": "fabs",
    "gamma": "tgamma",
}

ATOMIC_OPS = ("add", "sub", "mul", "div", "min", "max", "and", "or", "xor", "mod", "lshift", "rshift")
INTEGER_ATOMIC_OPS = ("and", "or", "xor", "mod", "lshift", "rshift")  # no floating-point form (as in Kokkos)

sqrt, exp, log, log2, log10 = math.sqrt, math.exp, math.log, math.log2, math.log10
sin, cos, tan, asin, acos, atan, atan2 = math.sin, math.cos, math.tan, math.asin, math.acos, math.atan, math.atan2
sinh, cosh, tanh, asinh, acosh, atanh = math.sinh, math.cosh, math.tanh, math.asinh, math.acosh, math.atanh
floor, ceil, trunc, fabs, fmod, hypot, copysign = (
    math.floor,
    math.ceil,
    math.trunc,
    math.fabs,
    math.fmod,
    math.hypot,
    math.copysign,
)
erf, erfc, expm1, log1p, isnan, isinf, isfinite = (
    math.erf,
    math.erfc,
    math.expm1,
    math.log1p,
    math.isnan,
    math.isinf,
    math.isfinite,
)
pow = math.pow  # noqa: A001 - the Kokkos name
tgamma, lgamma = math.gamma, math.lgamma


def fmin(a, b):
    """Minimum ignoring NaN, like C fmin."""
    return b if a != a else (a if b != b else min(a, b))


def fmax(a, b):
    """Maximum ignoring NaN, like C fmax."""
    return b if a != a else (a if b != b else max(a, b))


def cbrt(x):
    return math.copysign(abs(x) ** (1.0 / 3.0), x)


def exp2(x):
    return 2.0**x


def rsqrt(x):
    return 1.0 / math.sqrt(x)


def _index(index):
    return tuple(index) if isinstance(index, (list, tuple)) else index


def _fetch(op):
    def fetch(view, index, value):
        ix = _index(index)
        old = view[ix]
        view[ix] = op(old, value)
        return old

    return fetch


atomic_fetch_add = _fetch(lambda a, b: a + b)
atomic_fetch_sub = _fetch(lambda a, b: a - b)
atomic_fetch_mul = _fetch(lambda a, b: a * b)
atomic_fetch_div = _fetch(lambda a, b: a / b)
atomic_fetch_min = _fetch(lambda a, b: min(a, b))
atomic_fetch_max = _fetch(lambda a, b: max(a, b))
atomic_fetch_and = _fetch(lambda a, b: a & b)
atomic_fetch_or = _fetch(lambda a, b: a | b)
atomic_fetch_xor = _fetch(lambda a, b: a ^ b)
atomic_fetch_mod = _fetch(lambda a, b: type(a)(a % b) if b else type(a)(0))
atomic_fetch_lshift = _fetch(lambda a, b: shift_left(a, b))
atomic_fetch_rshift = _fetch(lambda a, b: shift_right(a, b))
atomic_exchange = _fetch(lambda a, b: b)


def shift_left(a, n):
    """`a << n` in the width of `a`'s type (a NumPy integer): counts outside 0..bits-1 give 0, as in kernels."""
    bits = np.dtype(type(a)).itemsize * 8
    return type(a)(0) if not 0 <= n < bits else np.left_shift(a, type(a)(n))


def shift_right(a, n):
    """`a >> n` (arithmetic for signed types): counts outside 0..bits-1 give the sign fill, as in kernels."""
    bits = np.dtype(type(a)).itemsize * 8
    return type(a)(-1 if a < 0 else 0) if not 0 <= n < bits else np.right_shift(a, type(a)(n))


def _plain(fetch):
    def op(view, index, value) -> None:
        fetch(view, index, value)

    return op


atomic_add = _plain(atomic_fetch_add)
atomic_sub = _plain(atomic_fetch_sub)
atomic_mul = _plain(atomic_fetch_mul)
atomic_div = _plain(atomic_fetch_div)
atomic_min = _plain(atomic_fetch_min)
atomic_max = _plain(atomic_fetch_max)
atomic_and = _plain(atomic_fetch_and)
atomic_or = _plain(atomic_fetch_or)
atomic_xor = _plain(atomic_fetch_xor)
atomic_mod = _plain(atomic_fetch_mod)
atomic_lshift = _plain(atomic_fetch_lshift)
atomic_rshift = _plain(atomic_fetch_rshift)


def atomic_increment(view, index) -> None:
    """Add one to the element (Kokkos atomic_increment)."""
    atomic_fetch_add(view, index, 1)


def atomic_decrement(view, index) -> None:
    """Subtract one from the element (Kokkos atomic_decrement)."""
    atomic_fetch_sub(view, index, 1)


atomic_inc, atomic_dec = atomic_increment, atomic_decrement  # Kokkos' short names


def atomic_compare_exchange(view, index, expected, desired):
    """Store `desired` if the element equals `expected`; return the old value (Kokkos semantics)."""
    ix = _index(index)
    old = view[ix]
    if old == expected:
        view[ix] = desired
    return old


def printf(fmt: str, *args) -> None:
    """C-style formatted print (`%d`, `%f`, `%e`, `%g`, `%x`, `%s` is not allowed in kernels)."""
    sys.stdout.write(fmt % args)


def _register_math_module(mod) -> None:
    for name in MATH:
        fn = getattr(mod, name, None)
        if fn is not None:
            registry.register_alias(fn, "math", name)
    for alias, name in _MATH_ALIASES.items():
        fn = getattr(mod, alias, None)
        if fn is not None:
            registry.register_alias(fn, "math", name)


# NumPy's elementwise min/max/abs are the builtins' operations (registered first: np.absolute is np.abs)
registry.register(np.minimum, "builtin", "min")
registry.register(np.maximum, "builtin", "max")
registry.register(np.abs, "builtin", "abs")
for _mod in (math, np, sys.modules[__name__]):
    _register_math_module(_mod)
for _op in ATOMIC_OPS:
    registry.register(globals()[f"atomic_fetch_{_op}"], "atomic_fetch", _op)
    registry.register(globals()[f"atomic_{_op}"], "atomic", _op)
registry.register(atomic_compare_exchange, "atomic_cas", "cas")
registry.register(atomic_increment, "atomic_unit", "add")
registry.register(atomic_decrement, "atomic_unit", "sub")
registry.register(atomic_exchange, "atomic_fetch", "exchange")
registry.register(printf, "printf", "printf")
del _mod, _op
