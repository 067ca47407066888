"""Calls between compiled functions: an `@njit` / `@pk.jit` function called from another one (recursion included).

The callee becomes an N.Function of the caller's Program, specialized for the call's argument types and lowered
by the program lowerer in function mode (CalleeLowerer), so its body may hold everything a program's body may
(`with openmp(...)` constructs: task, taskwait, single, critical, parallel for; pk.prange loops; local arrays,
freed when it returns); it returns one number or nothing. Arrays are passed by reference: the callee's writes to
an array parameter count as the caller's writes.

Recursion: the N.Function is registered before its body is lowered, with a guessed return type (a constant or a
parameter some `return` gives back, else int64); a recursive call is typed with the guess, and the body is
lowered again while the result type (or the set of parameters written) differs from the guess — a fixed point of
at most a few rounds. Mutual recursion the same way: functions specialized during a round that is redone are
specialized again. Renderers declare every function before defining any (C++ needs that for recursion).
"""

from __future__ import annotations

import ast

from kernelkit.errors import KernelError, KernelSyntaxError, KernelTypeError, Loc
from kernelkit.frontend.base import CT, Guard, describe, tname
from kernelkit.frontend.lower import _c_ident
from kernelkit.frontend.source import get_source
from kernelkit.ir import nodes as N
from kernelkit.ir import types as T

ROUNDS = 4  # lowerings of one specialization before its return type must have settled


def is_compiled_function(value) -> bool:
    """An `@njit` / `@pk.jit` function (kernelkit.api.jit.JitFunction; the api is above this stage)."""
    return getattr(value, "_kk_kind", None) == "jit" and hasattr(value, "py_function")


def host_only(f: N.Function) -> bool:
    """Does this function (or one it calls) hold OpenMP regions, parallel loops or local arrays (host threads only)?"""
    return bool(getattr(f, "_kk_host_only", False))


class CalleesMixin:
    """The ProgramLowerer part that compiles calls of other compiled functions (placed before the frontend's
    call dispatch in the method order)."""

    statics: dict = {}  # parameters whose arguments are compiled functions (set by lower_program)

    def lookup(self, name: str, node: ast.AST):
        if name in self.statics and not self.is_local(name):  # type: ignore[attr-defined]
            return CT(self.statics[name])
        return super().lookup(name, node)  # type: ignore[misc]

    def captured(self, value, guard: Guard, name: str, node: ast.AST):
        if is_compiled_function(value):
            self.ctx.guard(guard)  # type: ignore[attr-defined]
            return CT(value)
        return super().captured(value, guard, name, node)  # type: ignore[misc]

    def visit_Call(self, node: ast.Call, statement: bool = False):
        fn = self.static_value(node.func) if isinstance(node.func, (ast.Name, ast.Attribute)) else None  # type: ignore[attr-defined]
        if fn is not None and is_compiled_function(fn):
            return self.compiled_call(fn, node)
        return super().visit_Call(node, statement)  # type: ignore[misc]

    def omp_region(self, d, node: ast.With, kind: str) -> list[N.Stmt]:
        out = super().omp_region(d, node, kind)  # type: ignore[misc]
        region = out[-1]
        if kind == "task" and d.shared and isinstance(region, N.Region):
            # a task's shared(x) stays on the construct: in a function a task is made in, locals are private to
            # the thread, so a task without the clause would write a copy (OpenMP's firstprivate default)
            region.clauses["shared"] = [self.rn(n) for n in dict.fromkeys(d.shared)]  # type: ignore[attr-defined]
        return out

    def compiled_call(self, jf, node: ast.Call) -> N.Expr:
        loc = self.loc(node)  # type: ignore[attr-defined]
        name = jf.py_function.__name__
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise KernelSyntaxError(f"{name}(...): a compiled function is called with positional arguments", loc)
        nparams = len(get_source(jf.py_function).tree.args.args)
        if len(node.args) != nparams:
            raise KernelTypeError(f"{name}() takes {nparams} argument(s) but {len(node.args)} were given", loc)
        args = [self.expr(a) for a in node.args]  # type: ignore[attr-defined]
        for a, a_node in zip(args, node.args, strict=True):
            if isinstance(a, CT):
                raise KernelTypeError(f"{describe(a.value)} cannot be passed to {name}()", self.loc(a_node))  # type: ignore[attr-defined]
            if not isinstance(a.type, (T.ScalarType, T.ViewType)):
                raise KernelTypeError(f"{name}() takes numbers and arrays, not {tname(a.type)}", self.loc(a_node))  # type: ignore[attr-defined]
        f = specialize(jf, [a.type for a in args], self, loc)
        if getattr(self, "omp_gpu", None) and self.omp_gpu[-1] and host_only(f):  # type: ignore[attr-defined]
            raise KernelSyntaxError(
                f"{name}() holds OpenMP regions, parallel loops or local arrays, which run on host threads: it cannot "
                "be called in a GPU target region",
                loc,
            )
        if host_only(f):
            self._kk_calls_host_only = True
        for k, a in enumerate(args):
            if isinstance(a.type, T.ViewType) and f.params[k].name in getattr(f, "_writes", set()):
                self.mark_write(a)  # type: ignore[attr-defined]
        casted = [
            self.cast(a, p.type) if isinstance(p.type, T.ScalarType) else a  # type: ignore[attr-defined]
            for a, p in zip(args, f.params, strict=True)
        ]
        return N.Call(f.ret, loc, f, casted)


