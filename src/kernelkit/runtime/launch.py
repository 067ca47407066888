"""The slow path shared by every backend: arguments -> signature -> (memoized) typed IR."""

from __future__ import annotations

from kernelkit.errors import KernelTypeError, caller_loc
from kernelkit.frontend.lower import Guard, Signature, lower_kernel, scalar_type_of
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T
from kernelkit.runtime.args import arg_type, writable_check


def guards_hold(guards: list[Guard]) -> bool:
    for g in guards:
        try:
            cur = g.holder.cell_contents if g.key is None else g.holder.get(g.key, _MISSING)
        except ValueError:
            return False
        if cur is not g.value:
            return False
    return True


_MISSING = object()


def acc_hint(reducer, init) -> T.ScalarType | None:
    if init is None:
        return None
    v = init[0] if reducer is not None and reducer.with_loc and isinstance(init, tuple) else init
    st = scalar_type_of(v)
    if st is None:
        raise KernelTypeError(f"initial_value must be a number, got {type(init).__name__}", caller_loc())
    return st


def prepare(wu, pattern: str, rank: int, kwargs: dict, reducer, init, device: bool = False, team: bool = False):
    """Lower `wu` for this launch (memoized per signature). Returns (kernel, guards, normalized kwargs)."""
    loc = caller_loc()
    types: dict[str, T.Type] = {}
    args: dict[str, object] = {}
    for name, value in kwargs.items():
        t, v = arg_type(name, value, loc, device)
        types[name] = t
        args[name] = v
    hint = acc_hint(reducer, init) if pattern == "reduce" else None
    self_name = self_cls = None
    for name in kwargs:
        if "." in name:  # ClassSty members ("self.x"): the workunit is a method of that object's class
            self_name = name.split(".", 1)[0]
            break
    key = (pattern, rank, team, reducer.name if reducer else None, hint,
           tuple(sorted(types.items(), key=lambda x: x[0])))
    memo = wu._ir.get(key)
    if memo is None or not guards_hold(memo[1]):
        if self_name is not None:
            self_cls = _owner_class(wu)
        memo = lower_kernel(wu, Signature(pattern, rank, types, reducer, hint, self_name, self_cls, team))
        wu._ir[key] = memo
    kernel: N.Kernel = memo[0]
    for name in kernel.writes:
        writable_check(name, args[name], loc)
    return kernel, memo[1], args


def _owner_class(wu):
    """The class whose object the workunit method was last bound to (set by Workunit.__get__)."""
    return getattr(wu, "_owner", None)
