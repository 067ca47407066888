"""What every lowering module shares: compile-time values, guards, the per-kernel context, the call-handler
table, and LowererBase (name lookup and the typing helpers).

Values met while lowering are either IR expressions (typed, located) or compile-time values (`CT`): modules,
callables, dtypes, annotations, nested workunits. Globals and closure variables are read once and baked in as
constants, and recorded as guards so that rebinding them makes the launcher compile a new specialization.
"""

from __future__ import annotations

import ast
import builtins as _py_builtins
import types as _pytypes
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from kernelkit.errors import KernelSyntaxError, KernelTypeError, Loc
from kernelkit.frontend.annotations import eval_annotation, resolve_annotation_value
from kernelkit.frontend.source import Source
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T
from kernelkit.lang import annotations as A
from kernelkit.lang import kmath, registry


@dataclass(frozen=True)
class CT:
    """A compile-time value met while lowering: a module, a callable, a dtype, an annotation."""

    value: object


@dataclass(frozen=True)
class Guard:
    """`holder[key] is value` (a globals dict) or `holder.cell_contents is value` (key None) must still hold for
    a compiled specialization to be reused."""

    holder: object
    key: str | None
    value: object


@dataclass
class Context:
    """State shared by the kernel and every device function it calls."""

    guards: list[Guard] = field(default_factory=list)
    functions: list[N.Function] = field(default_factory=list)
    specialized: dict[tuple, N.Function] = field(default_factory=dict)
    stack: list[object] = field(default_factory=list)
    hidden_members: list[str] = field(default_factory=list)  # ClassSty: "self.x" parameters, sorted
    structs: list = field(default_factory=list)  # @pk.classtype struct types, in creation order

    def guard(self, g: Guard) -> None:
        if not any(x.holder is g.holder and x.key == g.key for x in self.guards):
            self.guards.append(g)


def scalar_type_of(value) -> T.ScalarType | None:
    """The kernel type of a Python or NumPy scalar value."""
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return T.bool_
    if isinstance(value, int):
        return T.int64
    if isinstance(value, float):
        return T.float64
    if isinstance(value, np.generic):
        return T.from_numpy(value.dtype)
    return None


class Closure:
    """A nested workunit (an inner def), inlined where a nested pattern or single uses it."""

    def __init__(self, node: ast.FunctionDef):
        self.node = node


class ScratchHandle:
    """team.team_scratch(level) / team.thread_scratch(level), before a ScratchView is made from it."""

    def __init__(self, team, level, per_thread: bool):
        self.team = team
        self.level = level
        self.per_thread = per_thread


class Per:
    """pk.PerTeam(team) / pk.PerThread(team): the first argument of pk.single."""

    def __init__(self, per: str, team):
        self.per = per
        self.team = team


class Method:
    """A `@pk.function` method reached through `self`."""

    def __init__(self, function):
        self.function = function


class ViewAttr:
    """`v.shape` or `v.extent` before it is subscripted or called."""

    def __init__(self, view: N.Expr, attr: str):
        self.view = view
        self.attr = attr
        self.type = None


# kind (lang/registry.py) -> the method that lowers a call to an object of that kind:
# handler(lowerer, callee, entry, call node, statement) -> IR expression, IR statement, CT or None
HANDLERS: dict[str, Callable] = {}


def handles(*kinds: str):
    """Make the decorated lowerer method the handler of calls to objects of these registry kinds."""

    def deco(method):
        for kind in kinds:
            if kind in HANDLERS:
                raise ValueError(f"two handlers for calls of kind {kind!r}")
            HANDLERS[kind] = method
        return method

    return deco


# IR type class -> the method that lowers `value.attr(...)` on a kernel value of that type:
# handler(lowerer, value, call node, statement)
METHOD_HANDLERS: dict[type, Callable] = {}


def handles_methods(*type_classes: type):
    """Make the decorated lowerer method the handler of method calls on values of these IR types."""

    def deco(method):
        for cls in type_classes:
            if cls in METHOD_HANDLERS:
                raise ValueError(f"two handlers for methods of {cls.__name__}")
            METHOD_HANDLERS[cls] = method
        return method

    return deco


def is_pk_function(obj) -> bool:
    """A `@pk.function` (a device function the kernel may call)."""
    entry = registry.lookup(obj)
    return entry is not None and entry.kind == "function"


def describe(value) -> str:
    if isinstance(value, _pytypes.ModuleType):
        return f"module {value.__name__!r}"
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    return f"{name!r}" if name else f"{type(value).__name__} object"


def tname(t) -> str:
    if isinstance(t, T.ScalarType):
        return t.name
    if isinstance(t, T.ViewType):
        return f"a rank-{t.rank} View of {t.dtype.name}"
    if isinstance(t, T.AccType):
        return f"an accumulator of {t.dtype.name}"
    return str(t)


