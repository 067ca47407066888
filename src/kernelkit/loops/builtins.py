"""The names annotated-loop programs use, as plain Python objects (so an undecorated function still runs):
`prange`, APPy's `mv`, and what the program lowerer recognizes by identity or by name.

Called from Python they do what NumPy would; inside `@pk.jit` functions the compiler replaces them.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from kernelkit.lang import kmath, registry


def prange(*args):
    """`for i in pk.prange(n)`: the iterations may run in parallel (a plain `range` outside `@pk.jit`)."""
    return range(*args)


def simd_range(*args):
    """A sequential loop whose iterations may run as vector lanes (made by the tensor-expression rewrite)."""
    return range(*args)


def mv(A, x):
    """Matrix-vector product (APPy's `mv`)."""
    return np.asarray(A) @ np.asarray(x)


ALLOC_KINDS: dict[object, str] = {
    np.empty: "empty",
    np.zeros: "zeros",
    np.ones: "ones",
    np.full: "full",
    np.empty_like: "empty_like",
    np.zeros_like: "zeros_like",
    np.ones_like: "ones_like",
    np.full_like: "full_like",
}
_ALLOC_NAMES = {"empty", "zeros", "ones", "full", "empty_like", "zeros_like", "ones_like", "full_like"}
_FOREIGN = ("torch", "cupy", "numpy", "jax", "appy")
_REDUCE_NAMES = {
    "sum": "sum",
    "max": "max",
    "amax": "max",
    "min": "min",
    "amin": "min",
    "mean": "mean",
    "prod": "prod",
    "dot": "dot",
    "matmul": "dot",
    "mv": "mv",
    "outer": "outer",
    "where": "where",
    "maximum": "pairmax",
    "minimum": "pairmin",
    "fmax": "pairmax",
    "fmin": "pairmin",
}


def foreign_name(fn) -> str | None:
    """The name of a NumPy / CuPy / PyTorch function (those libraries are recognized by name, not imported)."""
    mod = getattr(fn, "__module__", None) or type(fn).__module__ or ""
    if isinstance(fn, np.ufunc) or mod.split(".")[0] in _FOREIGN or mod == "kernelkit.appy":
        return getattr(fn, "__name__", None)
    return None


def alloc_kind(fn) -> str | None:
    try:
        hit = ALLOC_KINDS.get(fn)
    except TypeError:  # unhashable
        return None
    if hit is not None:
        return hit
    name = foreign_name(fn)
    return name if name in _ALLOC_NAMES and not isinstance(fn, np.ufunc) else None


def math_name(fn) -> str | None:
    """The kernel math operation of a ufunc (NumPy's, scipy.special's) or a torch/cupy function of that name."""
    entry = registry.lookup(fn)
    if entry is not None and entry.kind == "math":
        return entry.name
    name = foreign_name(fn)
    if name is None:
        return None
    name = kmath._MATH_ALIASES.get(name, name)
    return name if name in kmath.MATH else None


def reduction_kind(fn, nargs: int) -> str | None:
    """How an array expression treats a call: sum max min mean prod dot mv outer where pairmax pairmin
    elementwise, or None. `max(x)` reduces an array, `max(a, b)` is elementwise (Python's and APPy's)."""
    if fn is builtins.max or fn is builtins.min:
        if nargs == 1:
            return fn.__name__
        return "pair" + fn.__name__
    if fn is builtins.sum:
        return "sum"
    if fn is builtins.abs or fn is np.abs:
        return "elementwise"
    if fn is mv:
        return "mv"
    if math_name(fn) is not None:
        return "elementwise"
    name = foreign_name(fn)
    if name in ("max", "min") and nargs >= 2 and not isinstance(fn, np.ufunc):
        return "pair" + name
    return _REDUCE_NAMES.get(name) if name else None


def is_prange(fn) -> bool:
    if fn is prange:
        return True
    name = getattr(fn, "__name__", None)
    mod = getattr(fn, "__module__", "") or ""
    return name == "prange" and mod.split(".")[0] in ("numba", "appy", "kernelkit")


SPECIAL_FLOATS = {
    "inf": math.inf,
    "+inf": math.inf,
    "-inf": -math.inf,
    "nan": math.nan,
    "infinity": math.inf,
    "-infinity": -math.inf,
}
