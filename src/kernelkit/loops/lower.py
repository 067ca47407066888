"""A whole annotated function -> a typed IR Program (kernelkit.ir.nodes.Program).

ProgramLowerer is the kernel lowerer (frontend.lower.FunctionLowerer) plus what host code needs: local arrays
(`np.empty`, `np.zeros_like`, `pk.View`, ...), `M, N = A.shape`, `A.dtype`, returns of scalars and arrays, and
the loops that run in parallel — `pk.prange`, APPy's `#pragma parallel for`, nested pranges (one collapsed
loop), tensor expressions (loops/tensor.py) — each lowered to a ParallelFor whose body is ordinary kernel IR,
after loops/analysis.py has found its reductions and checked its stores. Loops under `#pragma simd` become
SimdFor when their iterations can be vector lanes.
"""

from __future__ import annotations

import ast
import builtins
import copy
from dataclasses import dataclass, field

import numpy as np

from kernelkit.errors import KernelSyntaxError, KernelTypeError, KernelValueError, Loc
from kernelkit.frontend.base import CT, Context, Guard, ViewAttr, tname
from kernelkit.frontend.lower import FunctionLowerer, _c_ident
from kernelkit.frontend.source import Source, get_source
from kernelkit.ir import nodes as N
from kernelkit.ir import printf
from kernelkit.ir import types as T
from kernelkit.lang import registry
from kernelkit.lang.registry import Entry
from kernelkit.loops import analysis, pragmas
from kernelkit.loops.builtins import (
    SPECIAL_FLOATS,
    alloc_kind,
    is_prange,
    math_name,
    prange,
    reduction_kind,
    simd_range,
)
from kernelkit.loops.callees import CalleesMixin
from kernelkit.loops.omp import OpenmpLowering
from kernelkit.loops.tensor import Tensors

INTERNAL: dict[str, object] = {
    "__kk_prange": prange,
    "__kk_simd_range": simd_range,
    "__kk_range": builtins.range,
    "__kk_empty": np.empty,
    "__kk_max": builtins.max,
    "__kk_min": builtins.min,
}


@dataclass
class Options:
    """`@pk.jit` options that change the program (part of the specialization)."""

    auto_simd: bool = True
    parallel: bool = True  # False: every parallel loop runs sequentially (a reference build)
    fast_math: bool | None = None  # contraction and fast math (docs/numerics.md); None: KERNELKIT_FAST_MATH
    extra: dict = field(default_factory=dict)
    devices: int = 0  # GPUs target constructs may run on (PyOMP's njit): omp_get_num_devices() in compiled code
    gpu: bool = False  # target constructs run on the GPU (the program runs on pk.Cuda)

    def key(self) -> tuple:
        return (self.auto_simd, self.parallel, self.fast_math, self.devices, self.gpu)


