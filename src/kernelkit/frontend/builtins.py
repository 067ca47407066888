"""What a kernel may call: the table from Python callables to IR operations.

Lookup is by the callable object itself, so `math.sqrt`, `from math import sqrt`, `np.sqrt` and `pk.sqrt` are the
same operation however they were imported.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

# name -> (number of arguments, result kind): "float" math keeps float32 as float32 (as Numba does) and turns
# ints into float64; "same" keeps the argument type; "bool" answers a predicate.
MATH: dict[str, tuple[int, str]] = {
    **{n: (1, "float") for n in (
        "sqrt", "exp", "log", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
        "tanh", "asinh", "acosh", "atanh", "floor", "ceil", "trunc", "fabs", "erf", "erfc", "exp2", "expm1",
        "log1p", "cbrt", "round", "tgamma", "lgamma", "rsqrt",
    )},
    **{n: (2, "float") for n in ("atan2", "pow", "fmin", "fmax", "fmod", "hypot", "copysign")},
    **{n: (1, "bool") for n in ("isnan", "isinf", "isfinite")},
}

_MATH_ALIASES = {
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2", "arcsinh": "asinh",
    "arccosh": "acosh", "arctanh": "atanh", "power": "pow", "absolute": "fabs", "fmin": "fmin", "fmax": "fmax",
    "gamma": "tgamma",
}

# pk.* math names that are not in `math` (the pk functions themselves are defined in kernelkit.api.kmath)
CALLABLES: dict[object, tuple[str, str]] = {}  # callable -> ("math", name) | ("builtin", name) | ...


def _register_math_module(mod) -> None:
    for name in MATH:
        fn = getattr(mod, name, None)
        if fn is not None:
            CALLABLES.setdefault(fn, ("math", name))
    for alias, name in _MATH_ALIASES.items():
        fn = getattr(mod, alias, None)
        if fn is not None:
            CALLABLES.setdefault(fn, ("math", name))


_register_math_module(math)
_register_math_module(np)
for _name in ("min", "max", "abs", "int", "float", "bool", "range", "len", "print"):
    CALLABLES[getattr(builtins, _name)] = ("builtin", _name)
CALLABLES[np.minimum] = ("builtin", "min")
CALLABLES[np.maximum] = ("builtin", "max")
CALLABLES[np.abs] = ("builtin", "abs")

MATH_CONSTANTS = {math.pi: "pi", math.e: "e"}

ATOMIC_OPS = ("add", "sub", "mul", "div", "min", "max", "and", "or", "xor")


def register_kernelkit_callables(mod) -> None:
    """Called once by kernelkit.api.kmath: adds pk.sqrt, pk.atomic_*, pk.printf, ... to the table."""
    _register_math_module(mod)
    for op in ATOMIC_OPS:
        CALLABLES[getattr(mod, f"atomic_fetch_{op}")] = ("atomic_fetch", op)
        plain = getattr(mod, f"atomic_{op}", None)
        if plain is not None:
            CALLABLES[plain] = ("atomic", op)
    CALLABLES[mod.atomic_compare_exchange] = ("atomic_cas", "cas")
    CALLABLES[mod.atomic_exchange] = ("atomic_fetch", "exchange")
    CALLABLES[mod.printf] = ("printf", "printf")
    from kernelkit.api import random as _random

    CALLABLES[_random.rand] = ("rand", "drand")
