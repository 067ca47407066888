"""One printer for the IR: stable text for dumps, golden tests and the cache key.

Locations are printed as line numbers only (`@12`), so moving a kernel file does not change the key, but editing
a line does (the C++ carries #line directives with those numbers).
"""

from __future__ import annotations

import hashlib

from kernelkit.ir import nodes as N


def expr(e: N.Expr) -> str:
    t = e.type
    if isinstance(e, N.Const):
        return f"{e.value!r}:{t}"
    if isinstance(e, N.Var):
        return e.name
    if isinstance(e, N.BinOp):
        return f"({expr(e.lhs)} {e.op} {expr(e.rhs)}):{t}"
    if isinstance(e, N.UnaryOp):
        return f"({e.op} {expr(e.operand)}):{t}"
    if isinstance(e, N.Compare):
        return f"({expr(e.lhs)} {e.op} {expr(e.rhs)})"
    if isinstance(e, N.Logical):
        return f"({expr(e.lhs)} {e.op} {expr(e.rhs)})"
    if isinstance(e, N.Select):
        return f"({expr(e.a)} if {expr(e.cond)} else {expr(e.b)})"
    if isinstance(e, N.Cast):
        return f"{t}({expr(e.value)})"
    if isinstance(e, N.MathCall):
        return f"{e.fn}({', '.join(expr(a) for a in e.args)}):{t}"
    if isinstance(e, N.Load):
        return f"{expr(e.view)}[{', '.join(expr(i) for i in e.index)}]"
    if isinstance(e, N.Extent):
        return f"extent({expr(e.view)}, {e.dim})"
    if isinstance(e, N.Field):
        return f"{expr(e.obj)}.{e.name}"
    if isinstance(e, N.Call):
        return f"{e.fn.name}({', '.join(expr(a) for a in e.args)}):{t}"
    if isinstance(e, N.TeamQuery):
        return f"{expr(e.team)}.{e.what}()"
    if isinstance(e, N.ScratchAlloc):
        return (
            f"scratch{'_thread' if e.per_thread else ''}({expr(e.level)}, {', '.join(expr(x) for x in e.extents)}):{t}"
        )
    if isinstance(e, N.RandomCall):
        return f"{expr(e.obj)}.{e.what}({', '.join(expr(a) for a in e.args)}):{t}"
    if isinstance(e, N.SubView):
        parts = [
            expr(sp[1])
            if sp[0] == "index"
            else f"{expr(sp[1]) if sp[1] is not None else ''}:{expr(sp[2]) if sp[2] is not None else ''}"
            for sp in e.spec
        ]
        return f"{expr(e.view)}[{', '.join(parts)}]:{t}"
    if isinstance(e, N.Construct):
        return f"{e.fn.name}({', '.join(expr(a) for a in e.args)}):{t}"
    if isinstance(e, N.Alloc):
        fill = f", fill={expr(e.fill)}" if e.fill is not None else ""
        return f"alloc({', '.join(expr(x) for x in e.shape)}{fill}):{t}"
    if isinstance(e, N.ThreadQuery):
        return f"omp_{e.what}({', '.join(expr(a) for a in e.args)})"
    if isinstance(e, N.Atomic):
        idx = ", ".join(expr(i) for i in e.index)
        args = ", ".join(expr(a) for a in e.args)
        return f"atomic_{'fetch_' if e.fetch else ''}{e.op}({expr(e.view)}[{idx}], {args}):{t}"
    raise TypeError(f"no printer for {type(e).__name__}")


def _clause(k: str, v) -> str:
    if v is True or v is None:
        return k
    if isinstance(v, N.Expr):
        return f"{k}({expr(v)})"
    if isinstance(v, (list, tuple)):
        return f"{k}({', '.join(str(x) for x in v)})"
    return f"{k}({v})"