class ProgramLowerer(CalleesMixin, OpenmpLowering, FunctionLowerer):
    def __init__(self, fn, src: Source, ctx: Context, params: dict[str, T.Type], options: Options, prags: dict):
        super().__init__(fn, src, ctx, params, in_function=False)
        self.options = options
        self.pragmas = prags
        self.tensors = Tensors(self)
        self.par_depth = 0
        self.results: list[T.Type] | None = None
        self.result_params: list[str | None] = []
        self.tuple_result = False
        self.result_tree: tuple | None = None
        self.allocs: list[str] = []
        self.declared: dict[str, int] = {}
        self.omp_strings: dict[str, str | None] = {}
        self.omp_stack: list = []
        self.omp_gpu: list[bool] = []

    # ------------------------------------------------------------------------------------------ queries (tensor.py)

    def at_host(self) -> bool:
        return self.par_depth == 0 and self.options.parallel

    def is_local(self, name: str) -> bool:
        name = self.rn(name)
        return name in self.locals or name in self.params or name in self.declared

    def array_rank(self, name: str) -> int | None:
        name = self.rn(name)
        if name in self.declared:
            return self.declared[name]
        t = self.locals.get(name, self.params.get(name))
        return t.rank if isinstance(t, T.ViewType) else None

    def declare_array(self, name: str, rank: int, dt: T.ScalarType) -> None:
        self.declared[name] = rank

    def static_value(self, node: ast.AST):
        """The Python object a name or attribute chain denotes, or None for kernel values."""
        if isinstance(node, ast.Name):
            if self.is_local(node.id):
                return None
            try:
                v = self.lookup(node.id, node)
            except KernelTypeError:
                return None
            return v.value if isinstance(v, CT) else None
        if isinstance(node, ast.Attribute):
            base = self.static_value(node.value)
            if base is None:
                return None
            return getattr(base, node.attr, None)
        return None

    def reduction_kind(self, fn, nargs: int) -> str | None:
        return reduction_kind(fn, nargs)

    def probe_type(self, node: ast.expr, idx: list[str], scratch: list[ast.stmt]) -> T.ScalarType:
        """The element type of an expression, found by lowering a copy of it (nothing is kept)."""
        saved = (dict(self.locals), self.pending, set(self.writes), self._tmp, self.par_depth, self.loop_depth)
        self.pending = []
        try:
            names = {n.id for root in [node, *scratch] for n in ast.walk(root) if isinstance(n, ast.Name)}
            for i in [*idx, *(n for n in names if n.startswith(("_kk_i", "_kk_k")))]:
                if i not in self.locals:
                    self.locals[i] = T.int64  # loop indices of the rewrite's loops, enclosing ones included
            self.par_depth += 1  # as inside the loops the rewrite makes: nothing parallel, nothing allocated
            self.body(copy.deepcopy(scratch))
            e = self.expr(copy.deepcopy(node))
        finally:
            self.locals, self.pending, self.writes, self._tmp, self.par_depth, self.loop_depth = saved
        if not isinstance(e.type, T.ScalarType):
            raise KernelTypeError(f"an array expression's elements must be numbers, not {tname(e.type)}", e.loc)
        return T.int64 if e.type.is_bool and False else e.type

    # ------------------------------------------------------------------------------------------ names

    def lookup(self, name: str, node: ast.AST):
        if name in INTERNAL:
            return CT(INTERNAL[name])
        if name.startswith("__kk_dt_"):
            return CT(T.from_name(name[len("__kk_dt_") :]))
        return super().lookup(name, node)

    def captured(self, value, guard: Guard, name: str, node: ast.AST):
        if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
            return CT(value)
        if getattr(value, "_kk_openmp", False) or getattr(value, "_kk_omp", None):
            return CT(value)  # PyOMP's openmp(...) and omp_* functions (kernelkit.openmp)
        if callable(value) and (alloc_kind(value) or math_name(value) or reduction_kind(value, 1) or is_prange(value)):
            self.ctx.guard(guard)
            return CT(value)
        return super().captured(value, guard, name, node)

    def visit_Attribute(self, node: ast.Attribute):
        if isinstance(node.value, ast.Name) and self.array_rank(node.value.id) and node.attr in ("dtype", "size", "T"):
            base = self.visit(node.value)
            vt = base.type
            if node.attr == "dtype":
                return CT(vt.dtype)
            if node.attr == "size":
                out: N.Expr = N.Extent(T.int64, self.loc(node), base, 0)
                for d in range(1, vt.rank):
                    out = N.BinOp(T.int64, self.loc(node), "*", out, N.Extent(T.int64, self.loc(node), base, d))
                return out
            raise self.err(node, "`.T` is not supported in compiled functions; index the array transposed")
        return super().visit_Attribute(node)

    # ------------------------------------------------------------------------------------------ statements

    def body(self, stmts: list[ast.stmt]) -> list[N.Stmt]:
        out: list[N.Stmt] = []
        saved, self.pending = self.pending, []
        for s in stmts:
            prag = self.pragma_of(s)
            if prag is not None and prag.kind in ("parallel", "sequential") and not isinstance(s, ast.For):
                raise self.err(s, f"`#pragma {prag.text}` must come right before a for loop", KernelSyntaxError)
            if self.omp_string_assign(s):
                continue
            rewritten = (
                None
                if isinstance(s, (ast.For, ast.While, ast.FunctionDef, ast.With))
                else self.tensors.statement(s, prag)
            )
            if rewritten is not None:
                out.extend(self.body(rewritten))
                continue
            r = self.visit(s)
            if self.pending:
                out.extend(self.pending)
                self.pending = []
            if r is None:
                continue
            out.extend(r if isinstance(r, list) else [r])
        self.pending = saved
        return out

    def pragma_of(self, s: ast.stmt):
        if getattr(s, "_kk_gen", False):
            return None
        return self.pragmas.get(s.lineno)

    def visit_Assign(self, node: ast.Assign):
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple):
            v = self.visit(node.value) if isinstance(node.value, ast.Attribute) else None
            if isinstance(v, ViewAttr) and v.attr == "shape":
                tgt = node.targets[0].elts
                if len(tgt) != v.view.type.rank:
                    raise self.err(node, f"{v.view.name!r} has rank {v.view.type.rank}, not {len(tgt)}")
                out: list[N.Stmt] = []
                for d, t in enumerate(tgt):
                    out += self.assign_to(t, N.Extent(T.int64, self.loc(node), v.view, d), node)
                return out
        return super().visit_Assign(node)

    def visit_AugAssign(self, node: ast.AugAssign):
        if (getattr(node, "_kk_atomic", False) or self._atomic_pragma(node)) and isinstance(node.target, ast.Subscript):
            view, index = self.view_index(node.target)
            op = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}.get(type(node.op))
            if op is None:
                raise self.err(node, "`#pragma atomic` takes +=, -=, *= or /=", KernelSyntaxError)
            dt = view.type.dtype
            value = self.cast(self.scalar(self.expr(node.value), node.value), dt)
            self.mark_write(view)
            return N.ExprStmt(self.loc(node), N.Atomic(dt, self.loc(node), op, view, index, [value], False))
        return super().visit_AugAssign(node)

    def _atomic_pragma(self, node) -> bool:
        p = self.pragma_of(node)
        return p is not None and p.kind == "atomic"

    def assign_to(self, target: ast.AST, value, node: ast.AST) -> list[N.Stmt]:
        if isinstance(target, ast.Name) and isinstance(value, N.Expr) and isinstance(value.type, T.ViewType):
            name = self.rn(target.id)
            loc = self.loc(target)
            if not isinstance(value, N.Alloc):
                raise self.err(
                    node,
                    f"{name!r} = <an array>: a local array must be made here (np.empty, np.zeros, ...); "
                    "to name an argument again, use the argument itself",
                )
            if name in self.params:
                raise self.err(node, f"cannot assign a new array to parameter {name!r}; write {name}[:] = ...")
            have = self.locals.get(name)
            if have is not None and have != value.type:
                raise self.err(node, f"{name!r} holds {tname(have)}; it cannot take {tname(value.type)}")
            out: list[N.Stmt] = []
            if have is not None:
                out.append(N.Free(loc, N.Var(have, loc, name)))
            else:
                self.locals[name] = value.type
                self.allocs.append(name)
            out.append(N.Assign(loc, N.Var(value.type, loc, name), value))
            return out
        return super().assign_to(target, value, node)

    def visit_Return(self, node: ast.Return):
        if self.par_depth or self.loop_depth and self.in_closure:
            raise self.err(node, "`return` inside a parallel loop", KernelSyntaxError)
        loc = self.loc(node)
        values = (node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]) if node.value else []
        tree = None
        if any(isinstance(v, ast.Tuple) for v in values):  # `return (a, b), c`: flat results and their shape
            flat: list[ast.expr] = []

            def shape(e):
                if isinstance(e, ast.Tuple):
                    return tuple(shape(x) for x in e.elts)
                flat.append(e)
                return len(flat) - 1

            tree = shape(node.value)
            values = flat
        out: list[N.Stmt] = []
        types: list[T.Type] = []
        params: list[str | None] = []
        keep: list[str] = []
        for v in values:
            if isinstance(v, ast.Constant) and v.value is None:
                raise self.err(v, "return None: write a bare `return`", KernelSyntaxError)
            e = self.expr(v)
            if isinstance(e.type, T.ViewType):
                if not isinstance(e, N.Var):
                    raise self.err(v, "return an array by its name (an argument or a local array)")
                params.append(e.name if e.name in self.params else None)
                if e.name not in self.params:
                    keep.append(e.name)
            elif isinstance(e.type, T.ScalarType):
                params.append(None)
            else:
                raise self.err(v, f"cannot return {tname(e.type)}")
            types.append(e.type)
            out.append(N.Result(self.loc(v), len(out), e))
        is_tuple = isinstance(node.value, ast.Tuple)
        if tree is not None and self.result_tree not in (None, tree):
            raise self.err(node, "every `return` of a compiled function must return values of the same types")
        if tree is not None:
            self.result_tree = tree
        if self.results is None:
            self.results, self.result_params, self.tuple_result = types, params, is_tuple
        else:
            same = [_rt(t) for t in types] == [_rt(t) for t in self.results] and is_tuple == self.tuple_result
            if not same or params != self.result_params:
                raise self.err(node, "every `return` of a compiled function must return values of the same types")
            for k, t in enumerate(types):  # int and float scalars from different returns: the wider type
                if isinstance(t, T.ScalarType) and t != self.results[k]:
                    self.results[k] = T.promote(t, self.results[k])
        r = N.Return(loc, None)
        r.keep = keep  # type: ignore[attr-defined]  # program arrays handed to the caller (not freed)
        return out + [r]

    # ------------------------------------------------------------------------------------------ calls

    def visit_Call(self, node: ast.Call, statement: bool = False):
        fn = self.static_value(node.func) if isinstance(node.func, (ast.Name, ast.Attribute)) else None
        if fn is not None:
            what = getattr(fn, "_kk_omp", None)
            if isinstance(what, str):
                return self.omp_call(what, node, statement)
            kind = alloc_kind(fn)
            entry = registry.lookup(fn) if kind is None else None
            if entry is not None and entry.kind == "alloc":
                kind = entry.name  # pk.View(shape, dtype): registered by the api
            if kind is not None:
                return self.alloc(kind, node)
            if fn is builtins.float and len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
                text = node.args[0].value
                if isinstance(text, str):
                    if text.strip().lower() not in SPECIAL_FLOATS:
                        raise self.err(node, f"float({text!r}): only 'inf', '-inf' and 'nan' are understood")
                    return N.Const(T.float64, self.loc(node), SPECIAL_FLOATS[text.strip().lower()])
            if fn is builtins.print:
                return self.host_print(node, statement)
            name = math_name(fn)
            if name is not None and not node.keywords:
                from kernelkit.frontend.base import HANDLERS

                return HANDLERS["math"](self, fn, Entry("math", name), node, statement)
            kind = reduction_kind(fn, len(node.args))
            if kind == "where" and len(node.args) == 3 and not node.keywords:
                c = self.truth(self.expr(node.args[0]), node.args[0])
                a = self.scalar(self.expr(node.args[1]), node.args[1])
                b = self.scalar(self.expr(node.args[2]), node.args[2])
                t = self.unify(a, b)
                return N.Select(t, self.loc(node), c, self.cast(a, t), self.cast(b, t))
            if kind in ("pairmax", "pairmin") and fn not in (builtins.max, builtins.min) and not node.keywords:
                return self.visit_Call(
                    ast.copy_location(
                        ast.Call(ast.Name("__kk_max" if kind == "pairmax" else "__kk_min", ast.Load()), node.args, []),
                        node,
                    ),
                    statement,
                )
        return super().visit_Call(node, statement)

    def _dtype(self, node: ast.AST | None, default: T.ScalarType) -> T.ScalarType:
        if node is None:
            return default
        v = self.visit(node)
        if not isinstance(v, CT):
            raise self.err(node, "dtype= must name a type (np.float64, A.dtype, pk.double, float, ...)")
        value = v.value
        try:
            return T.as_scalar_type(value.dtype if hasattr(value, "is_floating_point") else value)
        except TypeError as e:
            name = getattr(value, "__name__", str(value)).split(".")[-1]
            try:
                return T.as_scalar_type(np.dtype(name))
            except TypeError:
                raise self.err(node, str(e)) from None

    def alloc(self, kind: str, node: ast.Call) -> N.Alloc:
        if self.par_depth:
            raise self.err(node, "arrays cannot be allocated inside a parallel loop; allocate them before it")
        kw = {k.arg: k.value for k in node.keywords}
        bad = set(kw) - {"dtype", "fill_value", "order", "device", "layout", "space", "trait"}
        if bad:
            raise self.err(node, f"unsupported keyword argument(s) {', '.join(sorted(bad))}")
        args = list(node.args)
        loc = self.loc(node)
        fill: N.Expr | None = None
        if kind.endswith("_like"):
            if not args:
                raise self.err(node, f"{kind}() needs an array")
            src = self.expr(args[0])
            if not isinstance(src.type, T.ViewType):
                raise self.err(args[0], f"{kind}() takes an array, got {tname(src.type)}")
            shape = [N.Extent(T.int64, loc, src, d) for d in range(src.type.rank)]
            dt = self._dtype(
                kw.get("dtype", args[2] if kind == "full_like" and len(args) > 2 else None), src.type.dtype
            )
            if kind == "full_like":
                fill = self.scalar(self.expr(kw.get("fill_value", args[1] if len(args) > 1 else None)), node)
        else:
            if not args:
                raise self.err(node, f"{kind}() needs a shape")
            shape_node = args[0]
            items = shape_node.elts if isinstance(shape_node, (ast.Tuple, ast.List)) else [shape_node]
            shape = []
            for it in items:
                e = self.scalar(self.expr(it), it, "extent")
                if not (e.type.is_int or e.type.is_bool):
                    raise self.err(it, f"an array extent must be an integer, got {e.type.name}")
                shape.append(self.cast(e, T.int64))
            if kind == "full":
                fv = kw.get("fill_value", args[1] if len(args) > 1 else None)
                if fv is None:
                    raise self.err(node, "full() needs a fill value")
                fill = self.scalar(self.expr(fv), fv)
                dt = self._dtype(
                    kw.get("dtype", args[2] if len(args) > 2 else None),
                    T.float64 if fill.type.is_float or (isinstance(fill, N.Const) and fill.weak) else fill.type,
                )
            else:
                dt = self._dtype(kw.get("dtype", args[1] if len(args) > 1 else None), T.float64)
        if not shape or len(shape) > 8:
            raise self.err(node, "arrays have 1 to 8 dimensions", KernelValueError)
        if kind in ("zeros", "zeros_like", "view"):
            fill = N.Const(dt, loc, 0)
        elif kind in ("ones", "ones_like"):
            fill = N.Const(dt, loc, 1)
        elif fill is not None:
            fill = self.cast(fill, dt)
        return N.Alloc(T.ViewType(dt, len(shape), T.LAYOUT_RIGHT), loc, shape, fill)

    def host_print(self, node: ast.Call, statement: bool) -> N.Stmt:
        if not statement or node.keywords:
            raise self.err(node, "print(...) is a statement here, without sep= or end=", KernelSyntaxError)
        parts: list[str] = []
        args: list[N.Expr] = []
        for a in node.args:
            if isinstance(a, ast.Constant) and isinstance(a.value, str):
                parts.append(a.value.replace("%", "%%"))
                continue
            e = self.scalar(self.expr(a), a, "print argument")
            parts.append("%g" if e.type.is_float else "%d")
            args.append(e)
        fmt = " ".join(parts) + "\n"
        assert printf.conversions(fmt) is not None
        return N.Printf(self.loc(node), fmt, args)

    # ------------------------------------------------------------------------------------------ loops

    def loop_kind(self, it: ast.AST) -> str | None:
        """range | prange | simd for the iterables a compiled function may loop over."""
        if not isinstance(it, ast.Call):
            return None
        fn = self.static_value(it.func)
        if fn is builtins.range:
            return "range"
        if fn is simd_range:
            return "simd"
        if is_prange(fn):
            return "prange"
        if getattr(fn, "_kk_range", False):  # appy.range(..., parallel=True, simd=True)
            kw = {k.arg: k.value for k in it.keywords}
            par = kw.get("parallel")
            if par is not None and isinstance(par, ast.Constant) and par.value:
                return "prange"
            simd = kw.get("simd")
            return "simd" if simd is not None and isinstance(simd, ast.Constant) and simd.value else "range"
        return None

    def range_args(self, it: ast.Call) -> tuple[N.Expr, N.Expr, N.Expr]:
        if not 1 <= len(it.args) <= 3 or any(k.arg not in ("parallel", "simd") for k in it.keywords):
            raise self.err(it, "a loop range takes 1 to 3 positional arguments", KernelSyntaxError)
        args = [self.scalar(self.expr(a), a, "range bound") for a in it.args]
        for a, a_node in zip(args, it.args, strict=True):
            if not (a.type.is_int or a.type.is_bool):
                raise self.err(a_node, f"range() bounds must be integers, got {a.type.name}")
        args = [self.cast(a, T.int64) for a in args]
        zero, one = N.Const(T.int64, self.loc(it), 0), N.Const(T.int64, self.loc(it), 1)
        if len(args) == 1:
            return zero, args[0], one
        step = args[2] if len(args) == 3 else one
        if isinstance(step, N.Const) and step.value == 0:
            raise self.err(it.args[2], "range() step must not be zero", KernelValueError)
        return args[0], args[1], step

    def loop_var(self, node: ast.For) -> N.Var:
        if not isinstance(node.target, ast.Name):
            raise self.err(node.target, "the loop variable must be a plain name", KernelSyntaxError)
        name = self.rn(node.target.id)
        self._check_new_local(name, node.target)
        have = self.locals.get(name, self.params.get(name))
        if have is None:
            self.locals[name] = T.int64
        elif not (isinstance(have, T.ScalarType) and have.is_int):
            raise self.err(node.target, f"loop variable {name!r} already holds {tname(have)}")
        return N.Var(self.locals.get(name, have), self.loc(node.target), name)

    def is_parallel(self, node: ast.For) -> bool:
        kind = self.loop_kind(node.iter)
        prag = self.pragma_of(node)
        if prag is not None and prag.kind == "sequential":
            return False
        return kind == "prange" or (prag is not None and prag.kind == "parallel")

    def visit_For(self, node: ast.For):
        if node.orelse:
            raise self.err(node, "`for ... else` is not supported", KernelSyntaxError)
        kind = self.loop_kind(node.iter)
        if kind is None:
            return super().visit_For(node)
        prag = self.pragma_of(node)
        simd = kind == "simd" or (prag is not None and (prag.kind == "simd" or prag.simd))
        if self.is_parallel(node) and self.par_depth == 0 and self.options.parallel:
            return self.parallel_loop(node, prag, simd)
        start, stop, step = self.range_args(node.iter)
        var = self.loop_var(node)
        self.loop_depth += 1
        body = self.body(node.body)
        self.loop_depth -= 1
        loop = N.For(self.loc(node), var, start, stop, step, body)
        if not simd:
            return loop
        return self.simd_loop(loop, prag)

    def simd_loop(self, loop: N.For, prag) -> list[N.Stmt]:
        parts = analysis.scalar_replace(loop, self.new_tmp)
        before, after = parts if parts is not None else ([], [])
        out: N.Stmt = loop
        if analysis.simd_safe(loop.body, loop.var.name):
            declared = dict(prag.reductions) if prag is not None and prag.kind == "simd" else {}
            try:
                red, priv, _ = analysis.classify(loop.body, {loop.var.name}, set(), declared, "a simd loop")
            except KernelTypeError:
                red = None  # a loop-carried local: the loop stays an ordinary sequential loop
            if red is not None:
                out = N.SimdFor(loop.loc, loop.var, loop.start, loop.stop, loop.step, loop.body, red, priv)
        return before + [out] + after

    def parallel_loop(self, node: ast.For, prag, simd: bool, collapse: int = 0) -> N.ParallelFor:
        loops = [node]
        while len(loops) < collapse:  # PyOMP's collapse(n): the n outer loops of a perfect nest
            inner = loops[-1].body[0] if len(loops[-1].body) == 1 else None
            if not isinstance(inner, ast.For) or self.loop_kind(inner.iter) not in ("range", "prange") or inner.orelse:
                raise self.err(node, f"collapse({collapse}) needs {collapse} perfectly nested range loops")
            loops.append(inner)
        while (
            not collapse
            and len(loops[-1].body) == 1
            and isinstance(loops[-1].body[0], ast.For)
            and self.is_parallel(loops[-1].body[0])
            and not loops[-1].body[0].orelse
            and not self._uses(loops[-1].body[0].iter, [x.target for x in loops])
        ):
            inner = loops[-1].body[0]
            p = self.pragma_of(inner)
            simd = simd or (p is not None and p.simd)
            loops.append(inner)
        bounds = [self.range_args(x.iter) for x in loops]
        vars_ = [self.loop_var(x) for x in loops]
        names = [v.name for v in vars_]
        self.par_depth += 1
        try:
            body = self.body(loops[-1].body)
        finally:
            self.par_depth -= 1
        what = f"the parallel loop at line {node.lineno}"
        body = analysis.check_stores(body, names, what)
        shared = set(prag.shared) if prag is not None else set()
        declared = dict(prag.reductions) if prag is not None else {}
        reductions, private, shared_out = analysis.classify(body, set(names), shared, declared, what)
        for n, _ in reductions:
            if n not in self.locals and n not in self.params:
                raise self.err(node, f"reduction variable {n!r} must be assigned before the loop")
        vector = simd and analysis.simd_safe(body, names[-1])
        return N.ParallelFor(
            self.loc(node),
            vars_,
            bounds,
            body,
            reductions,
            private,
            shared_out,
            vector,
            f"{self.fn.__name__}:{node.lineno}",
            prag.schedule if prag is not None else "",
        )

    @staticmethod
    def _uses(expr: ast.AST, targets: list[ast.AST]) -> bool:
        names = {t.id for t in targets if isinstance(t, ast.Name)}
        return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(expr))


