"""Python AST -> typed IR: the entry points.

`lower_kernel` lowers a workunit for one launch signature; `lower_function` and `lower_constructor` specialize
a `@pk.function` or a `@pk.classtype`'s __init__ for the argument types of a call site. The lowering itself is
FunctionLowerer: one `visit_<Node>` per supported construct (frontend/statements.py, expressions.py), calls
dispatched through the builtin registry to their handlers (calls.py, team.py); anything else raises a
KernelError with the location. Types come from the call's arguments (or annotations, when present); locals take
the type of their first assignment.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernelkit.errors import KernelSyntaxError, KernelTypeError, Loc
from kernelkit.frontend.annotations import check_view_annotation, param_annotations
from kernelkit.frontend.base import Context, Guard, scalar_type_of, tname
from kernelkit.frontend.calls import CallsMixin
from kernelkit.frontend.expressions import ExpressionsMixin
from kernelkit.frontend.lists import ListsMixin
from kernelkit.frontend.source import get_source
from kernelkit.frontend.statements import StatementsMixin
from kernelkit.frontend.team import TeamMixin
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T
from kernelkit.lang import annotations as A
from kernelkit.lang.reducers import Reducer

__all__ = [
    "FunctionLowerer",
    "Guard",
    "Signature",
    "lower_constructor",
    "lower_function",
    "lower_kernel",
    "param_annotations",
    "scalar_type_of",
]


class FunctionLowerer(StatementsMixin, ExpressionsMixin, CallsMixin, TeamMixin, ListsMixin):
    """Lowers one Python function body (a workunit or a device function) for one set of parameter types."""

    def specialize_function(self, wrapper, arg_types: list[T.Type], call_loc: Loc, self_info) -> N.Function:
        return lower_function(wrapper, arg_types, self.ctx, call_loc, self_info=self_info)

    def specialize_constructor(self, cls: type, arg_types: list[T.Type], call_loc: Loc) -> N.Function:
        return lower_constructor(cls, arg_types, self.ctx, call_loc)


def lower_function(
    wrapper, arg_types: list[T.Type], ctx: Context, call_loc: Loc, self_info: tuple | None = None
) -> N.Function:
    """Specialize a `@pk.function` for the argument types of one call site (memoized per kernel). For a method
    (`self_info` = (self name in the kernel, class, number of hidden member arguments)) the members come first."""
    fn = wrapper.py_function
    key = (fn, tuple(arg_types))
    if key in ctx.specialized:
        return ctx.specialized[key]
    if fn in ctx.stack:
        chain = " -> ".join(f.__name__ for f in ctx.stack[ctx.stack.index(fn) :]) + f" -> {fn.__name__}"
        raise KernelTypeError(f"recursion is not supported in kernels ({chain})", call_loc)
    src = get_source(fn)
    node = src.tree
    names = [a.arg for a in node.args.args]
    if node.args.vararg or node.args.kwarg or node.args.kwonlyargs:
        raise KernelSyntaxError("device functions take plain positional parameters", src.loc(node))
    own_self = None
    if self_info is not None:
        kernel_self, _cls, nhidden = self_info
        own_self = names[0]
        members = [t.split(".", 1)[1] for t in _hidden_names(ctx, kernel_self, nhidden)]
        names = [f"{own_self}.{m}" for m in members] + names[1:]
    if len(names) != len(arg_types):
        raise KernelTypeError(
            f"{fn.__name__}() takes {len(names)} argument(s) but {len(arg_types)} were given", call_loc
        )
    anns = param_annotations(fn)
    params: dict[str, T.Type] = {}
    for name, t in zip(names, arg_types, strict=True):
        ann = anns.get(name)
        if isinstance(ann, T.ScalarType) and isinstance(t, T.ScalarType):
            t = ann
        elif isinstance(ann, A.ViewAnnotation) and isinstance(t, T.ViewType):
            check_view_annotation(name, ann, t, src.loc(node))
        params[name] = t
    ctx.stack.append(fn)
    try:
        lw = FunctionLowerer(
            fn, src, ctx, params, in_function=True, self_name=own_self, self_cls=self_info[1] if self_info else None
        )
        body = lw.body(node.body)
    finally:
        ctx.stack.pop()
    rtypes = [r.value.type for r in lw.returns if r.value is not None]
    if rtypes and len(rtypes) != len(lw.returns):
        raise KernelTypeError(f"{fn.__name__}() returns a value on some paths and nothing on others", lw.returns[0].loc)
    ret: T.Type = T.void
    if rtypes and any(isinstance(t, T.StructType) for t in rtypes):
        if any(t != rtypes[0] for t in rtypes):
            raise KernelTypeError(f"{fn.__name__}() returns values of different types", lw.returns[0].loc)
        ret = rtypes[0]
    elif rtypes:
        ret = rtypes[0]
        for rv in (r.value for r in lw.returns[1:]):
            ret = T.promote(ret, rv.type) if not (isinstance(rv, N.Const) and rv.weak) else ret
        for r in lw.returns:
            r.value = FunctionLowerer.cast(r.value, ret)
    f = N.Function(
        name=f"kkf_{len(ctx.functions)}_{_c_ident(fn.__name__)}",
        pyname=fn.__qualname__,
        params=[N.Param(n, params[n], src.loc(node)) for n in names],
        ret=ret,
        body=body,
        locals=lw.locals,
        loc=src.loc(node),
    )
    f._writes = {n for n in lw.writes if n in params}  # type: ignore[attr-defined]
    ctx.functions.append(f)
    ctx.specialized[key] = f
    return f


def lower_constructor(cls: type, arg_types: list[T.Type], ctx: Context, call_loc: Loc) -> N.Function:
    """Specialize a classtype's __init__ for these argument types: a function returning the new struct."""
    init = cls.__init__
    key = (init, "ctor", tuple(arg_types))
    if key in ctx.specialized:
        return ctx.specialized[key]
    if init in ctx.stack:
        raise KernelTypeError(f"{cls.__name__}.__init__ constructs itself (recursion)", call_loc)
    src = get_source(init)
    node = src.tree
    names = [a.arg for a in node.args.args]
    if len(names) - 1 != len(arg_types):
        raise KernelTypeError(
            f"{cls.__name__}() takes {len(names) - 1} argument(s) but {len(arg_types)} were given", call_loc
        )
    anns = param_annotations(init)
    params: dict[str, T.Type] = {}
    for name, t in zip(names[1:], arg_types, strict=True):
        ann = anns.get(name)
        params[name] = ann if isinstance(ann, T.ScalarType) and isinstance(t, T.ScalarType) else t
    st = T.StructType(f"kks_{len(ctx.structs)}_{_c_ident(cls.__name__)}", cls.__name__)
    st.cls = cls  # type: ignore[attr-defined]
    ctx.stack.append(init)
    try:
        lw = FunctionLowerer(init, src, ctx, params, in_function=True)
        lw.building = names[0]
        lw.locals[names[0]] = st
        body = lw.body(node.body)
    finally:
        ctx.stack.pop()
    if any(r.value is not None for r in lw.returns):
        raise KernelTypeError(f"{cls.__name__}.__init__ returns a value", lw.returns[0].loc)
    for r in lw.returns:
        r.value = N.Var(st, r.loc, names[0])
    body.append(N.Return(src.loc(node), N.Var(st, src.loc(node), names[0])))
    ctx.structs.append(st)
    f = N.Function(
        name=f"kkf_{len(ctx.functions)}_{_c_ident(cls.__name__)}_init",
        pyname=f"{cls.__qualname__}",
        params=[N.Param(n, params[n], src.loc(node)) for n in names[1:]],
        ret=st,
        body=body,
        locals=lw.locals,
        loc=src.loc(node),
    )
    f._writes = {n for n in lw.writes if n in params}  # type: ignore[attr-defined]
    ctx.functions.append(f)
    ctx.specialized[key] = f
    return f


