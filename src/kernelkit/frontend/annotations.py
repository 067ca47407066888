"""Parameter annotations: evaluating them (also under `from __future__ import annotations`) and checking the
arguments of a launch or a device-function call against them. Annotations are optional; types come from the
call, and an annotation we do not model is treated as absent."""

from __future__ import annotations

import numpy as np

from kernelkit.errors import KernelTypeError, Loc
from kernelkit.ir import types as T
from kernelkit.lang import annotations as A


def resolve_annotation_value(value, loc: Loc):
    """An annotation object -> ScalarType / ViewAnnotation / AccAnnotation, or None when absent/unknown."""
    if value is None or value is type(None):
        return None
    if value is int:
        return T.int64
    if value is float:
        return T.float64
    if value is bool:
        return T.bool_
    if isinstance(value, (T.ScalarType, A.ViewAnnotation, A.AccAnnotation)):
        return value
    if isinstance(value, type) and issubclass(value, np.generic):
        return T.from_numpy(value)
    return getattr(value, "_kk_annotation", None)


# C++ names PyKokkos accepts in annotations as text (`pk.ScratchView1D[double]`), used only where the name is
# not defined in Python: `float` and `int` keep their Python meaning (float64, int64).
CPP_TYPE_NAMES = {
    "double": T.float64,
    "int8_t": T.int8,
    "int16_t": T.int16,
    "int32_t": T.int32,
    "int64_t": T.int64,
    "uint8_t": T.uint8,
    "uint16_t": T.uint16,
    "uint32_t": T.uint32,
    "uint64_t": T.uint64,
    "size_t": T.uint64,
    "char": T.int8,
    "short": T.int16,
    "long": T.int64,
    "unsigned": T.uint32,
}


def eval_annotation(code, globals_: dict, scope: dict):
    """Evaluate annotation code in the function's globals and closure `scope`, with the C++ type names of
    CPP_TYPE_NAMES standing in for names Python does not define. Raises what eval raises."""
    try:
        return eval(code, globals_, scope)  # noqa: S307 - the user's own annotation, in their module
    except NameError as e:
        if e.name not in CPP_TYPE_NAMES:
            raise
    fallback = {k: v for k, v in CPP_TYPE_NAMES.items() if k not in globals_ and k not in scope}
    return eval(code, globals_, {**fallback, **scope})  # noqa: S307


def param_annotations(fn) -> dict[str, object]:
    """Evaluated annotations (handles `from __future__ import annotations`); unknown ones are ignored."""
    raw = getattr(fn, "__annotations__", {}) or {}
    out = {}
    for name, ann in raw.items():
        if isinstance(ann, str):
            try:
                ann = eval_annotation(ann, fn.__globals__, {})
            except Exception:  # an annotation we cannot evaluate is treated as absent (types come from the call)
                continue
        out[name] = resolve_annotation_value(ann, None)
    return out


def check_view_annotation(name: str, ann: A.ViewAnnotation, t: T.ViewType, loc: Loc) -> None:
    if ann.rank is not None and ann.rank != t.rank:
        raise KernelTypeError(f"argument {name!r} is annotated {ann!r} but a rank-{t.rank} array was passed", loc)
    if ann.dtype is not None and ann.dtype is not t.dtype:
        raise KernelTypeError(f"argument {name!r} is annotated {ann!r} but an array of {t.dtype.name} was passed", loc)
