"""Python AST -> typed IR.

One `visit_<Node>` per supported construct; `generic_visit` rejects everything else with the location. Types
come from the call's arguments (or annotations, when present); locals take the type of their first assignment.
Globals and closure variables are read once, baked in as constants, and recorded as guards so that rebinding
them makes the launcher compile a new specialization.
"""

from __future__ import annotations

import ast
import builtins as _py_builtins
import types as _pytypes
from dataclasses import dataclass, field

import numpy as np

from kernelkit.api import annotations as A
from kernelkit.api.reducers import Reducer
from kernelkit.errors import KernelSyntaxError, KernelTypeError, KernelValueError, Loc
from kernelkit.frontend import builtins as B
from kernelkit.frontend.source import Source, get_source
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T

_BIN = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
    ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
}
_CMP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


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


def _is_pk_function(obj) -> bool:
    return getattr(obj, "_kk_kind", None) == "function"


class FunctionLowerer(ast.NodeVisitor):
    """Lowers one Python function body (a workunit or a device function) for one set of parameter types."""

    def __init__(self, fn, src: Source, ctx: Context, params: dict[str, T.Type], in_function: bool,
                 self_name: str | None = None, self_cls: type | None = None):
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
                return CT(_Closure(scope[name]))
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
        if callable(value) and (value in B.CALLABLES or _is_pk_function(value)):
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
            raise self.err(node, f"{_describe(e.value)} cannot be used as a {what}")
        if not isinstance(e.type, T.ScalarType):
            raise self.err(node, f"expected a scalar {what}, got {_tname(e.type)}")
        return e

    def expr(self, node: ast.AST) -> N.Expr:
        e = self.visit(node)
        if isinstance(e, _ViewAttr):
            raise self.err(node, f"use {e.view.name}.shape[k] or {e.view.name}.extent(k) with a constant k")
        if isinstance(e, CT):
            if isinstance(e.value, float) or isinstance(e.value, int):
                return N.Const(scalar_type_of(e.value), self.loc(node), e.value)
            raise self.err(node, f"{_describe(e.value)} cannot be used as a value")
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
            raise self.err(node, f"cannot assign {_tname(vt)} to {name!r}: Views cannot be stored in locals")
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
        raise self.err(node, f"cannot assign to {name!r} ({_tname(have)})")

    # ------------------------------------------------------------------------------------------ statements

    def visit_Pass(self, node):
        return None

    def visit_FunctionDef(self, node: ast.FunctionDef):
        # a nested workunit: inlined where pk.parallel_for/reduce/scan or pk.single uses it
        if node.decorator_list:
            raise self.err(node, "nested workunits take no decorators", KernelSyntaxError)
        self.closures[-1][node.name] = node
        return None

    def visit_Nonlocal(self, node: ast.Nonlocal):
        if not self.in_closure:
            raise self.err(node, "`nonlocal` is only meaningful in a nested workunit", KernelSyntaxError)
        return None  # the names were left un-renamed when the nested function was entered

    def visit_Expr(self, node: ast.Expr):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None  # docstring
        if not isinstance(node.value, ast.Call):
            raise self.err(node, "an expression statement must be a call (it has no effect otherwise)",
                           KernelSyntaxError)
        r = self.visit_Call(node.value, statement=True)
        if r is None or isinstance(r, N.Stmt):
            return r
        return N.ExprStmt(r.loc, r)

    def visit_Assign(self, node: ast.Assign):
        out: list[N.Stmt] = []
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple):
            tgt = node.targets[0]
            if not isinstance(node.value, ast.Tuple) or len(node.value.elts) != len(tgt.elts):
                raise self.err(node, "tuple assignment needs a tuple of the same length on the right",
                               KernelSyntaxError)
            vals = [self.scalar(self.expr(v), v) for v in node.value.elts]
            tmps = []
            for v in vals:  # evaluate every right-hand side before any assignment: `a, b = b, a` swaps
                t = self.new_tmp(v.type)
                tmps.append(N.Var(v.type, v.loc, t))
                out.append(N.Assign(v.loc, tmps[-1], v))
            for t_node, tmp in zip(tgt.elts, tmps):
                out.extend(self.assign_to(t_node, tmp, node))
            return out
        value = self.expr(node.value)
        if len(node.targets) > 1 and not isinstance(value, (N.Const, N.Var)):
            t = self.new_tmp(self.scalar(value, node.value).type)
            out.append(N.Assign(value.loc, N.Var(value.type, value.loc, t), value))
            value = N.Var(value.type, value.loc, t)
        for target in node.targets:
            out.extend(self.assign_to(target, value, node))
        return out

    def visit_AnnAssign(self, node: ast.AnnAssign):
        if isinstance(node.target, ast.Attribute) and self.building is not None and node.value is not None:
            ann = self.resolve_annotation(node.annotation)
            value = self.expr(node.value)
            if isinstance(ann, T.ScalarType) and isinstance(node.target.value, ast.Name) and \
                    node.target.value.id == self.building:
                st = self.locals[self.building]
                if node.target.attr not in st.fields:
                    if ann.is_int and isinstance(value.type, T.ScalarType) and value.type.is_float:
                        raise self.err(node, f"field {node.target.attr!r} is annotated {ann.name} but gets a float")
                    st.fields[node.target.attr] = ann
            return self.assign_to(node.target, value, node)
        if not isinstance(node.target, ast.Name):
            raise self.err(node, "annotated assignment needs a plain name", KernelSyntaxError)
        ann = self.resolve_annotation(node.annotation)
        if isinstance(ann, A.ViewAnnotation) or (ann is None and node.value is not None):
            # `s: pk.ScratchView1D[...] = ...` and annotations we do not model: the value's type decides
            return self.assign_to(node.target, self.expr(node.value), node)
        if not isinstance(ann, T.ScalarType):
            raise self.err(node.annotation, "a local variable annotation must be a scalar type (int, float, ...)")
        name = self.rn(node.target.id)
        self._check_new_local(name, node)
        if name in self.locals and self.locals[name] != ann:
            raise self.err(node, f"{name!r} was declared {_tname(self.locals[name])}; cannot redeclare as {ann}")
        self.locals[name] = ann
        if node.value is None:
            return None
        value = self.scalar(self.expr(node.value), node.value)
        if ann.is_int and value.type.is_float:
            raise self.err(node, f"cannot initialize integer {name!r} with a {value.type.name} value")
        return N.Assign(self.loc(node), N.Var(ann, self.loc(node), name), self.cast(value, ann))

    def _check_new_local(self, name: str, node: ast.AST):
        if name in self.params:
            t = self.params[name]
            if not isinstance(t, (T.ScalarType, T.AccType)):
                raise self.err(node, f"cannot assign to parameter {name!r} ({_tname(t)})")

    def assign_to(self, target: ast.AST, value, node: ast.AST) -> list[N.Stmt]:
        loc = self.loc(target)
        if isinstance(target, ast.Name):
            name = self.rn(target.id)
            if isinstance(value, CT):
                raise self.err(node, f"{_describe(value.value)} cannot be assigned to a variable")
            self._check_new_local(name, target)
            if name in self.params:
                have = self.params[name]
                if isinstance(have, T.LocType):
                    raise self.err(target, f"assign to {name}.val and {name}.loc, not to {name!r} itself")
                slot = have.dtype if isinstance(have, T.AccType) else have
                return [N.Assign(loc, N.Var(slot, loc, name), self.check_assign(name, slot, value, node))]
            if name in self.locals:
                have = self.locals[name]
                return [N.Assign(loc, N.Var(have, loc, name), self.check_assign(name, have, value, node))]
            if isinstance(value, N.SubView):
                self.locals[name] = value.type
                root = value.view
                self.aliases[name] = self.aliases.get(root.name, root.name) if isinstance(root, N.Var) else None
                return [N.Assign(loc, N.Var(value.type, loc, name), value)]
            if (isinstance(value.type, T.ViewType) and value.type.scratch and isinstance(value, N.ScratchAlloc)) \
                    or isinstance(value.type, (T.LocType, T.RandomStateType, T.StructType)):
                self.locals[name] = value.type  # a ScratchView, or a nested MinLoc/MaxLoc result
                return [N.Assign(loc, N.Var(value.type, loc, name), value)]
            if not isinstance(value.type, T.ScalarType):
                raise self.err(node, f"cannot assign {_tname(value.type)} to {name!r}: Views cannot be stored in "
                                     "local variables inside kernels; index the parameter directly")
            t = value.type
            self.locals[name] = t
            return [N.Assign(loc, N.Var(t, loc, name), value)]
        if isinstance(target, ast.Subscript):
            view, index = self.view_index(target)
            vt = view.type
            self.scalar(value, node)
            self.mark_write(view)
            return [N.Store(loc, view, index, self.cast(value, vt.dtype))]
        if isinstance(target, ast.Attribute):
            obj = self.expr(target.value)
            if isinstance(obj.type, T.StructType):
                st = obj.type
                self.scalar(value, node) if not isinstance(value.type, T.StructType) else None
                if target.attr not in st.fields:
                    if not (self.building is not None and isinstance(obj, N.Var) and obj.name == self.building):
                        raise self.err(target, f"{st.pyname} has no field {target.attr!r}; fields are created in "
                                               "__init__")
                    if isinstance(value.type, (T.ViewType, T.AccType)):
                        raise self.err(target, "classtype fields hold numbers or other classtypes, not Views")
                    st.fields[target.attr] = value.type
                ft = st.fields[target.attr]
                f = N.Field(ft, loc, obj, target.attr)
                v = value if isinstance(ft, T.StructType) else self.check_assign(f"{st.pyname}.{target.attr}", ft,
                                                                                  value, node)
                return [N.FieldAssign(loc, f, v)]
            if isinstance(obj.type, T.LocType) and target.attr in ("val", "loc"):
                ft = obj.type.val if target.attr == "val" else obj.type.loc
                f = N.Field(ft, loc, obj, target.attr)
                return [N.FieldAssign(loc, f, self.check_assign(f"{obj.name}.{target.attr}", ft, value, node))]
            raise self.err(target, f"cannot assign to attribute {target.attr!r}")
        raise self.err(target, f"cannot assign to `{type(target).__name__}`", KernelSyntaxError)

    _ATOMIC_AUG = {"+": "add", "-": "sub", "*": "mul", "/": "div", "//": "div", "&": "and", "|": "or", "^": "xor"}

    def visit_AugAssign(self, node: ast.AugAssign):
        op = _BIN.get(type(node.op))
        if op is None:
            raise self.err(node, f"operator `{type(node.op).__name__}` is not supported", KernelSyntaxError)
        if isinstance(node.target, ast.Subscript):
            view, index = self.view_index(node.target)
            if view.type.atomic:  # the Atomic trait: `v[i] += x` is an atomic update
                aop = self._ATOMIC_AUG.get(op)
                dt = view.type.dtype
                if aop is None or (aop in ("and", "or", "xor") and dt.is_float) or (op == "/" and not dt.is_float) \
                        or (op == "//" and dt.is_float):
                    raise self.err(node, f"`{op}=` on a View with the Atomic trait has no atomic form")
                value = self.cast(self.scalar(self.expr(node.value), node.value), dt)
                self.mark_write(view)
                return N.ExprStmt(self.loc(node), N.Atomic(dt, self.loc(node), aop, view, index, [value], False))
        current = self.expr(node.target)
        rhs = self.expr(node.value)
        value = self.binop(op, current, rhs, node)
        return self.assign_to(node.target, value, node)

    def visit_If(self, node: ast.If):
        cond = self.truth(self.expr(node.test), node.test)
        return N.If(self.loc(node), cond, self.body(node.body), self.body(node.orelse))

    def visit_While(self, node: ast.While):
        if node.orelse:
            raise self.err(node, "`while ... else` is not supported in kernels", KernelSyntaxError)
        cond = self.truth(self.expr(node.test), node.test)
        if self.pending:
            raise self.err(node.test, "a nested parallel_reduce/scan cannot be part of a while condition; assign "
                                      "it to a variable first", KernelSyntaxError)
        self.loop_depth += 1
        body = self.body(node.body)
        self.loop_depth -= 1
        return N.While(self.loc(node), cond, body)

    def visit_For(self, node: ast.For):
        if node.orelse:
            raise self.err(node, "`for ... else` is not supported in kernels", KernelSyntaxError)
        it = node.iter
        callee = self.visit(it.func) if isinstance(it, ast.Call) else None
        if not (isinstance(callee, CT) and callee.value is range):
            raise self.err(it, "kernels can only loop over range(...)", KernelSyntaxError)
        if it.keywords or not 1 <= len(it.args) <= 3:
            raise self.err(it, "range() takes 1 to 3 positional arguments", KernelSyntaxError)
        args = [self.scalar(self.expr(a), a, "range bound") for a in it.args]
        for a, a_node in zip(args, it.args):
            if not (a.type.is_int or a.type.is_bool):
                raise self.err(a_node, f"range() bounds must be integers, got {a.type.name}")
        args = [self.cast(a, T.int64) for a in args]
        zero, one = N.Const(T.int64, self.loc(it), 0), N.Const(T.int64, self.loc(it), 1)
        start, stop, step = (zero, args[0], one) if len(args) == 1 else (args[0], args[1], args[2] if len(args) == 3 else one)
        if isinstance(step, N.Const) and step.value == 0:
            raise self.err(it.args[2], "range() step must not be zero", KernelValueError)
        if not isinstance(node.target, ast.Name):
            raise self.err(node.target, "the loop variable must be a plain name", KernelSyntaxError)
        name = self.rn(node.target.id)
        self._check_new_local(name, node.target)
        have = self.locals.get(name, self.params.get(name))
        if have is None:
            self.locals[name] = T.int64
        elif not (isinstance(have, T.ScalarType) and have.is_int):
            raise self.err(node.target, f"loop variable {name!r} already holds {_tname(have)}")
        var = N.Var(self.locals.get(name, have), self.loc(node.target), name)
        self.loop_depth += 1
        body = self.body(node.body)
        self.loop_depth -= 1
        return N.For(self.loc(node), var, start, stop, step, body)

    def visit_Break(self, node):
        if not self.loop_depth:
            raise self.err(node, "`break` outside a loop", KernelSyntaxError)
        return N.Break(self.loc(node))

    def visit_Continue(self, node):
        if not self.loop_depth:
            raise self.err(node, "`continue` outside a loop", KernelSyntaxError)
        return N.Continue(self.loc(node))

    def visit_Return(self, node: ast.Return):
        if self.in_closure:
            if self.in_closure[-1] != "pattern" or node.value is not None or self.loop_depth:
                raise self.err(node, "a nested workunit may only `return` (no value, outside inner loops) to end "
                                     "its iteration", KernelSyntaxError)
            return N.Continue(self.loc(node))
        if node.value is None:
            r = N.Return(self.loc(node), None)
        else:
            if not self.in_function:
                raise self.err(node, "a workunit cannot return a value (reductions update their accumulator)")
            r = N.Return(self.loc(node), self.scalar(self.expr(node.value), node.value, "return value"))
        self.returns.append(r)
        return r

    # ------------------------------------------------------------------------------------------ expressions

    def visit_Constant(self, node: ast.Constant):
        v = node.value
        if isinstance(v, bool):
            return N.Const(T.bool_, self.loc(node), v)
        if isinstance(v, int):
            if not -(1 << 63) <= v < (1 << 64):
                raise self.err(node, f"integer literal {v} does not fit in 64 bits", KernelValueError)
            return N.Const(T.int64 if v < (1 << 63) else T.uint64, self.loc(node), v, weak=True)
        if isinstance(v, float):
            return N.Const(T.float64, self.loc(node), v, weak=True)
        if isinstance(v, str):
            raise self.err(node, "strings are only allowed as the format of pk.printf(...)", KernelSyntaxError)
        raise self.err(node, f"constant {v!r} is not supported in kernels", KernelSyntaxError)

    def visit_Name(self, node: ast.Name):
        return self.lookup(node.id, node)

    def visit_Attribute(self, node: ast.Attribute):
        if self.self_name and isinstance(node.value, ast.Name) and node.value.id == self.self_name:
            key = f"{self.self_name}.{node.attr}"
            if key in self.params:
                return N.Var(self._value_type(self.params[key]), self.loc(node), key)
            member = getattr(self.self_cls, node.attr, None)
            if _is_pk_function(member):
                return CT(_Method(member))
            raise self.err(node, f"member {node.attr!r} of {self.self_cls.__name__} is not available in kernels "
                                 "(members are the Views and numbers set in __init__)")
        base = self.visit(node.value)
        if isinstance(base, CT):
            try:
                value = getattr(base.value, node.attr)
            except AttributeError:
                raise self.err(node, f"{_describe(base.value)} has no attribute {node.attr!r}") from None
            st = scalar_type_of(value)
            if st is not None:
                return N.Const(st, self.loc(node), value.item() if isinstance(value, np.generic) else value)
            return CT(value)
        if isinstance(base.type, T.LocType) and node.attr in ("val", "loc"):
            return N.Field(base.type.val if node.attr == "val" else base.type.loc, self.loc(node), base, node.attr)
        if isinstance(base.type, T.StructType):
            ft = base.type.fields.get(node.attr)
            if ft is None:
                raise self.err(node, f"{base.type.pyname} has no field {node.attr!r} (fields: "
                                     f"{', '.join(base.type.fields) or 'none yet'})")
            return N.Field(ft, self.loc(node), base, node.attr)
        if isinstance(base.type, T.ViewType) and node.attr in ("shape", "extent", "ndim"):
            if node.attr == "ndim":
                return N.Const(T.int64, self.loc(node), base.type.rank)
            return _ViewAttr(base, node.attr)
        hint = ""
        if node.attr in ("league_rank", "league_size", "team_rank", "team_size", "team_barrier", "team_scratch"):
            hint = " (a team workunit is launched with pk.TeamPolicy, not a range policy)"
        raise self.err(node, f"{_tname(base.type)} has no attribute {node.attr!r} in kernels{hint}")

    def visit_Subscript(self, node: ast.Subscript):
        try:
            return self._subscript(node)
        except _SubviewRequest as req:
            return self.subview(req.view, req.index_nodes, node)

    def subview(self, view: N.Expr, index_nodes: list, node: ast.AST) -> N.Expr:
        """A strided View into `view`: integer indices drop a dimension, slices (`:`, `a:b`) keep it."""
        vt = view.type
        if len(index_nodes) > vt.rank:
            raise self.err(node, f"{view.name!r} has rank {vt.rank} but the subview names {len(index_nodes)} "
                                 "dimensions")
        index_nodes = list(index_nodes) + [ast.Slice()] * (vt.rank - len(index_nodes))
        spec = []
        for ix in index_nodes:
            if isinstance(ix, ast.Slice):
                if ix.step is not None:
                    raise self.err(ix, "subviews inside kernels take unit-step slices")
                b = self.cast(self.scalar(self.expr(ix.lower), ix.lower), T.int64) if ix.lower else None
                e = self.cast(self.scalar(self.expr(ix.upper), ix.upper), T.int64) if ix.upper else None
                spec.append(("range", b, e))
                continue
            v = self.visit(ix)
            if isinstance(v, CT) and v.value == slice(None):
                spec.append(("range", None, None))
                continue
            e = self.scalar(self.expr(ix), ix, "index")
            if not (e.type.is_int or e.type.is_bool):
                raise self.err(ix, f"an index must be an integer, got {e.type.name}")
            spec.append(("index", self.cast(e, T.int64)))
        rank = sum(1 for s in spec if s[0] == "range")
        if rank == 0:
            raise self.err(node, "a subview keeps at least one dimension (index every dimension for an element)")
        st = T.ViewType(vt.dtype, rank, T.LAYOUT_STRIDE, atomic=vt.atomic)
        return N.SubView(st, self.loc(node), view, spec)

    def _subscript(self, node: ast.Subscript):
        inner = node.value
        if not isinstance(inner, ast.Subscript):
            base = self.visit(inner)
            if isinstance(base, CT):  # a compile-time object: pk.ScratchView1D[pk.double], pk.Acc[int], ...
                key = self.visit(node.slice)
                if isinstance(key, CT):
                    try:
                        return CT(base.value[key.value])
                    except (TypeError, KeyError, IndexError) as e:
                        raise self.err(node, f"cannot index {_describe(base.value)}: {e}") from None
        if isinstance(inner, ast.Attribute) and inner.attr == "shape":
            base = self.visit(inner)
            if isinstance(base, _ViewAttr):
                return self.extent(base.view, node.slice, node)
        view, index = self.view_index(node, allow_subview=True)
        return N.Load(view.type.dtype, self.loc(node), view, index)

    def view_index(self, node: ast.Subscript, allow_subview: bool = False) -> tuple[N.Expr, list[N.Expr]]:
        """`v[i, j]` and `v[i][j]`: the View and its full index list."""
        chain: list[ast.AST] = []
        base: ast.AST = node
        while isinstance(base, ast.Subscript):
            chain.append(base.slice)
            base = base.value
        view = self.visit(base)
        if isinstance(view, CT) or not isinstance(view.type, T.ViewType):
            what = _describe(view.value) if isinstance(view, CT) else _tname(view.type)
            raise self.err(base, f"{what} cannot be indexed in a kernel")
        index_nodes: list[ast.AST] = []
        for s in reversed(chain):
            index_nodes.extend(s.elts if isinstance(s, ast.Tuple) else [s])
        if any(isinstance(ix, ast.Slice) for ix in index_nodes) or any(
                isinstance(self.visit(ix), CT) and self.visit(ix).value == slice(None) for ix in index_nodes
                if isinstance(ix, (ast.Attribute, ast.Name))):
            if not allow_subview:
                raise self.err(node, "assigning to a slice is not supported inside kernels; loop over the elements",
                               KernelSyntaxError)
            raise _SubviewRequest(view, index_nodes)
        index = []
        for ix in index_nodes:
            if isinstance(ix, ast.Slice):
                raise self.err(ix, "slicing is not supported inside kernels; index one element at a time",
                               KernelSyntaxError)
            e = self.scalar(self.expr(ix), ix, "index")
            if not (e.type.is_int or e.type.is_bool):
                raise self.err(ix, f"an index must be an integer, got {e.type.name}")
            index.append(self.cast(e, T.int64))
        rank = view.type.rank
        if len(index) != rank:
            raise self.err(node, f"{view.name!r} has rank {rank} but is indexed with {len(index)} "
                                 f"index{'es' if len(index) != 1 else ''}")
        return view, index

    def extent(self, view: N.Expr, dim_node: ast.AST, node: ast.AST) -> N.Expr:
        d = self.expr(dim_node)
        if not isinstance(d, N.Const) or not isinstance(d.value, int) or isinstance(d.value, bool):
            raise self.err(dim_node, "the dimension of extent()/shape[] must be an integer constant")
        if not 0 <= d.value < view.type.rank:
            raise self.err(dim_node, f"dimension {d.value} is out of range for rank-{view.type.rank} View "
                                     f"{view.name!r}", KernelValueError)
        return N.Extent(T.int64, self.loc(node), view, d.value)

    def visit_BinOp(self, node: ast.BinOp):
        op = _BIN.get(type(node.op))
        if op is None:
            raise self.err(node, f"operator `{type(node.op).__name__}` is not supported in kernels",
                           KernelSyntaxError)
        return self.binop(op, self.expr(node.left), self.expr(node.right), node)

    def binop(self, op: str, a: N.Expr, b: N.Expr, node: ast.AST) -> N.Expr:
        self.scalar(a, node, "operand")
        self.scalar(b, node, "operand")
        loc = self.loc(node)
        weak = isinstance(a, N.Const) and a.weak and isinstance(b, N.Const) and b.weak
        if op in ("<<", ">>", "&", "|", "^"):
            if a.type.is_float or b.type.is_float:
                raise self.err(node, f"operator {op} needs integers, got {a.type.name} and {b.type.name}")
            if op in ("&", "|", "^") and a.type.is_bool and b.type.is_bool:
                return N.BinOp(T.bool_, loc, op, a, b)
            t = self.unify(a, b)
            t = T.int64 if t.is_bool else t
            return N.BinOp(t, loc, op, self.cast(a, t), self.cast(b, t))
        t = self.unify(a, b)
        if t.is_bool:
            t = T.int64
        if op == "/":
            t = t if t.is_float else T.float64
        r = N.BinOp(t, loc, op, self.cast(a, t), self.cast(b, t))
        if weak:
            return N.Const(t, loc, _fold(op, a.value, b.value, t), weak=True) if _foldable(op, b.value) else r
        return r

    def visit_UnaryOp(self, node: ast.UnaryOp):
        e = self.scalar(self.expr(node.operand), node.operand, "operand")
        loc = self.loc(node)
        if isinstance(node.op, ast.Not):
            return N.UnaryOp(T.bool_, loc, "not", self.truth(e, node.operand))
        if isinstance(node.op, ast.USub):
            if isinstance(e, N.Const):
                return N.Const(e.type, loc, -e.value, weak=e.weak)
            t = T.int64 if e.type.is_bool else e.type
            return N.UnaryOp(t, loc, "-", self.cast(e, t))
        if isinstance(node.op, ast.UAdd):
            return e
        if isinstance(node.op, ast.Invert):
            if e.type.is_float:
                raise self.err(node, "operator ~ needs an integer")
            t = T.int64 if e.type.is_bool else e.type
            return N.UnaryOp(t, loc, "~", self.cast(e, t))
        raise self.err(node, f"unary `{type(node.op).__name__}` is not supported", KernelSyntaxError)

    def visit_Compare(self, node: ast.Compare):
        result = None
        left = self.scalar(self.expr(node.left), node.left, "operand")
        for op_node, right_node in zip(node.ops, node.comparators):
            op = _CMP.get(type(op_node))
            if op is None:
                raise self.err(node, f"comparison `{type(op_node).__name__}` is not supported in kernels",
                               KernelSyntaxError)
            right = self.scalar(self.expr(right_node), right_node, "operand")
            t = self.unify(left, right)
            c = N.Compare(T.bool_, self.loc(node), op, self.cast(left, t), self.cast(right, t))
            result = c if result is None else N.Logical(T.bool_, self.loc(node), "and", result, c)
            left = right
        return result

    def visit_BoolOp(self, node: ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        loc = self.loc(node)
        result = self.truth(self.expr(node.values[0]), node.values[0])
        for v_node in node.values[1:]:
            saved, self.pending = self.pending, []
            v = self.truth(self.expr(v_node), v_node)
            inner, self.pending = self.pending, saved
            if not inner:
                result = N.Logical(T.bool_, loc, op, result, v)
                continue
            # the right operand runs statements (a nested reduction): keep Python's short-circuit
            t = N.Var(T.bool_, loc, self.new_tmp(T.bool_))
            self.pending.append(N.Assign(loc, t, result))
            cond = t if op == "and" else N.UnaryOp(T.bool_, loc, "not", t)
            self.pending.append(N.If(loc, cond, inner + [N.Assign(loc, t, v)], []))
            result = t
        return result

    def visit_IfExp(self, node: ast.IfExp):
        cond = self.truth(self.expr(node.test), node.test)
        a = self.scalar(self.expr(node.body), node.body)
        b = self.scalar(self.expr(node.orelse), node.orelse)
        t = self.unify(a, b)
        return N.Select(t, self.loc(node), cond, self.cast(a, t), self.cast(b, t))

    # ------------------------------------------------------------------------------------------ calls

    def visit_Call(self, node: ast.Call, statement: bool = False):
        is_self = (self.self_name and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
                   and node.func.value.id == self.self_name)
        if isinstance(node.func, ast.Attribute) and not is_self:
            base = self.visit(node.func.value)
            if not isinstance(base, CT) and isinstance(base.type, T.TeamType):
                return self.team_method(base, node, statement)
            if not isinstance(base, CT) and isinstance(base.type, (T.RandomPoolType, T.RandomStateType)):
                return self.random_method(base, node, statement)
            if not isinstance(base, CT) and isinstance(base.type, T.StructType):
                method = getattr(base.type.cls, node.func.attr, None)
                if not _is_pk_function(method):
                    raise self.err(node, f"{base.type.pyname}.{node.func.attr} is not a @pk.function method")
                return self.device_call(method, node, receiver=base)
            if not isinstance(base, CT) and isinstance(base.type, T.ViewType):
                if node.func.attr == "extent" and len(node.args) == 1 and not node.keywords:
                    return self.extent(base, node.args[0], node)
                raise self.err(node, f"View method {node.func.attr!r} is not available inside kernels")
        callee = self.visit(node.func)
        if not isinstance(callee, CT):
            raise self.err(node.func, f"{_tname(callee.type)} is not callable")
        fn = callee.value
        if node.keywords:
            raise self.err(node, "keyword arguments are not supported in kernel calls", KernelSyntaxError)
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.err(node, "*args is not supported in kernel calls", KernelSyntaxError)
        loc = self.loc(node)
        if isinstance(fn, _Method):
            return self.device_call(fn.function, node, method=True)
        from kernelkit.api import patterns as P
        from kernelkit.api import team as TM

        if fn is P.parallel_for or fn is P.parallel_reduce or fn is P.parallel_scan:
            pattern = "for" if fn is P.parallel_for else "reduce" if fn is P.parallel_reduce else "scan"
            return self.nested(pattern, node, statement)
        if fn is TM.single:
            return self.single(node)
        if fn is TM.PerTeam or fn is TM.PerThread:
            (team,) = [self.expr(a) for a in node.args] if len(node.args) == 1 else (None,)
            if team is None or not isinstance(team.type, T.TeamType):
                raise self.err(node, f"pk.{fn.__name__}(team) takes the TeamMember")
            return CT(_Per("thread" if fn is TM.PerThread else "team", team))
        if isinstance(fn, TM.ScratchViewType):
            return self.scratch_view(fn, node)
        if isinstance(fn, type) and getattr(fn, "_kk_classtype", False):
            return self.construct(fn, node)
        from kernelkit.api import views as V

        if fn is V.subview:
            view = self.expr(node.args[0]) if node.args else None
            if view is None or not isinstance(view.type, T.ViewType):
                raise self.err(node, "pk.subview(view, index or pk.ALL, ...) takes a View first")
            return self.subview(view, node.args[1:], node)
        if _is_pk_function(fn):
            return self.device_call(fn, node)
        if isinstance(fn, T.ScalarType) or (isinstance(fn, type) and issubclass(fn, np.generic)):
            dst = T.as_scalar_type(fn)
            (arg,) = self.exactly(node, 1)
            return self.convert(arg, dst, node)
        entry = B.CALLABLES.get(fn) if _hashable(fn) else None
        if entry is None:
            raise self.err(node, f"{_describe(fn)} cannot be called inside a kernel")
        kind, name = entry
        if kind == "math":
            nargs, rkind = B.MATH[name]
            args = self.exactly(node, nargs)
            return self.math(name, rkind, args, node)
        if kind == "builtin":
            return self.builtin(name, node)
        if kind in ("atomic", "atomic_fetch", "atomic_cas"):
            return self.atomic(kind, name, node)
        if kind == "rand":
            if not node.args:
                raise self.err(node, "pk.rand(gen) takes a generator from pool.get_state()")
            gen = self.expr(node.args[0])
            if not isinstance(gen.type, T.RandomStateType):
                raise self.err(node.args[0], "pk.rand(gen) takes a generator from pool.get_state()")
            args = [self.cast(self.scalar(self.expr(a), a, "argument"), T.float64) for a in node.args[1:]]
            if len(args) > 2:
                raise self.err(node, "pk.rand(gen[, end] | [, begin, end])")
            return N.RandomCall(T.float64, loc, gen, "drand", args)
        if kind == "printf":
            if not statement:
                raise self.err(node, "pk.printf(...) is a statement, not a value", KernelSyntaxError)
            return self.printf(node)
        raise self.err(node, f"{_describe(fn)} cannot be called inside a kernel", loc)

    def exactly(self, node: ast.Call, n: int) -> list[N.Expr]:
        if len(node.args) != n:
            raise self.err(node, f"expected {n} argument{'s' if n != 1 else ''}, got {len(node.args)}")
        return [self.scalar(self.expr(a), a, "argument") for a in node.args]

    def convert(self, arg: N.Expr, dst: T.ScalarType, node: ast.AST) -> N.Expr:
        if dst.is_bool:
            return self.truth(arg, node)
        if isinstance(arg, N.Const):
            return self.cast(arg, dst)
        return N.Cast(dst, self.loc(node), arg)

    def math(self, name: str, rkind: str, args: list[N.Expr], node: ast.AST) -> N.Expr:
        loc = self.loc(node)
        if name == "round":
            raise self.err(node, "round() is not supported in kernels; use math.floor(x + 0.5)", KernelSyntaxError)
        if rkind == "bool":
            a = args[0]
            if not a.type.is_float:
                return N.Const(T.bool_, loc, name == "isfinite")
            return N.MathCall(T.bool_, loc, name, args)
        t = args[0].type if len(args) == 1 else self.unify(args[0], args[1])
        ft = t if (t.is_float and not (isinstance(args[0], N.Const) and args[0].weak and len(args) == 1)) \
            else T.float64
        if name in ("floor", "ceil", "trunc") and t.is_int:
            ft = T.float64
        return N.MathCall(ft, loc, name, [self.cast(a, ft) for a in args])

    def builtin(self, name: str, node: ast.Call) -> N.Expr:
        loc = self.loc(node)
        if name in ("min", "max"):
            if len(node.args) < 2:
                raise self.err(node, f"{name}() inside kernels takes two or more scalar arguments")
            args = [self.scalar(self.expr(a), a, "argument") for a in node.args]
            result = args[0]
            for a in args[1:]:
                t = self.unify(result, a)
                result = N.BinOp(t, loc, name, self.cast(result, t), self.cast(a, t))
            return result
        if name == "abs":
            (a,) = self.exactly(node, 1)
            t = T.int64 if a.type.is_bool else a.type
            return N.MathCall(t, loc, "abs", [self.cast(a, t)])
        if name in ("int", "float", "bool"):
            (a,) = self.exactly(node, 1)
            return self.convert(a, {"int": T.int64, "float": T.float64, "bool": T.bool_}[name], node)
        if name == "len":
            if len(node.args) != 1:
                raise self.err(node, "len() takes one View")
            v = self.expr(node.args[0])
            if not isinstance(v.type, T.ViewType):
                raise self.err(node, "len() inside kernels takes a View")
            return N.Extent(T.int64, loc, v, 0)
        if name == "print":
            raise self.err(node, "print() is not available in kernels; use pk.printf(\"%d\\n\", i)",
                           KernelSyntaxError)
        raise self.err(node, f"{name}() cannot be used here", KernelSyntaxError)

    def atomic(self, kind: str, op: str, node: ast.Call) -> N.Expr:
        nargs = 4 if kind == "atomic_cas" else 3
        if len(node.args) != nargs:
            raise self.err(node, f"this atomic takes {nargs} arguments: (view, [indices], "
                                 + ("expected, desired)" if nargs == 4 else "value)"))
        view = self.expr(node.args[0])
        if not isinstance(view.type, T.ViewType):
            raise self.err(node.args[0], "the first argument of an atomic must be a View")
        ix_node = node.args[1]
        ix_nodes = ix_node.elts if isinstance(ix_node, (ast.List, ast.Tuple)) else [ix_node]
        index = []
        for ixn in ix_nodes:
            e = self.scalar(self.expr(ixn), ixn, "index")
            if not (e.type.is_int or e.type.is_bool):
                raise self.err(ixn, f"an index must be an integer, got {e.type.name}")
            index.append(self.cast(e, T.int64))
        if len(index) != view.type.rank:
            raise self.err(ix_node, f"{view.name!r} has rank {view.type.rank} but the atomic gives "
                                    f"{len(index)} index{'es' if len(index) != 1 else ''}")
        dt = view.type.dtype
        vals = [self.cast(self.scalar(self.expr(a), a, "value"), dt) for a in node.args[2:]]
        if op in ("and", "or", "xor") and dt.is_float:
            raise self.err(node, f"atomic {op} needs an integer View, {view.name!r} holds {dt.name}")
        self.mark_write(view)
        return N.Atomic(dt, self.loc(node), op, view, index, vals, fetch=kind != "atomic")

    def printf(self, node: ast.Call) -> N.Stmt:
        if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
            raise self.err(node, "pk.printf needs a literal format string first", KernelSyntaxError)
        fmt = node.args[0].value
        args = [self.scalar(self.expr(a), a, "printf argument") for a in node.args[1:]]
        convs = _printf_conversions(fmt)
        if convs is None:
            raise self.err(node.args[0], "unsupported printf format: use %d %i %u %x %ld %f %e %g %c and %%",
                           KernelSyntaxError)
        if len(convs) != len(args):
            raise self.err(node, f"the format has {len(convs)} conversion(s) but {len(args)} argument(s) follow")
        return N.Printf(self.loc(node), fmt, args)

    def device_call(self, wrapper, node: ast.Call, method: bool = False, receiver=None) -> N.Expr:
        args = [self.expr(a) for a in node.args]
        if receiver is not None:
            args = [receiver] + args
        # structs are passed by reference (Python's object semantics): a temporary gets a name first
        for k, a in enumerate(args):
            if isinstance(a, N.Expr) and isinstance(a.type, T.StructType) and not isinstance(a, N.Var):
                tmp = N.Var(a.type, a.loc, self.new_tmp(a.type))
                self.pending.append(N.Assign(a.loc, tmp, a))
                args[k] = tmp
        for a, a_node in zip(args, node.args):
            if isinstance(a, CT):
                raise self.err(a_node, f"{_describe(a.value)} cannot be passed to a device function")
        if method:
            # a @pk.function method: the members it may read travel as hidden leading arguments
            hidden = sorted(k for k in self.params if k.startswith(f"{self.self_name}."))
            args = [N.Var(self._value_type(self.params[k]), self.loc(node), k) for k in hidden] + args
        f = lower_function(wrapper, [a.type for a in args], self.ctx, self.loc(node),
                           self_info=(self.self_name, self.self_cls, len(hidden)) if method else None)
        for k, a in enumerate(args):
            if isinstance(a.type, T.ViewType) and f.params[k].name in getattr(f, "_writes", set()):
                self.mark_write(a)
        casted = [self.cast(a, p.type) if isinstance(p.type, T.ScalarType) else a for a, p in zip(args, f.params)]
        return N.Call(f.ret, self.loc(node), f, casted)

    # ------------------------------------------------------------------------------------------ teams

    def team_method(self, team: N.Expr, node: ast.Call, statement: bool):
        if node.func.attr in ("team_scratch", "thread_scratch") and node.args and \
                isinstance(node.args[0], ast.Constant) and node.args[0].value not in (0, 1):
            raise self.err(node.args[0], "the scratch level must be 0 or 1", KernelValueError)
        what = node.func.attr
        loc = self.loc(node)
        if what in ("league_rank", "league_size", "team_rank", "team_size"):
            self.exactly(node, 0)
            return N.TeamQuery(T.int64, loc, team, what)
        if what == "team_barrier":
            self.exactly(node, 0)
            if not statement:
                raise self.err(node, "team_barrier() is a statement", KernelSyntaxError)
            return N.Barrier(loc, team)
        if what in ("team_scratch", "thread_scratch"):
            (level,) = self.exactly(node, 1)
            if not level.type.is_int:
                raise self.err(node, "the scratch level is an integer (0 or 1)")
            return CT(_ScratchHandle(team, self.cast(level, T.int64), what == "thread_scratch"))
        raise self.err(node, f"TeamMember has no method {what!r} in kernels (league_rank, league_size, "
                             "team_rank, team_size, team_barrier, team_scratch, thread_scratch)")

    _RANDOM = {"drand": T.float64, "frand": T.float32, "urand": T.uint32, "urand64": T.uint64, "rand": T.int64,
               "normal": T.float64}

    def random_method(self, obj: N.Expr, node: ast.Call, statement: bool):
        what = node.func.attr
        loc = self.loc(node)
        if isinstance(obj.type, T.RandomPoolType):
            if what == "get_state":
                self.exactly(node, 0)
                self.mark_write(obj)  # claims advance the pool's counter
                return N.RandomCall(T.random_state, loc, obj, "get_state", [])
            if what == "free_state":
                if len(node.args) != 1:
                    raise self.err(node, "free_state takes the generator")
                return None if statement else N.Const(T.int64, loc, 0)
            raise self.err(node, f"a random pool has get_state() and free_state(gen), not {what!r}")
        rt = self._RANDOM.get(what)
        if rt is None:
            raise self.err(node, f"a random generator has {', '.join(self._RANDOM)}, not {what!r}")
        args = [self.scalar(self.expr(a), a, "argument") for a in node.args]
        if len(args) > 2 or (what in ("urand", "urand64") and args) or (what == "normal" and len(args) == 1):
            raise self.err(node, f"{what}() takes {'no' if what.startswith('urand') else '0 or 2 (mean, std)' if what == 'normal' else '0, 1 (end) or 2 (begin, end)'} arguments")
        at = T.float64 if what in ("drand", "frand", "normal") else T.int64
        return N.RandomCall(rt, loc, obj, what, [self.cast(a, at) for a in args])

    def construct(self, cls: type, node: ast.Call) -> N.Expr:
        args = [self.expr(a) for a in node.args]
        for a, a_node in zip(args, node.args):
            if isinstance(a, CT) or isinstance(a.type, (T.ViewType, T.TeamType)):
                raise self.err(a_node, f"{cls.__name__}(...) takes numbers or classtype values")
        f = lower_constructor(cls, [a.type for a in args], self.ctx, self.loc(node))
        casted = [self.cast(a, p.type) if isinstance(p.type, T.ScalarType) else a for a, p in zip(args, f.params)]
        return N.Construct(f.ret, self.loc(node), f, casted)

    def scratch_view(self, st, node: ast.Call) -> N.Expr:
        if st.dtype is None:
            raise self.err(node, f"give the element type: pk.ScratchView{st.rank}D[pk.double](...)")
        if len(node.args) != st.rank + 1:
            raise self.err(node, f"ScratchView{st.rank}D takes the scratch handle and {st.rank} extent(s)")
        handle = self.visit(node.args[0])
        if not (isinstance(handle, CT) and isinstance(handle.value, _ScratchHandle)):
            raise self.err(node.args[0], "the first argument is team.team_scratch(level) or "
                                         "team.thread_scratch(level)")
        h = handle.value
        ext = []
        for a in node.args[1:]:
            e = self.scalar(self.expr(a), a, "extent")
            if not e.type.is_int:
                raise self.err(a, "extents are integers")
            ext.append(self.cast(e, T.int64))
        vt = T.ViewType(st.dtype, st.rank, T.LAYOUT_RIGHT, scratch=True)
        return N.ScratchAlloc(vt, self.loc(node), h.team, h.level, h.per_thread, ext)

    def closure_of(self, node: ast.AST, what: str) -> ast.FunctionDef:
        c = self.visit(node)
        if not (isinstance(c, CT) and isinstance(c.value, _Closure)):
            raise self.err(node, f"{what} takes a nested workunit: a `def` written inside this workunit",
                           KernelSyntaxError)
        return c.value.node

    def enter_closure(self, fn: ast.FunctionDef, params: dict[str, T.Type]) -> dict[str, str]:
        """Rename the nested function's parameters and the locals it assigns (Python scoping: a name assigned in
        it is its own unless declared nonlocal); every other name reads the enclosing scope."""
        nonlocal_names = {n for st in ast.walk(fn) if isinstance(st, ast.Nonlocal) for n in st.names}
        assigned: set[str] = set()
        for st in _walk_own(fn):
            targets = []
            if isinstance(st, (ast.Assign,)):
                targets = st.targets
            elif isinstance(st, (ast.AugAssign, ast.AnnAssign, ast.For)):
                targets = [st.target]
            for t in targets:
                assigned.update(_bound_names(t))
        scope = {}
        for name in list(params) + sorted(assigned - nonlocal_names - set(params)):
            self._tmp += 1
            scope[name] = f"{name}_{self._tmp}"
        for name, t in params.items():
            self.locals[scope[name]] = t
        return scope

    def inline_closure(self, fn: ast.FunctionDef, params: dict[str, T.Type], kind: str) -> tuple[list, dict]:
        scope = self.enter_closure(fn, params)
        self.renames.append(scope)
        self.closures.append({})
        self.in_closure.append(kind)
        saved_depth, self.loop_depth = self.loop_depth, 0
        try:
            body = self.body(fn.body)
        finally:
            self.loop_depth = saved_depth
            self.in_closure.pop()
            self.closures.pop()
            self.renames.pop()
        return body, scope

    def nested(self, pattern: str, node: ast.Call, statement: bool):
        from kernelkit.api import reducers as R
        from kernelkit.api import team as TM

        loc = self.loc(node)
        if node.keywords or len(node.args) < 2:
            raise self.err(node, f"nested parallel_{pattern}(policy, nested_workunit) inside a team workunit",
                           KernelSyntaxError)
        pol = node.args[0]
        kind = self.visit(pol.func) if isinstance(pol, ast.Call) else None
        level = TM.NESTED_RANGES.get(kind.value) if isinstance(kind, CT) and _hashable(kind.value) else None
        if level is None:
            raise self.err(pol, "a nested pattern takes pk.TeamThreadRange, pk.ThreadVectorRange, "
                                "pk.TeamVectorRange or pk.TeamThreadMDRange")
        team = self.expr(pol.args[0]) if pol.args else None
        if team is None or not isinstance(team.type, T.TeamType):
            raise self.err(pol, "the first argument of a nested range is the TeamMember")
        ext = []
        for a in pol.args[1:]:
            e = self.scalar(self.expr(a), a, "range bound")
            if not (e.type.is_int or e.type.is_bool):
                raise self.err(a, "range bounds are integers")
            ext.append(self.cast(e, T.int64))
        zero = N.Const(T.int64, loc, 0)
        if kind.value in TM.MD_RANGES:
            if not 2 <= len(ext) <= 3:
                raise self.err(pol, f"{kind.value.__name__}(team, n0, n1[, n2]) has rank 2 or 3")
            bounds = [(zero, e) for e in ext]
        elif len(ext) == 1:
            bounds = [(zero, ext[0])]
        elif len(ext) == 2:
            bounds = [(ext[0], ext[1])]
        else:
            raise self.err(pol, "a nested range is (team, n) or (team, begin, end)")
        fn = self.closure_of(node.args[1], f"parallel_{pattern}")
        reducer = R.Sum
        if len(node.args) > 2:
            r = self.visit(node.args[2])
            if pattern != "reduce" or not (isinstance(r, CT) and isinstance(r.value, R.Reducer)):
                raise self.err(node.args[2], "only a nested parallel_reduce takes a third argument: the reducer")
            reducer = r.value
        names = [a.arg for a in fn.args.args]
        need = len(bounds) + (1 if pattern == "reduce" else 2 if pattern == "scan" else 0)
        if len(names) != need or fn.args.vararg or fn.args.kwarg:
            raise self.err(fn, f"this nested workunit is used with parallel_{pattern} over {len(bounds)} "
                               f"dimension(s): it must take {need} parameter(s)", KernelTypeError)
        params: dict[str, T.Type] = {n: T.int64 for n in names[: len(bounds)]}
        acc_t = None
        if pattern != "for":
            ann_node = fn.args.args[len(bounds)].annotation
            ann = self.resolve_annotation(ann_node) if ann_node is not None else None
            dt = ann.dtype if isinstance(ann, A.AccAnnotation) and ann.dtype else \
                ann if isinstance(ann, T.ScalarType) else reducer.default
            acc_t = T.LocType(dt) if reducer.with_loc else dt
            params[names[len(bounds)]] = acc_t
            if pattern == "scan":
                params[names[len(bounds) + 1]] = T.bool_
        body, scope = self.inline_closure(fn, params, "pattern")
        var = lambda n, t: N.Var(t, loc, scope[n])  # noqa: E731
        result = None
        if pattern != "for":
            result = N.Var(acc_t, loc, self.new_tmp(acc_t))
        nest = N.Nested(loc, pattern, level, team, bounds, [var(n, T.int64) for n in names[: len(bounds)]],
                        var(names[len(bounds)], acc_t) if pattern != "for" else None,
                        var(names[len(bounds) + 1], T.bool_) if pattern == "scan" else None,
                        result, reducer.name if pattern == "reduce" else ("Sum" if pattern == "scan" else None),
                        body)
        if pattern == "for":
            if not statement:
                raise self.err(node, "a nested parallel_for has no value", KernelSyntaxError)
            return nest
        self.pending.append(nest)
        return result

    def single(self, node: ast.Call) -> N.Stmt:
        if len(node.args) != 2:
            raise self.err(node, "pk.single(pk.PerTeam(team) | pk.PerThread(team), nested_workunit)")
        per = self.visit(node.args[0])
        if not (isinstance(per, CT) and isinstance(per.value, _Per)):
            raise self.err(node.args[0], "pk.single takes pk.PerTeam(team) or pk.PerThread(team) first")
        fn = self.closure_of(node.args[1], "pk.single")
        if fn.args.args:
            raise self.err(fn, "the nested workunit of pk.single takes no parameters (use nonlocal)")
        body, _ = self.inline_closure(fn, {}, "single")
        return N.Single(self.loc(node), per.value.per, per.value.team, body)

    def mark_write(self, view: N.Expr) -> None:
        while isinstance(view, N.SubView):
            view = view.view
        if isinstance(view, N.Var):
            self.writes.add(self.aliases.get(view.name) or view.name)

    # ------------------------------------------------------------------------------------------ annotations

    def resolve_annotation(self, node: ast.AST):
        """Evaluate an annotation written in the kernel (a local's or a nested workunit's parameter's) the way
        Python would: in the function's globals and closure."""
        fn = self.fn
        scope = {}
        if fn.__closure__:
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
                try:
                    scope[name] = cell.cell_contents
                except ValueError:
                    pass
        try:
            value = eval(compile(ast.Expression(node), self.src.file, "eval"), fn.__globals__, scope)  # noqa: S307
        except Exception:  # noqa: BLE001 - an annotation we cannot evaluate is one we do not model
            raise self.err(node, f"cannot evaluate the annotation {ast.unparse(node)!r}") from None
        return resolve_annotation_value(value, self.loc(node))


class _SubviewRequest(Exception):
    """Raised inside view_index when the subscript has slices: the caller builds a SubView instead."""

    def __init__(self, view, index_nodes):
        self.view = view
        self.index_nodes = index_nodes


class _Closure:
    """A nested workunit (an inner def), inlined where a nested pattern or single uses it."""

    def __init__(self, node: ast.FunctionDef):
        self.node = node


class _ScratchHandle:
    """team.team_scratch(level) / team.thread_scratch(level), before a ScratchView is made from it."""

    def __init__(self, team, level, per_thread: bool):
        self.team = team
        self.level = level
        self.per_thread = per_thread


class _Per:
    def __init__(self, per: str, team):
        self.per = per
        self.team = team


def _bound_names(target: ast.AST) -> set[str]:
    """The names an assignment target binds (`x`, `a, b`), not those it only reads (`v[i] = ...`)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_bound_names(e) for e in target.elts)) if target.elts else set()
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    return set()


def _walk_own(fn: ast.FunctionDef):
    """The statements of a function, not descending into functions nested in it."""
    todo = list(fn.body)
    while todo:
        st = todo.pop()
        yield st
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for child in ast.iter_child_nodes(st):
            if isinstance(child, ast.stmt):
                todo.append(child)


class _Method:
    """A `@pk.function` method reached through `self`."""

    def __init__(self, function):
        self.function = function


class _ViewAttr:
    """`v.shape` or `v.extent` before it is subscripted or called."""

    def __init__(self, view: N.Expr, attr: str):
        self.view = view
        self.attr = attr
        self.type = None


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


def _hashable(obj) -> bool:
    try:
        hash(obj)
        return True
    except TypeError:
        return False


def _describe(value) -> str:
    if isinstance(value, _pytypes.ModuleType):
        return f"module {value.__name__!r}"
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    return f"{name!r}" if name else f"{type(value).__name__} object"


def _tname(t) -> str:
    if isinstance(t, T.ScalarType):
        return t.name
    if isinstance(t, T.ViewType):
        return f"a rank-{t.rank} View of {t.dtype.name}"
    if isinstance(t, T.AccType):
        return f"an accumulator of {t.dtype.name}"
    return str(t)


def _foldable(op: str, b) -> bool:
    return not (op in ("/", "//", "%") and b == 0) and not (op == "**" and isinstance(b, int) and b < 0) and \
        not (op in ("<<", ">>") and (b < 0 or b > 63))


def _fold(op: str, a, b, t: T.ScalarType):
    r = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b, "//": lambda: a // b,
         "%": lambda: a % b, "**": lambda: a**b}[op]()
    return float(r) if t.is_float else int(r)


def _printf_conversions(fmt: str) -> list[str] | None:
    out, k = [], 0
    while k < len(fmt):
        if fmt[k] != "%":
            k += 1
            continue
        j = k + 1
        while j < len(fmt) and fmt[j] in "-+ #0123456789.":
            j += 1
        while j < len(fmt) and fmt[j] in "lhzj":
            j += 1
        if j >= len(fmt):
            return None
        c = fmt[j]
        if c == "%":
            k = j + 1
            continue
        if c not in "diuxXfFeEgGc":
            return None
        out.append(fmt[k:j + 1])
        k = j + 1
    return out


# ------------------------------------------------------------------------------------------------ entry points


def param_annotations(fn) -> dict[str, object]:
    """Evaluated annotations (handles `from __future__ import annotations`); unknown ones are ignored."""
    raw = getattr(fn, "__annotations__", {}) or {}
    out = {}
    for name, ann in raw.items():
        if isinstance(ann, str):
            try:
                ann = eval(ann, fn.__globals__, {})  # noqa: S307 - the user's own annotation, in their module
            except Exception:  # an annotation we cannot evaluate is treated as absent (types come from the call)
                continue
        out[name] = resolve_annotation_value(ann, None)
    return out


def lower_function(wrapper, arg_types: list[T.Type], ctx: Context, call_loc: Loc,
                   self_info: tuple | None = None) -> N.Function:
    """Specialize a `@pk.function` for the argument types of one call site (memoized per kernel). For a method
    (`self_info` = (self name in the kernel, class, number of hidden member arguments)) the members come first."""
    fn = wrapper.py_function
    key = (fn, tuple(arg_types))
    if key in ctx.specialized:
        return ctx.specialized[key]
    if fn in ctx.stack:
        chain = " -> ".join(f.__name__ for f in ctx.stack[ctx.stack.index(fn):]) + f" -> {fn.__name__}"
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
        raise KernelTypeError(f"{fn.__name__}() takes {len(names)} argument(s) but {len(arg_types)} were given",
                              call_loc)
    anns = param_annotations(fn)
    params: dict[str, T.Type] = {}
    for name, t in zip(names, arg_types):
        ann = anns.get(name)
        if isinstance(ann, T.ScalarType) and isinstance(t, T.ScalarType):
            t = ann
        elif isinstance(ann, A.ViewAnnotation) and isinstance(t, T.ViewType):
            _check_view_annotation(name, ann, t, src.loc(node))
        params[name] = t
    ctx.stack.append(fn)
    try:
        lw = FunctionLowerer(fn, src, ctx, params, in_function=True, self_name=own_self,
                             self_cls=self_info[1] if self_info else None)
        body = lw.body(node.body)
    finally:
        ctx.stack.pop()
    rtypes = [r.value.type for r in lw.returns if r.value is not None]
    if rtypes and len(rtypes) != len(lw.returns):
        raise KernelTypeError(f"{fn.__name__}() returns a value on some paths and nothing on others",
                              lw.returns[0].loc)
    ret: T.Type = T.void
    if rtypes:
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
        raise KernelTypeError(f"{cls.__name__}() takes {len(names) - 1} argument(s) but {len(arg_types)} were "
                              "given", call_loc)
    anns = param_annotations(init)
    params: dict[str, T.Type] = {}
    for name, t in zip(names[1:], arg_types):
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
    f = N.Function(name=f"kkf_{len(ctx.functions)}_{_c_ident(cls.__name__)}_init", pyname=f"{cls.__qualname__}",
                   params=[N.Param(n, params[n], src.loc(node)) for n in names[1:]], ret=st, body=body,
                   locals=lw.locals, loc=src.loc(node))
    f._writes = {n for n in lw.writes if n in params}  # type: ignore[attr-defined]
    ctx.functions.append(f)
    ctx.specialized[key] = f
    return f


def _hidden_names(ctx: Context, kernel_self: str, n: int) -> list[str]:
    return ctx.hidden_members[:n]


def _c_ident(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else f"x{ord(ch):x}" for ch in name)


def _check_view_annotation(name: str, ann: A.ViewAnnotation, t: T.ViewType, loc: Loc) -> None:
    if ann.rank is not None and ann.rank != t.rank:
        raise KernelTypeError(f"argument {name!r} is annotated {ann!r} but a rank-{t.rank} array was passed", loc)
    if ann.dtype is not None and ann.dtype is not t.dtype:
        raise KernelTypeError(
            f"argument {name!r} is annotated {ann!r} but an array of {t.dtype.name} was passed", loc)


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
        raise KernelSyntaxError("workunits take plain positional parameters (no *args, **kwargs, keyword-only)",
                                src.loc(node))
    names = [x.arg for x in a.args]
    if sig.self_name is not None:
        names = names[1:]
    nhead = sig.rank + (1 if sig.team else 0) + (1 if sig.pattern == "reduce" else 2 if sig.pattern == "scan" else 0)
    if len(names) < nhead:
        need = {"for": "the index", "reduce": "the index and the accumulator",
                "scan": "the index, the accumulator and the `final` flag"}[sig.pattern]
        if sig.rank > 1:
            need = need.replace("the index", f"{sig.rank} indices")
        raise KernelTypeError(f"workunit {fn.__name__!r} used with parallel_{sig.pattern} must take {need} "
                              f"first; it has {len(names)} parameter(s)", src.loc(node))
    anns = param_annotations(fn)
    head, rest = names[:nhead], names[nhead:]
    loc = src.loc(node)
    first_ann = anns.get(names[0]) if names else None
    if first_ann is T.team and not sig.team:
        raise KernelTypeError(f"workunit {fn.__name__!r} takes a pk.TeamMember: launch it with pk.TeamPolicy", loc)
    if sig.pattern != "for" and any(n in sig.arg_types for n in head[sig.rank:]):
        what = "an accumulator" if sig.pattern == "reduce" else "an accumulator and a `final` flag"
        raise KernelTypeError(
            f"workunit {fn.__name__!r} is used with parallel_{sig.pattern}, so after its index it must take "
            f"{what} (e.g. `def {fn.__name__}({', '.join(head[:sig.rank])}, acc"
            f"{', final' if sig.pattern == 'scan' else ''}, ...)`); {head[sig.rank]!r} is a keyword argument", loc)
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
        dtype = (ann.dtype if isinstance(ann, A.AccAnnotation) and ann.dtype else
                 ann if isinstance(ann, T.ScalarType) else sig.acc_type or red.default)
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
                raise KernelTypeError(f"argument {n!r} is annotated {ann!r} but a {_tname(t)} value was passed", loc)
            _check_view_annotation(n, ann, t, loc)
        elif isinstance(ann, T.ScalarType):
            if not isinstance(t, T.ScalarType):
                raise KernelTypeError(f"argument {n!r} is annotated {ann.name} but {_tname(t)} was passed", loc)
            if (ann.is_int or ann.is_bool) and t.is_float:
                raise KernelTypeError(f"argument {n!r} is annotated {ann.name} but a float was passed", loc)
            t = ann
        params[n] = t
        kparams.append(N.Param(n, t, loc))
    ctx = Context(hidden_members=hidden)
    lw = FunctionLowerer(fn, src, ctx, params, in_function=False, self_name=sig.self_name, self_cls=sig.self_cls)
    body = lw.body(node.body)
    kernel = N.Kernel(
        name=_c_ident(fn.__name__), pattern=sig.pattern, indices=indices, acc=acc, final=final, params=kparams,
        body=body, locals=lw.locals, functions=list(ctx.functions),
        reducer=sig.reducer.name if sig.reducer else None, loc=loc,
        writes={n for n in lw.writes if isinstance(params.get(n), T.ViewType)},
        team=team_param,
        structs=list(ctx.structs),
    )
    return kernel, ctx.guards