def _hidden_names(ctx: Context, kernel_self: str, n: int) -> list[str]:
    return ctx.hidden_members[:n]


def _c_ident(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else f"x{ord(ch):x}" for ch in name)


@dataclass
class Signature:
    """What the runtime knows about one launch, before lowering."""

    pattern: str  # for | reduce | scan
    rank: int
    arg_types: dict[str, T.Type]
    reducer: Reducer | None = None
    acc_type: T.ScalarType | None = None  # from initial_value, when given
    self_name: str | None = None  # ClassSty: the workunit is a method; "self.x" arguments are its members
    self_cls: type | None = None
    team: bool = False  # TeamPolicy: the first parameter is a TeamMember (rank is 0)


def lower_kernel(wu, sig: Signature) -> tuple[N.Kernel, list[Guard]]:
    """Lower a workunit for one launch signature."""
    fn = wu.py_function
    src = get_source(fn)
    node = src.tree
    a = node.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
        raise KernelSyntaxError(
            "workunits take plain positional parameters (no *args, **kwargs, keyword-only)", src.loc(node)
        )
    names = [x.arg for x in a.args]
    if sig.self_name is not None:
        names = names[1:]
    nhead = sig.rank + (1 if sig.team else 0) + (1 if sig.pattern == "reduce" else 2 if sig.pattern == "scan" else 0)
    if len(names) < nhead:
        need = {
            "for": "the index",
            "reduce": "the index and the accumulator",
            "scan": "the index, the accumulator and the `final` flag",
        }[sig.pattern]
        if sig.rank > 1:
            need = need.replace("the index", f"{sig.rank} indices")
        raise KernelTypeError(
            f"workunit {fn.__name__!r} used with parallel_{sig.pattern} must take {need} "
            f"first; it has {len(names)} parameter(s)",
            src.loc(node),
        )
    anns = param_annotations(fn)
    head, rest = names[:nhead], names[nhead:]
    loc = src.loc(node)
    first_ann = anns.get(names[0]) if names else None
    if first_ann is T.team and not sig.team:
        raise KernelTypeError(f"workunit {fn.__name__!r} takes a pk.TeamMember: launch it with pk.TeamPolicy", loc)
    if sig.pattern != "for" and any(n in sig.arg_types for n in head[sig.rank :]):
        what = "an accumulator" if sig.pattern == "reduce" else "an accumulator and a `final` flag"
        raise KernelTypeError(
            f"workunit {fn.__name__!r} is used with parallel_{sig.pattern}, so after its index it must take "
            f"{what} (e.g. `def {fn.__name__}({', '.join(head[: sig.rank])}, acc"
            f"{', final' if sig.pattern == 'scan' else ''}, ...)`); {head[sig.rank]!r} is a keyword argument",
            loc,
        )
    params: dict[str, T.Type] = {}
    indices = [N.Param(n, T.int64, loc) for n in head[: sig.rank]]
    for p in indices:
        params[p.name] = T.int64
    team_param = None
    if sig.team:
        team_param = N.Param(head[0], T.team, loc)
        params[head[0]] = T.team
        head = head[1:]
    acc = final = None
    if sig.pattern in ("reduce", "scan"):
        red = sig.reducer
        ann = anns.get(head[sig.rank])
        dtype = (
            ann.dtype
            if isinstance(ann, A.AccAnnotation) and ann.dtype
            else ann
            if isinstance(ann, T.ScalarType)
            else sig.acc_type or red.default
        )
        at: T.Type = T.LocType(dtype) if red.with_loc else T.AccType(dtype)
        acc = N.Param(head[sig.rank], at, loc)
        params[acc.name] = at
        if sig.pattern == "scan":
            final = N.Param(head[sig.rank + 1], T.bool_, loc)
            params[final.name] = T.bool_
    hidden = sorted(n for n in sig.arg_types if sig.self_name and n.startswith(f"{sig.self_name}."))
    missing = [n for n in rest if n not in sig.arg_types]
    extra = [n for n in sig.arg_types if n not in rest and n not in hidden]
    if missing or extra:
        msg = []
        if missing:
            msg.append(f"missing keyword argument{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}")
        if extra:
            msg.append(f"unexpected keyword argument{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}")
        raise KernelTypeError(f"{fn.__name__}(): " + "; ".join(msg) + f" (its parameters: {', '.join(rest)})", loc)
    kparams = []
    for n in rest + hidden:
        t = sig.arg_types[n]
        ann = anns.get(n)
        if isinstance(ann, A.ViewAnnotation):
            if not isinstance(t, T.ViewType):
                raise KernelTypeError(f"argument {n!r} is annotated {ann!r} but a {tname(t)} value was passed", loc)
            check_view_annotation(n, ann, t, loc)
        elif isinstance(ann, T.ScalarType):
            if not isinstance(t, T.ScalarType):
                raise KernelTypeError(f"argument {n!r} is annotated {ann.name} but {tname(t)} was passed", loc)
            if (ann.is_int or ann.is_bool) and t.is_float:
                raise KernelTypeError(f"argument {n!r} is annotated {ann.name} but a float was passed", loc)
            t = ann
        params[n] = t
        kparams.append(N.Param(n, t, loc))
    ctx = Context(hidden_members=hidden)
    lw = FunctionLowerer(fn, src, ctx, params, in_function=False, self_name=sig.self_name, self_cls=sig.self_cls)
    body = lw.body(node.body)
    kernel = N.Kernel(
        name=_c_ident(fn.__name__),
        pattern=sig.pattern,
        indices=indices,
        acc=acc,
        final=final,
        params=kparams,
        body=body,
        locals=lw.locals,
        functions=list(ctx.functions),
        reducer=sig.reducer.name if sig.reducer else None,
        loc=loc,
        writes={n for n in lw.writes if isinstance(params.get(n), T.ViewType)},
        team=team_param,
        structs=list(ctx.structs),
    )
    return kernel, ctx.guards