def _lowerer_class():
    """ProgramLowerer in function mode (made on first use: loops/lower.py imports this module)."""
    global _CALLEE
    if _CALLEE is None:
        from kernelkit.frontend.lower import FunctionLowerer
        from kernelkit.loops.lower import ProgramLowerer

        class CalleeLowerer(ProgramLowerer):
            def __init__(self, *args) -> None:
                super().__init__(*args)
                self.in_function = True

            def visit_Return(self, node: ast.Return):
                if self.par_depth or self.omp_stack:
                    raise self.err(node, "`return` inside a parallel loop or an OpenMP construct", KernelSyntaxError)
                if node.value is not None and isinstance(node.value, ast.Tuple):
                    raise self.err(node, "a function called from compiled code returns one number (or nothing)")
                return FunctionLowerer.visit_Return(self, node)

        _CALLEE = CalleeLowerer
    return _CALLEE


_CALLEE = None


def _guess(tree: ast.FunctionDef, params: dict[str, T.Type]) -> list[T.ScalarType]:
    """Return types to try first: what a `return` without a self-call gives back when that is plain to see."""
    out: list[T.ScalarType] = []
    for n in ast.walk(tree):
        if not isinstance(n, ast.Return) or n.value is None:
            continue
        v = n.value
        if any(isinstance(c, ast.Call) for c in ast.walk(v)):
            continue
        t: T.Type | None = None
        if isinstance(v, ast.Constant) and isinstance(v.value, (bool, int, float)):
            t = T.bool_ if isinstance(v.value, bool) else T.int64 if isinstance(v.value, int) else T.float64
        elif isinstance(v, ast.Name):
            t = params.get(v.id)
        if isinstance(t, T.ScalarType) and t not in out:
            out.append(t)
    for t in (T.int64, T.float64):
        if t not in out:
            out.append(t)
    return out


def _ends(stmts: list[ast.stmt]) -> bool:
    """Does every path through these statements end in `return` (or raise)?"""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return _ends(last.body) and _ends(last.orelse)
    if isinstance(last, ast.With):
        return _ends(last.body)
    if isinstance(last, ast.While) and isinstance(last.test, ast.Constant) and last.test.value:
        return True
    return False


