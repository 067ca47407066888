"""Calls: the dispatch of `f(...)` through the builtin registry (lang/registry.py) to one handler per kind, and
the handlers of the flat constructs: math, Python builtins, conversions, atomics, printf, random numbers,
device functions (`@pk.function`, methods), classtype constructors, `pk.subview`. Method calls on kernel values
(`team.team_rank()`, `gen.drand()`, `p.norm()`, `v.extent(0)`) dispatch on the value's IR type.
"""

from __future__ import annotations

import ast
import types as _pytypes

from kernelkit.errors import KernelSyntaxError, Loc
from kernelkit.frontend.base import (
    CT,
    HANDLERS,
    METHOD_HANDLERS,
    LowererBase,
    Method,
    describe,
    handles,
    handles_methods,
    is_pk_function,
    tname,
)
from kernelkit.ir import nodes as N
from kernelkit.ir import printf
from kernelkit.ir import types as T
from kernelkit.lang import kmath, registry
from kernelkit.lang.registry import Entry


class _PlainMethod:
    """A classtype method without @pk.function, as the device-function lowering takes it."""

    __slots__ = ("py_function",)

    def __init__(self, fn) -> None:
        self.py_function = fn


registry.register_type(Method, "method")


class CallsMixin(LowererBase):
    """`visit_Call` and the handlers of the flat constructs."""

    def visit_Call(self, node: ast.Call, statement: bool = False):
        is_self = (
            self.self_name
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == self.self_name
        )
        if isinstance(node.func, ast.Attribute) and not is_self:
            base = self.visit(node.func.value)
            if not isinstance(base, CT):
                method = METHOD_HANDLERS.get(type(base.type))
                if method is not None:
                    return method(self, base, node, statement)
        callee = self.visit(node.func)
        if not isinstance(callee, CT):
            raise self.err(node.func, f"{tname(callee.type)} is not callable")
        fn = callee.value
        if node.keywords:
            raise self.err(node, "keyword arguments are not supported in kernel calls", KernelSyntaxError)
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.err(node, "*args is not supported in kernel calls", KernelSyntaxError)
        entry = registry.lookup(fn)
        handler = HANDLERS.get(entry.kind) if entry is not None else None
        if handler is None:
            raise self.err(node, f"{describe(fn)} cannot be called inside a kernel")
        return handler(self, fn, entry, node, statement)

    # the lowering of device functions and constructors lives with the entry points (frontend/lower.py)
    def specialize_function(self, wrapper, arg_types: list[T.Type], call_loc: Loc, self_info) -> N.Function:
        raise NotImplementedError

    def specialize_constructor(self, cls: type, arg_types: list[T.Type], call_loc: Loc) -> N.Function:
        raise NotImplementedError

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

    @handles("math")
    def call_math(self, fn, entry: Entry, node: ast.Call, statement: bool) -> N.Expr:
        name = entry.name
        nargs, rkind = kmath.MATH[name]
        args = self.exactly(node, nargs)
        loc = self.loc(node)
        if name == "round":
            raise self.err(node, "round() is not supported in kernels; use math.floor(x + 0.5)", KernelSyntaxError)
        if rkind == "bool":
            a = args[0]
            if not a.type.is_float:
                return N.Const(T.bool_, loc, name == "isfinite")
            return N.MathCall(T.bool_, loc, name, args)
        t = args[0].type if len(args) == 1 else self.unify(args[0], args[1])
        ft = t if (t.is_float and not (isinstance(args[0], N.Const) and args[0].weak and len(args) == 1)) else T.float64
        if name in ("floor", "ceil", "trunc") and t.is_int:
            ft = T.float64
        return N.MathCall(ft, loc, name, [self.cast(a, ft) for a in args])

    @handles("builtin")
    def call_builtin(self, fn, entry: Entry, node: ast.Call, statement: bool) -> N.Expr:
        name = entry.name
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
            raise self.err(node, 'print() is not available in kernels; use pk.printf("%d\\n", i)', KernelSyntaxError)
        raise self.err(node, f"{name}() cannot be used here", KernelSyntaxError)

    @handles("atomic", "atomic_fetch", "atomic_cas", "atomic_unit")
    def call_atomic(self, fn, entry: Entry, node: ast.Call, statement: bool) -> N.Expr:
        kind, op = entry.kind, entry.name
        nargs = {"atomic_cas": 4, "atomic_unit": 2}.get(kind, 3)
        if len(node.args) != nargs:
            raise self.err(
                node,
                f"this atomic takes {nargs} arguments: (view, [indices]"
                + {4: ", expected, desired)", 2: ")"}.get(nargs, ", value)"),
            )
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
            raise self.err(
                ix_node,
                f"{view.name!r} has rank {view.type.rank} but the atomic gives "
                f"{len(index)} index{'es' if len(index) != 1 else ''}",
            )
        dt = view.type.dtype
        vals = [self.cast(self.scalar(self.expr(a), a, "value"), dt) for a in node.args[2:]]
        if kind == "atomic_unit":  # atomic_increment / atomic_decrement
            vals = [N.Const(dt, self.loc(node), 1)]
        if op in kmath.INTEGER_ATOMIC_OPS and (dt.is_float or (dt.is_bool and op in ("mod", "lshift", "rshift"))):
            raise self.err(node, f"atomic {op} needs an integer View, {view.name!r} holds {dt.name}")
        self.mark_write(view)
        return N.Atomic(dt, self.loc(node), op, view, index, vals, fetch=kind in ("atomic_fetch", "atomic_cas"))

    @handles("printf")
    def call_printf(self, fn, entry: Entry, node: ast.Call, statement: bool) -> N.Stmt:
        if not statement:
            raise self.err(node, "pk.printf(...) is a statement, not a value", KernelSyntaxError)
        if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
            raise self.err(node, "pk.printf needs a literal format string first", KernelSyntaxError)
        fmt = node.args[0].value
        args = [self.scalar(self.expr(a), a, "printf argument") for a in node.args[1:]]
        convs = printf.conversions(fmt)
        if convs is None:
            raise self.err(
                node.args[0], "unsupported printf format: use %d %i %u %x %ld %f %e %g %c and %%", KernelSyntaxError
            )
        if len(convs) != len(args):
            raise self.err(node, f"the format has {len(convs)} conversion(s) but {len(args)} argument(s) follow")
        return N.Printf(self.loc(node), fmt, args)

    @handles("rand")
    def call_rand(self, fn, entry: Entry, node: ast.Call, statement: bool) -> N.Expr:
        if not node.args:
            raise self.err(node, "pk.rand(gen) takes a generator from pool.get_state()")
        gen = self.expr(node.args[0])
        if not isinstance(gen.type, T.RandomStateType):
            raise self.err(node.args[0], "pk.rand(gen) takes a generator from pool.get_state()")
        args = [self.cast(self.scalar(self.expr(a), a, "argument"), T.float64) for a in node.args[1:]]
        if len(args) > 2:
            raise self.err(node, "pk.rand(gen[, end] | [, begin, end])")
        return N.RandomCall(T.float64, self.loc(node), gen, entry.name, args)

    @handles("convert")
    def call_convert(self, fn, entry: Entry, node: ast.Call, statement: bool) -> N.Expr:
        (arg,) = self.exactly(node, 1)
        return self.convert(arg, T.as_scalar_type(fn), node)

    @handles("function")
    def call_function(self, fn, entry: Entry, node: ast.Call, statement: bool) -> N.Expr:
        return self.device_call(fn, node)

    @handles("method")
    def call_method(self, fn: Method, entry: Entry, node: ast.Call, statement: bool) -> N.Expr:
        return self.device_call(fn.function, node, method=True)

    @handles("subview")
    def call_subview(self, fn, entry: Entry, node: ast.Call, statement: bool) -> N.Expr:
        view = self.expr(node.args[0]) if node.args else None
        if view is None or not isinstance(view.type, T.ViewType):
            raise self.err(node, "pk.subview(view, index or pk.ALL, ...) takes a View first")
        return self.subview(view, node.args[1:], node)

    def device_call(self, wrapper, node: ast.Call, method: bool = False, receiver=None) -> N.Expr:
        args = [self.expr(a) for a in node.args]
        for a, a_node in zip(args, node.args, strict=True):
            if isinstance(a, CT):
                raise self.err(a_node, f"{describe(a.value)} cannot be passed to a device function")
        if receiver is not None:
            args = [receiver] + args
        # structs are passed by reference (Python's object semantics): a temporary gets a name first
        for k, a in enumerate(args):
            if isinstance(a, N.Expr) and isinstance(a.type, T.StructType) and not isinstance(a, N.Var):
                tmp = N.Var(a.type, a.loc, self.new_tmp(a.type))
                self.pending.append(N.Assign(a.loc, tmp, a))
                args[k] = tmp
        if method:
            # a @pk.function method: the members it may read travel as hidden leading arguments
            hidden = sorted(k for k in self.params if k.startswith(f"{self.self_name}."))
            args = [N.Var(self._value_type(self.params[k]), self.loc(node), k) for k in hidden] + args
        f = self.specialize_function(
            wrapper,
            [a.type for a in args],
            self.loc(node),
            (self.self_name, self.self_cls, len(hidden)) if method else None,
        )
        for k, a in enumerate(args):
            if isinstance(a.type, T.ViewType) and f.params[k].name in getattr(f, "_writes", set()):
                self.mark_write(a)
        casted = [
            self.cast(a, p.type) if isinstance(p.type, T.ScalarType) else a for a, p in zip(args, f.params, strict=True)
        ]
        return N.Call(f.ret, self.loc(node), f, casted)

    @handles("classtype")
    def call_classtype(self, cls: type, entry: Entry, node: ast.Call, statement: bool) -> N.Expr:
        """`Point(x, y)` for a @pk.classtype: its __init__ specialized for these argument types."""
        args = [self.expr(a) for a in node.args]
        for a, a_node in zip(args, node.args, strict=True):
            if isinstance(a, CT) or isinstance(a.type, (T.ViewType, T.TeamType)):
                raise self.err(a_node, f"{cls.__name__}(...) takes numbers or classtype values")
        f = self.specialize_constructor(cls, [a.type for a in args], self.loc(node))
        casted = [
            self.cast(a, p.type) if isinstance(p.type, T.ScalarType) else a for a, p in zip(args, f.params, strict=True)
        ]
        return N.Construct(f.ret, self.loc(node), f, casted)

    @handles_methods(T.StructType)
    def struct_method(self, obj: N.Expr, node: ast.Call, statement: bool) -> N.Expr:
        """`p.norm()` on a classtype value: every method of a classtype is a device function, decorated with
        @pk.function or not (as in PyKokkos)."""
        method = getattr(obj.type.cls, node.func.attr, None)
        if not is_pk_function(method):
            if not isinstance(method, _pytypes.FunctionType) or node.func.attr.startswith("__"):
                raise self.err(node, f"{obj.type.pyname} has no method {node.func.attr!r} that kernels can call")
            method = _PlainMethod(method)  # specializations are memoized per function
        return self.device_call(method, node, receiver=obj)

    @handles_methods(T.ViewType)
    def view_method(self, view: N.Expr, node: ast.Call, statement: bool) -> N.Expr:
        if node.func.attr == "extent" and len(node.args) == 1 and not node.keywords:
            return self.extent(view, node.args[0], node)
        raise self.err(node, f"View method {node.func.attr!r} is not available inside kernels")

    _RANDOM = {
        "drand": T.float64,
        "frand": T.float32,
        "urand": T.uint32,
        "urand64": T.uint64,
        "rand": T.int64,
        "normal": T.float64,
    }

    @handles_methods(T.RandomPoolType, T.RandomStateType)
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
            takes = (
                "no"
                if what.startswith("urand")
                else "0 or 2 (mean, std)"
                if what == "normal"
                else "0, 1 (end) or 2 (begin, end)"
            )
            raise self.err(node, f"{what}() takes {takes} arguments")
        at = T.float64 if what in ("drand", "frand", "normal") else T.int64
        return N.RandomCall(rt, loc, obj, what, [self.cast(a, at) for a in args])