def _rt(t: T.Type):
    return "scalar" if isinstance(t, T.ScalarType) else t


def lower_program(
    fn, arg_types: dict[str, T.Type], options: Options | None = None, statics: dict | None = None
) -> tuple[N.Program, list[Guard]]:
    """Lower the whole function `fn` for these argument types (in parameter order). `statics`: parameters whose
    arguments are compiled functions (loops/callees.py), known at compile time and not passed."""
    options = options or Options()
    src = get_source(fn)
    node = src.tree
    a = node.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
        raise KernelSyntaxError("compiled functions take plain positional parameters", src.loc(node))
    names = [x.arg for x in a.args if x.arg not in (statics or {})]
    if list(arg_types) != names:
        raise KernelTypeError(f"{fn.__name__}() takes {names}, got {list(arg_types)}", src.loc(node))
    ctx = Context()
    lw = ProgramLowerer(fn, src, ctx, dict(arg_types), options, pragmas.collect(src))
    lw.statics = dict(statics or {})
    body = lw.body(node.body)
    loc = src.loc(node)
    if lw.results and not (body and isinstance(body[-1], N.Return)):
        last = node.body[-1]
        if not isinstance(last, ast.Return):
            raise KernelTypeError(
                f"{fn.__name__}() returns a value on some paths but can also end without `return`",
                Loc(src.file, getattr(last, "end_lineno", last.lineno) or last.lineno, 0),
            )
    program = N.Program(
        name=_c_ident(fn.__name__),
        params=[N.Param(n, t, loc) for n, t in arg_types.items()],
        body=body,
        locals=lw.locals,
        functions=list(ctx.functions),
        loc=loc,
        results=lw.results or [],
        result_params=lw.result_params,
        tuple_result=lw.tuple_result,
        result_tree=lw.result_tree,
        writes={n for n in lw.writes if isinstance(arg_types.get(n), T.ViewType)},
        structs=list(ctx.structs),
        allocs=list(lw.allocs),
        fast_math=options.fast_math,
    )
    return program, ctx.guards