class LowererBase(ast.NodeVisitor):
    """The state of lowering one Python function body, name lookup, and the typing helpers every construct uses.
    FunctionLowerer (frontend/lower.py) adds the statements, expressions and constructs."""

    def __init__(
        self,
        fn,
        src: Source,
        ctx: Context,
        params: dict[str, T.Type],
        in_function: bool,
        self_name: str | None = None,
        self_cls: type | None = None,
    ):
        self.self_name = self_name  # ClassSty: the `self` parameter, whose members are hidden kernel parameters
        self.self_cls = self_cls
        self.fn = fn
        self.src = src
        self.ctx = ctx
        self.params = params
        self.locals: dict[str, T.Type] = {}
        self.in_function = in_function
        self.returns: list[N.Return] = []
        self.writes: set[str] = set()
        self.loop_depth = 0
        self._tmp = 0
        # nested workunits (inner defs): visible closures per scope, local renames per scope, and statements a
        # nested reduction used as a value must run before the statement that uses it
        self.closures: list[dict[str, ast.FunctionDef]] = [{}]
        self.renames: list[dict[str, str]] = []
        self.pending: list[N.Stmt] = []
        self.in_closure: list[str] = []  # kinds of the nested functions being inlined: pattern | single
        self.building: str | None = None  # in a classtype's __init__: the name of `self`, whose fields grow
        self.aliases: dict[str, str | None] = {}  # subview locals -> the View parameter they look into

    # ------------------------------------------------------------------------------------------ helpers

    def loc(self, node: ast.AST) -> Loc:
        return self.src.loc(node)

    def err(self, node: ast.AST, msg: str, cls=KernelTypeError):
        return cls(msg, self.loc(node))

    def generic_visit(self, node: ast.AST):
        raise KernelSyntaxError(f"`{type(node).__name__}` is not supported in kernels", self.loc(node))

    def body(self, stmts: list[ast.stmt]) -> list[N.Stmt]:
        out: list[N.Stmt] = []
        saved, self.pending = self.pending, []
        for s in stmts:
            r = self.visit(s)
            if self.pending:
                out.extend(self.pending)
                self.pending = []
            if r is None:
                continue
            out.extend(r if isinstance(r, list) else [r])
        self.pending = saved
        return out

    def rn(self, name: str) -> str:
        """The local a name denotes in the innermost nested function that renamed it."""
        for scope in reversed(self.renames):
            if name in scope:
                return scope[name]
        return name

    def lookup(self, name: str, node: ast.AST):
        """A name's meaning: a local or parameter (IR Var), or a captured value (Const or CT)."""
        name = self.rn(name)
        for scope in reversed(self.closures):
            if name in scope:
                return CT(Closure(scope[name]))
        if name in self.locals:
            return N.Var(self._value_type(self.locals[name]), self.loc(node), name)
        if name in self.params:
            return N.Var(self._value_type(self.params[name]), self.loc(node), name)
        fn = self.fn
        code = fn.__code__
        if name in code.co_freevars and fn.__closure__:
            cell = fn.__closure__[code.co_freevars.index(name)]
            try:
                value = cell.cell_contents
            except ValueError:
                raise self.err(node, f"closure variable {name!r} is not bound yet") from None
            return self.captured(value, Guard(cell, None, value), name, node)
        g = fn.__globals__
        if name in g:
            return self.captured(g[name], Guard(g, name, g[name]), name, node)
        if hasattr(_py_builtins, name):
            return CT(getattr(_py_builtins, name))
        raise self.err(node, f"name {name!r} is not defined (not a parameter, local, global or builtin)")

    def captured(self, value, guard: Guard, name: str, node: ast.AST):
        st = scalar_type_of(value)
        if st is not None:
            self.ctx.guard(guard)
            v = value.item() if isinstance(value, np.generic) else value
            return N.Const(st, self.loc(node), v, weak=False)
        if isinstance(value, (_pytypes.ModuleType, type, T.ScalarType, A.ViewAnnotation, A.AccAnnotation)):
            return CT(value)
        if getattr(value, "_kk_kind", None) == "workunit" and name in kmath.MATH and hasattr(kmath, name):
            # a workunit named like a math function (`def sin(i, v): v[i] = sin(v[i])`, PyKokkos gh-192): kernels
            # cannot call workunits, so the name means the math function, as in PyKokkos
            self.ctx.guard(guard)
            return CT(getattr(kmath, name))
        if registry.lookup(value) is not None:  # math, atomics, @pk.function, nested ranges, reducers, ...
            self.ctx.guard(guard)
            return CT(value)
        if hasattr(value, "__array_interface__") or hasattr(value, "__cuda_array_interface__"):
            raise self.err(
                node,
                f"{name!r} is an array captured from the enclosing scope; pass it to the kernel as a keyword "
                "argument instead (captured arrays would be baked into the compiled code)",
            )
        raise self.err(node, f"{name!r} ({type(value).__name__}) cannot be used inside a kernel")

    @staticmethod
    def _value_type(t: T.Type) -> T.Type:
        return t.dtype if isinstance(t, T.AccType) else t

    def new_tmp(self, t: T.Type) -> str:
        self._tmp += 1
        name = f"_t{self._tmp}"
        self.locals[name] = t
        return name

    def scalar(self, e, node: ast.AST, what: str = "value") -> N.Expr:
        if isinstance(e, CT):
            raise self.err(node, f"{describe(e.value)} cannot be used as a {what}")
        if not isinstance(e.type, T.ScalarType):
            raise self.err(node, f"expected a scalar {what}, got {tname(e.type)}")
        return e

    def expr(self, node: ast.AST) -> N.Expr:
        e = self.visit(node)
        if isinstance(e, ViewAttr):
            raise self.err(node, f"use {e.view.name}.shape[k] or {e.view.name}.extent(k) with a constant k")
        if isinstance(e, CT):
            if isinstance(e.value, float) or isinstance(e.value, int):
                return N.Const(scalar_type_of(e.value), self.loc(node), e.value)
            raise self.err(node, f"{describe(e.value)} cannot be used as a value")
        return e

    # ------------------------------------------------------------------------------------------ typing

    def unify(self, a: N.Expr, b: N.Expr) -> T.ScalarType:
        ta, tb = a.type, b.type
        assert isinstance(ta, T.ScalarType) and isinstance(tb, T.ScalarType)
        wa = isinstance(a, N.Const) and a.weak
        wb = isinstance(b, N.Const) and b.weak
        if wa and not wb:
            return tb if (tb.is_float or ta.is_int or ta.is_bool) and not tb.is_bool else T.promote(ta, tb)
        if wb and not wa:
            return ta if (ta.is_float or tb.is_int or tb.is_bool) and not ta.is_bool else T.promote(ta, tb)
        return T.promote(ta, tb)

    @staticmethod
    def cast(e: N.Expr, t: T.Type) -> N.Expr:
        if e.type == t:
            return e
        if isinstance(e, N.Const) and isinstance(t, T.ScalarType):
            v = e.value
            v = float(v) if t.is_float else (bool(v) if t.is_bool else int(v))
            return N.Const(t, e.loc, v, weak=False)
        return N.Cast(t, e.loc, e)

    def truth(self, e: N.Expr, node: ast.AST) -> N.Expr:
        self.scalar(e, node, "condition")
        if e.type is T.bool_:
            return e
        return N.Compare(T.bool_, e.loc, "!=", e, self.cast(N.Const(e.type, e.loc, 0), e.type))

    def check_assign(self, name: str, have: T.Type, value: N.Expr, node: ast.AST) -> N.Expr:
        """Implicit conversions a local or accumulator accepts: any int/bool into a wider-or-equal slot, ints into
        floats, float64 into float32. A float into an int variable is an error (it would truncate silently)."""
        vt = value.type
        if not isinstance(vt, T.ScalarType):
            raise self.err(node, f"cannot assign {tname(vt)} to {name!r}: Views cannot be stored in locals")
        if isinstance(have, T.ScalarType):
            if (have.is_int or have.is_bool) and vt.is_float:
                raise self.err(
                    node,
                    f"cannot assign a {vt.name} value to {name!r}, which holds {have.name} (first assigned an "
                    f"integer); initialize it with a float (e.g. {name} = 0.0) or convert with int(...)",
                )
            if have.is_bool and not vt.is_bool and not (isinstance(value, N.Const) and value.weak):
                raise self.err(node, f"cannot assign a {vt.name} value to {name!r}, which holds bool")
            return self.cast(value, have)
        raise self.err(node, f"cannot assign to {name!r} ({tname(have)})")

    # ------------------------------------------------------------------------------------------ annotations

    def resolve_annotation(self, node: ast.AST):
        """Evaluate an annotation written in the kernel (a local's or a nested workunit's parameter's) the way
        Python would: in the function's globals and closure."""
        return resolve_annotation_value(self.resolve_annotation_object(node), self.loc(node))

    @staticmethod
    def scalar_annotation(value) -> T.ScalarType | None:
        st = resolve_annotation_value(value, None)
        return st if isinstance(st, T.ScalarType) else None

    def resolve_annotation_object(self, node: ast.AST):
        """The annotation's Python value (see resolve_annotation)."""
        fn = self.fn
        scope = {}
        if fn.__closure__:
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=True):
                try:
                    scope[name] = cell.cell_contents
                except ValueError:  # an empty cell: the name is not bound yet, so the annotation cannot use it
                    continue
        try:
            value = eval_annotation(compile(ast.Expression(node), self.src.file, "eval"), fn.__globals__, scope)
        except Exception:  # noqa: BLE001 - an annotation we cannot evaluate is one we do not model
            raise self.err(node, f"cannot evaluate the annotation {ast.unparse(node)!r}") from None
        return value

    def mark_write(self, view: N.Expr) -> None:
        """Record that the kernel writes the View parameter `view` denotes (through subviews and aliases)."""
        while isinstance(view, N.SubView):
            view = view.view
        if isinstance(view, N.Var):
            self.writes.add(self.aliases.get(view.name) or view.name)
