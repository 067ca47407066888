"""The printf formats the kernel language accepts: the frontend checks them, the renderers rewrite them per
argument type."""

from __future__ import annotations

_FLAGS = "-+ #0123456789."
_LENGTHS = "lhzj"
CONVERSIONS = "diuxXfFeEgGc"


def conversions(fmt: str) -> list[str] | None:
    """The conversion specifications of `fmt` in order (`%%` is not one), or None when it has one the kernel
    language does not accept (`%s`, `%p`, `%n`, a dangling `%`).

    >>> conversions("i=%d x=%8.3f %%")
    ['%d', '%8.3f']
    """
    out, k = [], 0
    while k < len(fmt):
        if fmt[k] != "%":
            k += 1
            continue
        j = k + 1
        while j < len(fmt) and fmt[j] in _FLAGS:
            j += 1
        while j < len(fmt) and fmt[j] in _LENGTHS:
            j += 1
        if j >= len(fmt):
            return None
        c = fmt[j]
        if c == "%":
            k = j + 1
            continue
        if c not in CONVERSIONS:
            return None
        out.append(fmt[k : j + 1])
        k = j + 1
    return out