def specialize(jf, arg_types: list[T.Type], caller, call_loc: Loc) -> N.Function:
    """The N.Function of `jf` for these argument types in the caller's program (memoized per program)."""
    from kernelkit.loops import pragmas

    ctx = caller.ctx
    fn = jf.py_function
    key = ("compiled", fn, tuple(arg_types))
    have = ctx.specialized.get(key)
    if have is not None:
        return have
    src = get_source(fn)
    tree = src.tree
    a = tree.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
        raise KernelSyntaxError(f"{fn.__name__}() must take plain positional parameters", call_loc)
    names = [x.arg for x in a.args]
    params = dict(zip(names, arg_types, strict=True))
    f = N.Function(
        name=f"kkf_{len(ctx.functions)}_{_c_ident(fn.__name__)}",
        pyname=fn.__qualname__,
        params=[N.Param(n, t, src.loc(tree)) for n, t in params.items()],
        ret=T.void,
        body=[],
        locals={},
        loc=src.loc(tree),
    )
    f._writes = set()  # type: ignore[attr-defined]
    f._kk_key = key  # type: ignore[attr-defined]
    f._kk_callee = True  # type: ignore[attr-defined]  # rendered as an ordinary (not forced-inline) function
    ctx.specialized[key] = f
    ctx.functions.append(f)
    mark = len(ctx.functions)
    prags = pragmas.collect(src)
    guesses = _guess(tree, params)
    tries = 0
    f.ret = guesses[0] if _has_returns(tree) else T.void
    try:
        while True:
            tries += 1
            lw = _lowerer_class()(fn, src, ctx, dict(params), caller.options, prags)
            try:
                body = lw.body(tree.body)
                ret = _result_type(fn, lw)
            except KernelError:
                guesses = [g for g in guesses if g != f.ret]
                if f.ret is T.void or not guesses or tries >= ROUNDS:
                    raise
                _forget(ctx, mark)  # a guess that does not type: the next one
                f.ret = guesses[0]
                continue
            writes = {n for n in lw.writes if isinstance(params.get(n), T.ViewType)}
            if ret == f.ret and writes == f._writes:  # type: ignore[attr-defined]
                break
            if tries >= ROUNDS:
                raise KernelTypeError(
                    f"the return type of the recursive function {fn.__name__}() does not settle "
                    f"({tname(f.ret)}, then {tname(ret)}); give its first `return` a value of the final type",
                    src.loc(tree),
                )
            f.ret = ret
            f._writes = writes  # type: ignore[attr-defined]
            _forget(ctx, mark)
    except KernelError as e:
        _forget(ctx, mark - 1)
        ctx.specialized.pop(key, None)
        if e.loc is not None and e.loc.file == call_loc.file and e.loc.line == call_loc.line:
            raise
        raise type(e)(
            f"{e.message}\n  (in {fn.__name__}(), called from {call_loc.file}:{call_loc.line})", e.loc
        ) from None
    if f.ret is not T.void and not _ends(tree.body):
        raise KernelTypeError(
            f"{fn.__name__}() returns a value on some paths but can also end without `return`", call_loc
        )
    for r in lw.returns:
        if r.value is not None:
            r.value = lw.cast(r.value, f.ret)
    if lw.allocs and not (body and isinstance(body[-1], N.Return)):
        body.append(N.Return(src.loc(tree), None))  # the renderers free local arrays at every return
    f.body = body
    f.locals = lw.locals
    f._kk_allocs = list(lw.allocs)  # type: ignore[attr-defined]  # local arrays, freed when it returns
    f._kk_host_only = any(  # type: ignore[attr-defined]
        isinstance(s, (N.Region, N.ParallelFor)) for s in N.walk_stmts(body)
    ) or bool(lw.allocs or getattr(lw, "_kk_calls_host_only", False))
    return f


def _has_returns(tree: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(tree))


def _result_type(fn, lw) -> T.Type:
    returns = lw.returns
    rtypes = [r.value.type for r in returns if r.value is not None]
    if rtypes and len(rtypes) != len(returns):
        raise KernelTypeError(f"{fn.__name__}() returns a value on some paths and nothing on others", returns[0].loc)
    if not rtypes:
        return T.void
    ret = rtypes[0]
    for r in returns[1:]:
        v = r.value
        if v.type != ret and not (isinstance(v, N.Const) and v.weak):
            ret = T.promote(ret, v.type)
    return ret


def _forget(ctx, mark: int) -> None:
    """Drop the specializations made after position `mark` (they may have seen a guessed return type)."""
    gone = {id(g) for g in ctx.functions[mark:]}
    for k in [k for k, g in ctx.specialized.items() if id(g) in gone]:
        del ctx.specialized[k]
    del ctx.functions[mark:]