def stmts(body: list[N.Stmt], indent: int = 1) -> list[str]:
    pad = "  " * indent
    out: list[str] = []
    for s in body:
        at = f"  @{s.loc.line}"
        if isinstance(s, N.Assign):
            out.append(f"{pad}{s.target.name} = {expr(s.value)}{at}")
        elif isinstance(s, N.FieldAssign):
            out.append(f"{pad}{expr(s.target)} = {expr(s.value)}{at}")
        elif isinstance(s, N.Store):
            idx = ", ".join(expr(i) for i in s.index)
            out.append(f"{pad}{expr(s.view)}[{idx}] = {expr(s.value)}{at}")
        elif isinstance(s, N.If):
            out.append(f"{pad}if {expr(s.cond)}:{at}")
            out += stmts(s.then, indent + 1)
            if s.orelse:
                out.append(f"{pad}else:")
                out += stmts(s.orelse, indent + 1)
        elif isinstance(s, N.ParallelFor):
            bounds = ", ".join(f"range({expr(a)}, {expr(b)}, {expr(c)})" for a, b, c in s.bounds)
            extra = "".join(
                f" {what}({', '.join(names)})"
                for what, names in (
                    ("reduction", [f"{op}:{n}" for n, op in s.reductions]),
                    ("private", s.private),
                    ("shared", s.shared),
                    ("schedule", [s.schedule] if s.schedule else []),
                )
                if names
            )
            extra += "".join(f" {_clause(k, v)}" for k, v in sorted(s.omp.items()))
            out.append(
                f"{pad}parallel{' simd' if s.simd else ''} for {', '.join(v.name for v in s.vars)} in {bounds}"
                f"{extra}:{at}"
            )
            out += stmts(s.body, indent + 1)
        elif isinstance(s, N.SimdFor):
            red = f" reduction({', '.join(f'{op}:{n}' for n, op in s.reductions)})" if s.reductions else ""
            out.append(
                f"{pad}simd for {s.var.name} in range({expr(s.start)}, {expr(s.stop)}, {expr(s.step)}){red}:{at}"
            )
            out += stmts(s.body, indent + 1)
        elif isinstance(s, N.Result):
            out.append(f"{pad}result[{s.index}] = {expr(s.value)}{at}")
        elif isinstance(s, N.Free):
            out.append(f"{pad}free {s.var.name}{at}")
        elif isinstance(s, N.Region):
            clauses = " ".join(_clause(k, v) for k, v in s.clauses.items())
            out.append(f"{pad}omp {s.kind}{' ' + clauses if clauses else ''}:{at}")
            out += stmts(s.body, indent + 1)
        elif isinstance(s, N.For):
            out.append(f"{pad}for {s.var.name} in range({expr(s.start)}, {expr(s.stop)}, {expr(s.step)}):{at}")
            out += stmts(s.body, indent + 1)
        elif isinstance(s, N.While):
            out.append(f"{pad}while {expr(s.cond)}:{at}")
            out += stmts(s.body, indent + 1)
        elif isinstance(s, N.Break):
            out.append(f"{pad}break{at}")
        elif isinstance(s, N.Continue):
            out.append(f"{pad}continue{at}")
        elif isinstance(s, N.Return):
            out.append(f"{pad}return {expr(s.value) if s.value is not None else ''}{at}")
        elif isinstance(s, N.ExprStmt):
            out.append(f"{pad}{expr(s.value)}{at}")
        elif isinstance(s, N.Printf):
            out.append(f"{pad}printf({s.fmt!r}, {', '.join(expr(a) for a in s.args)}){at}")
        elif isinstance(s, N.Barrier):
            out.append(f"{pad}team_barrier({expr(s.team)}){at}")
        elif isinstance(s, N.Single):
            out.append(f"{pad}single[{s.per}]({expr(s.team)}):{at}")
            out += stmts(s.body, indent + 1)
        elif isinstance(s, N.Nested):
            bounds = ", ".join(f"{expr(b)}:{expr(e)}" for b, e in s.bounds)
            head = ", ".join(v.name for v in s.vars)
            if s.acc is not None:
                head += f"; {s.acc.name}"
            if s.final is not None:
                head += f", {s.final.name}"
            res = f"{s.result.name} = " if s.result is not None else ""
            out.append(
                f"{pad}{res}nested_{s.pattern}[{s.level}{'<' + s.reducer + '>' if s.reducer else ''}]"
                f"({expr(s.team)}, {bounds}) ({head}):{at}"
            )
            out += stmts(s.body, indent + 1)
        else:
            raise TypeError(f"no printer for {type(s).__name__}")
    return out


def _params(ps: list[N.Param]) -> str:
    return ", ".join(f"{p.name}: {p.type}" for p in ps)


def function(f: N.Function) -> str:
    lines = [f"function {f.name}({_params(f.params)}) -> {f.ret}:  # {f.pyname}"]
    lines += [f"  local {k}: {v}" for k, v in sorted(f.locals.items())]
    lines += stmts(f.body)
    return "\n".join(lines)


def kernel(k: N.Kernel) -> str:
    head = [p for p in (k.acc, k.final) if p is not None]
    lines = [f"struct {st.name}: {st}" for st in k.structs]
    lines += [function(f) for f in k.functions]
    lines.append(
        f"kernel {k.name} {k.pattern}"
        + (f"<{k.reducer}>" if k.reducer else "")
        + f"({_params(k.indices + ([k.team] if k.team else []) + head)} | {_params(k.params)}):"
    )
    lines.append(f"  writes {sorted(k.writes)}")
    lines += [f"  local {n}: {t}" for n, t in sorted(k.locals.items())]
    lines += stmts(k.body)
    return "\n".join(lines)


def program(p: N.Program) -> str:
    lines = [f"struct {st.name}: {st}" for st in p.structs]
    lines += [function(f) for f in p.functions]
    res = ", ".join(str(t) for t in p.results) or "None"
    lines.append(f"program {p.name}({_params(p.params)}) -> {'(' + res + ')' if p.tuple_result else res}:")
    lines.append(f"  writes {sorted(p.writes)}")
    lines += [f"  local {n}: {t}" for n, t in sorted(p.locals.items())]
    lines += stmts(p.body)
    return "\n".join(lines)


def program_id(p: N.Program) -> int:
    """A stable number naming a program specialization: what its compiled entry answers, so that the launcher
    knows which specialization ran and how to read its results."""
    return int(hashlib.sha256(program(p).encode()).hexdigest()[:15], 16)
