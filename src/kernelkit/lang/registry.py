"""The builtin registry: which Python objects mean something inside a kernel, and what.

An entry maps an object to a *kind* (which handler of the frontend lowers a call to it) and a *name* (the
operation within that kind). Lookup is by the object itself, so `math.sqrt`, `from math import sqrt`, `np.sqrt`
and `pk.sqrt` are one operation however they were imported. Objects that are made on demand
(`pk.ScratchView1D[pk.double]`, `pk.double`) are found through their type (`register_type`). Objects made by the
api's decorators carry their kind themselves: `_kk_kind == "function"` (a `@pk.function`) or `_kk_classtype`
(a `@pk.classtype` class).

Each kernel-language module registers what it defines when it is imported (kernelkit.lang imports them all);
host-side api objects that kernels may also use (`pk.parallel_for` nested in a team kernel, `pk.subview`) are
registered by their api module, so this package never imports the api.

Adding a construct: register its object here with a new kind, write the frontend handler for that kind
(`@handles(kind)` in frontend/calls.py or frontend/team.py), its IR node (ir/nodes.py) and its `e_` methods in
the renderers.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from kernelkit.errors import KernelValueError
from kernelkit.ir import types as T


@dataclass(frozen=True)
class Entry:
    """What an object means in a kernel: `kind` picks the frontend handler, `name` the operation."""

    kind: str
    name: str


_by_id: dict[int, tuple[object, Entry]] = {}  # id(obj) -> (obj, entry); the object is kept alive here
_by_type: dict[type, Entry] = {}
_PROTOCOL_KINDS = ("function",)  # `_kk_kind` values the frontend lowers (workunits are launched, not called)


def register(obj: object, kind: str, name: str) -> None:
    """Make `obj` mean `kind`/`name` inside kernels. Registering an object twice with the same meaning is a
    no-op; with another meaning it is an error (for an object that may already have a meaning, use
    `register_alias`)."""
    old = _by_id.get(id(obj))
    entry = Entry(kind, name)
    if old is not None and old[0] is obj and old[1] != entry:
        raise KernelValueError(f"{obj!r} is already registered as {old[1].kind}/{old[1].name}, not {kind}/{name}")
    _by_id[id(obj)] = (obj, entry)


def register_alias(obj: object, kind: str, name: str) -> None:
    """Like `register`, but an object that already has a meaning keeps it (`np.fmin` may be reached under two
    names)."""
    if lookup_object(obj) is None:
        register(obj, kind, name)


def register_type(cls: type, kind: str, name: str = "") -> None:
    """Make every instance of `cls` (and of its subclasses) mean `kind`/`name`."""
    _by_type[cls] = Entry(kind, name)


def lookup_object(obj: object) -> Entry | None:
    """The entry registered for this very object, if any."""
    hit = _by_id.get(id(obj))
    return hit[1] if hit is not None and hit[0] is obj else None


def lookup(obj: object) -> Entry | None:
    """What `obj` means inside a kernel, or None when it means nothing there."""
    entry = lookup_object(obj)
    if entry is not None:
        return entry
    for cls in type(obj).__mro__:
        entry = _by_type.get(cls)
        if entry is not None:
            return entry
    if isinstance(obj, type):
        return Entry("classtype", obj.__name__) if getattr(obj, "_kk_classtype", False) else None
    kind = getattr(obj, "_kk_kind", None)
    if kind in _PROTOCOL_KINDS:
        return Entry(kind, getattr(obj, "__name__", kind))
    return None


def entries(kind: str) -> dict[str, list[object]]:
    """The objects registered with one kind, by name (for documentation and tests)."""
    out: dict[str, list[object]] = {}
    for obj, entry in _by_id.values():
        if entry.kind == kind:
            out.setdefault(entry.name, []).append(obj)
    return out


# Python's own builtins; their handler is the frontend's "builtin" kind.
for _name in ("min", "max", "abs", "int", "float", "bool", "range", "len", "print"):
    register(getattr(builtins, _name), "builtin", _name)
# conversions: `pk.float32(x)`, `np.int32(x)`
register_type(T.ScalarType, "convert")
for _st in T.SCALARS:
    register(_st.np_dtype.type, "convert", _st.name)
del _name, _st
