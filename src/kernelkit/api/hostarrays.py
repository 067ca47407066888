"""Host-side library code (BinSort, fill_random) reading and writing Views or arrays through the View API, so
that a GPU View's device copy stays coherent."""

from __future__ import annotations

from typing import Any

import numpy as np

from kernelkit.api.views import View, deep_copy
from kernelkit.ir import types as T


def read(x: Any) -> np.ndarray:
    """The current host values of a View or array (read only: no device copy is marked stale)."""
    if isinstance(x, View):
        return x._host(write=False)
    return np.asarray(x)


def new_view(values: np.ndarray, like: Any) -> View:
    """A new View holding `values`, in the memory space of `like` (a View) or the default space."""
    space = like.space if isinstance(like, View) else None
    v = View(list(values.shape), T.as_scalar_type(values.dtype), space=space)
    deep_copy(v, np.ascontiguousarray(values))
    return v


def write(dst: Any, values: np.ndarray) -> None:
    """Store `values` into a View (through deep_copy, so a GPU View's device copy is updated) or an array."""
    if isinstance(dst, View):
        deep_copy(dst, np.ascontiguousarray(values.astype(dst.dtype.np_dtype, copy=False)))
    else:
        np.asarray(dst)[...] = values
