"""What the compiler proves about a loop before it runs its iterations concurrently.

For a parallel loop (and a simd loop), every local the body assigns is classified:

- a *reduction* when every assignment has the form `s = s op e` (also `s += e`, `s = max(s, e)`, with op one of
  + - * min max, `e` not reading `s`) and the body reads `s` nowhere else: each thread (lane) accumulates a copy
  from the operator's identity, and the copies are joined into `s` after the loop, as in Numba's prange;
- *shared* when the pragma says so (APPy's `shared(a)`): written in place, the last write wins;
- *private* otherwise: each thread has its own copy. Reading a private local before the iteration assigned it
  would read what another iteration left (a loop-carried dependence): that is a KernelError.

Every store to an array must write an element no other iteration writes: some index must be `c*i + r` with `c`
a nonzero constant and `r` the same for every iteration, for each loop variable `i` of the parallel loop. A store
that cannot be proven so is a data race and a KernelError, unless it updates the element it reads (`h[k] += 1`,
`m[k] = max(m[k], x)`): that is an array reduction, made atomic.
"""

from __future__ import annotations

from kernelkit.errors import KernelTypeError
from kernelkit.ir import nodes as N
from kernelkit.ir import printer
from kernelkit.ir import types as T

RED_OPS = {"+": "+", "-": "+", "*": "*", "min": "min", "max": "max"}
ATOMIC_OPS = {"+": "add", "-": "sub", "*": "mul", "min": "min", "max": "max"}


def _strip(e: N.Expr) -> N.Expr:
    return e.value if isinstance(e, N.Cast) else e


def _reads(e, name: str) -> int:
    return sum(1 for x in N.walk_exprs(e) if isinstance(x, N.Var) and x.name == name)


def reduction_update(s: N.Stmt, name: str | None = None) -> tuple[str, str, N.Expr] | None:
    """(local, op, operand) when `s` is `local = local op operand` (or `operand op local` for commutative ops)."""
    if not isinstance(s, N.Assign) or (name is not None and s.target.name != name):
        return None
    n = s.target.name
    v = _strip(s.value)
    if not isinstance(v, N.BinOp) or v.op not in RED_OPS:
        return None
    lhs, rhs = _strip(v.lhs), _strip(v.rhs)
    if isinstance(lhs, N.Var) and lhs.name == n and not _reads(v.rhs, n):
        return n, v.op, v.rhs
    if v.op != "-" and isinstance(rhs, N.Var) and rhs.name == n and not _reads(v.lhs, n):
        return n, v.op, v.lhs
    return None


def _assigned(body: list[N.Stmt]) -> dict[str, list[N.Stmt]]:
    out: dict[str, list[N.Stmt]] = {}
    for s in N.walk_stmts(body):
        if isinstance(s, N.Assign):
            out.setdefault(s.target.name, []).append(s)
        elif isinstance(s, N.For):
            out.setdefault(s.var.name, []).append(s)
        elif isinstance(s, N.ParallelFor):
            for v in s.vars:
                out.setdefault(v.name, []).append(s)
    return out


def _stmt_exprs(s: N.Stmt) -> list[N.Expr]:
    out = []
    for k, v in vars(s).items():
        if k in ("target",):
            continue
        if isinstance(v, N.Expr):
            out.append(v)
        elif isinstance(v, list):
            out += [x for x in v if isinstance(x, N.Expr)]
            for x in v:
                if isinstance(x, tuple):
                    out += [y for y in x if isinstance(y, N.Expr)]
    if isinstance(s, N.Store):
        out += s.index
    return out


def _upward_reads(body: list[N.Stmt], names: set[str], defined: set[str]) -> dict[str, N.Stmt]:
    """Names of `names` read before this body assigns them (for a loop body: also reads that see the previous
    iteration's value), with the statement that reads them."""
    found: dict[str, N.Stmt] = {}

    def visit(stmts: list[N.Stmt], done: set[str]) -> set[str]:
        for s in stmts:
            for e in _stmt_exprs(s) if not isinstance(s, (N.If, N.While, N.For, N.ParallelFor)) else []:
                for x in N.walk_exprs(e):
                    if isinstance(x, N.Var) and x.name in names and x.name not in done:
                        found.setdefault(x.name, s)
            if isinstance(s, N.Assign):
                done = done | {s.target.name}
            elif isinstance(s, N.If):
                for x in N.walk_exprs(s.cond):
                    if isinstance(x, N.Var) and x.name in names and x.name not in done:
                        found.setdefault(x.name, s)
                a = visit(s.then, set(done))
                b = visit(s.orelse, set(done))
                done = done | (a & b)
            elif isinstance(s, (N.For, N.ParallelFor)):
                exprs = [s.start, s.stop, s.step] if isinstance(s, N.For) else [x for b in s.bounds for x in b]
                for e in exprs:
                    for x in N.walk_exprs(e):
                        if isinstance(x, N.Var) and x.name in names and x.name not in done:
                            found.setdefault(x.name, s)
                inner = done | ({s.var.name} if isinstance(s, N.For) else {v.name for v in s.vars})
                visit(s.body, inner)
            elif isinstance(s, N.While):
                for x in N.walk_exprs(s.cond):
                    if isinstance(x, N.Var) and x.name in names and x.name not in done:
                        found.setdefault(x.name, s)
                visit(s.body, set(done))
        return done

    visit(body, set(defined))
    return found


def classify(
    body: list[N.Stmt],
    loop_vars: set[str],
    shared: set[str],
    declared: dict[str, str],
    what: str,
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """(reductions, private, shared) of the locals a loop body assigns; raises for loop-carried scalars."""
    assigned = _assigned(body)
    reductions: list[tuple[str, str]] = []
    private: list[str] = []
    shared_out: list[str] = []
    for name, stmts in sorted(assigned.items()):
        if name in loop_vars:
            continue
        if name in declared:
            reductions.append((name, declared[name]))
            continue
        ups = [reduction_update(s, name) for s in stmts]
        if ups and all(u is not None for u in ups):
            ops = {RED_OPS[u[1]] for u in ups if u is not None}
            total = sum(_reads(e, name) for s in N.walk_stmts(body) for e in _stmt_exprs(s))
            if len(ops) == 1 and total == len(ups):
                reductions.append((name, ops.pop()))
                continue
        if name in shared:
            shared_out.append(name)
            continue
        private.append(name)
    carried = _upward_reads(body, set(private), loop_vars)
    if carried:
        name, s = sorted(carried.items())[0]
        raise KernelTypeError(
            f"{what} reads {name!r} before the iteration assigns it, so it would see what another iteration left "
            f"(a loop-carried dependence): assign {name!r} first in the loop body, make it a reduction "
            f"({name} += ...), or run the loop sequentially",
            s.loc,
        )
    return reductions, private, shared_out


# --- stores -------------------------------------------------------------------------------------------------


def written_views(body: list[N.Stmt]) -> set[str]:
    out = set()
    for s in N.walk_stmts(body):
        if isinstance(s, N.Store) and isinstance(s.view, N.Var):
            out.add(s.view.name)
        for e in _stmt_exprs(s):
            for x in N.walk_exprs(e):
                if isinstance(x, N.Atomic) and isinstance(x.view, N.Var):
                    out.add(x.view.name)
    return out


def _affine(e: N.Expr, v: str, varying: set[str], written: set[str], bounded: dict[str, int]) -> tuple[int, int, bool]:
    """(c, spread, ok): e == c*v + r, where r takes at most `spread` + 1 consecutive values over the iterations
    (inner loop variables of constant trip count move it; everything else in it is the same in every iteration).
    ok is False when that cannot be shown."""
    if isinstance(e, N.Var):
        if e.name == v:
            return 1, 0, True
        if e.name in bounded:
            return 0, bounded[e.name], True
        return 0, 0, e.name not in varying
    if isinstance(e, (N.Const, N.Extent)):
        return 0, 0, True
    if isinstance(e, N.Cast):
        return _affine(e.value, v, varying, written, bounded)
    if isinstance(e, N.UnaryOp) and e.op == "-":
        c, sp, ok = _affine(e.operand, v, varying, written, bounded)
        return -c, sp, ok
    if isinstance(e, N.BinOp) and e.op in ("+", "-"):
        ca, sa, oka = _affine(e.lhs, v, varying, written, bounded)
        cb, sb, okb = _affine(e.rhs, v, varying, written, bounded)
        return (ca + cb if e.op == "+" else ca - cb), sa + sb, oka and okb
    if isinstance(e, N.BinOp) and e.op == "*":
        for x, k in ((e.lhs, _strip(e.rhs)), (e.rhs, _strip(e.lhs))):
            if isinstance(k, N.Const) and isinstance(k.value, int) and not isinstance(k.value, bool):
                c, sp, ok = _affine(x, v, varying, written, bounded)
                return c * int(k.value), sp * abs(int(k.value)), ok
        ca, sa, oka = _affine(e.lhs, v, varying, written, bounded)
        cb, sb, okb = _affine(e.rhs, v, varying, written, bounded)
        return (0, 0, oka and okb) if not (ca or cb or sa or sb) else (0, 0, False)
    if isinstance(e, N.Load):
        if isinstance(e.view, N.Var) and e.view.name in written:
            return 0, 0, False
        return 0, 0, all(_affine(i, v, varying, written, {}) == (0, 0, True) for i in e.index)
    ok = all(
        not (isinstance(x, N.Var) and (x.name in varying or x.name == v))
        and not (isinstance(x, N.Load) and isinstance(x.view, N.Var) and x.view.name in written)
        for x in N.walk_exprs(e)
    )
    return 0, 0, ok


def _bounded(body: list[N.Stmt]) -> dict[str, int]:
    """Inner loop variables with a constant trip count (range(a, b) with constants, step 1): var -> b - a - 1."""
    assigned = _assigned(body)
    out = {}
    for s in N.walk_stmts(body):
        if (
            isinstance(s, N.For)
            and len(assigned.get(s.var.name, [])) == 1
            and all(isinstance(_strip(x), N.Const) for x in (s.start, s.stop, s.step))
            and _strip(s.step).value == 1
        ):
            out[s.var.name] = max(int(_strip(s.stop).value) - int(_strip(s.start).value) - 1, 0)
    return out


def distinct(
    index: list[N.Expr], loop_vars: list[str], varying: set[str], written: set[str], bounded: dict | None = None
) -> bool:
    """Do different iterations of the loop over `loop_vars` store to different elements at `index`? Some index
    must be c*i + r with |c| larger than the spread of r, for each loop variable i (`a[i, j]`, `x[8*b + t]`
    with t in range(8))."""
    for v in loop_vars:
        if not any(
            c != 0 and ok and sp < abs(c)
            for c, sp, ok in (_affine(ix, v, varying, written, bounded or {}) for ix in index)
        ):
            return False
    return True


def _same(a: list[N.Expr], b: list[N.Expr]) -> bool:
    return len(a) == len(b) and all(printer.expr(x) == printer.expr(y) for x, y in zip(a, b, strict=True))


def rmw(s: N.Store) -> tuple[str, N.Expr] | None:
    """(op, operand) when the store updates the element it reads: `v[ix] = v[ix] op e`."""
    val = _strip(s.value)
    if not isinstance(val, N.BinOp) or val.op not in ATOMIC_OPS:
        return None
    for mine, other in ((val.lhs, val.rhs), (val.rhs, val.lhs)):
        m = _strip(mine)
        if (
            isinstance(m, N.Load)
            and printer.expr(m.view) == printer.expr(s.view)
            and _same(m.index, s.index)
            and (mine is val.lhs or val.op != "-")
        ):
            return val.op, other
    return None


def _per_thread(index: list[N.Expr]) -> bool:
    """An index that is the thread's number (`a[omp_get_thread_num()] = ...`): threads write different elements,
    and the iterations one thread runs run in order."""
    return any(
        isinstance(_strip(i), N.ThreadQuery) and _strip(i).what in ("get_thread_num", "thread_num") for i in index
    )


def check_stores(body: list[N.Stmt], loop_vars: list[str], what: str) -> list[N.Stmt]:
    """The body with racy read-modify-write stores made atomic; raises for any other store it cannot prove
    race-free."""
    varying = set(_assigned(body)) | set(loop_vars)
    written = written_views(body)
    bounded = _bounded(body)

    def fix(stmts: list[N.Stmt]) -> list[N.Stmt]:
        out: list[N.Stmt] = []
        for s in stmts:
            if (
                isinstance(s, N.Store)
                and not _per_thread(s.index)
                and not distinct(s.index, loop_vars, varying, written, bounded)
            ):
                r = rmw(s)
                if r is None or not isinstance(s.view.type, T.ViewType):
                    name = s.view.name if isinstance(s.view, N.Var) else printer.expr(s.view)
                    raise KernelTypeError(
                        f"iterations of {what} may write the same element of {name!r} (index "
                        f"{', '.join(printer.expr(i) for i in s.index)} does not tell them apart): index it with "
                        f"the loop variable, mark the statement `#pragma atomic`, or update it with an atomic "
                        f"(pk.atomic_add)",
                        s.loc,
                    )
                op, operand = r
                dt = s.view.type.dtype
                value = operand if operand.type == dt else N.Cast(dt, operand.loc, operand)
                out.append(N.ExprStmt(s.loc, N.Atomic(dt, s.loc, ATOMIC_OPS[op], s.view, s.index, [value], False)))
                continue
            for attr in ("then", "orelse", "body"):
                inner = getattr(s, attr, None)
                if isinstance(inner, list) and inner:
                    setattr(s, attr, fix(inner))
            out.append(s)
        return out

    fixed = fix(body)
    _check_store_pairs(fixed, loop_vars, varying, written, what)
    return fixed


def _split_const(e: N.Expr) -> tuple[str, int]:
    """(the expression without a constant term, the constant): `i + 1` -> ("i", 1), `i` -> ("i", 0)."""
    e = _strip(e)
    if isinstance(e, N.BinOp) and e.op in ("+", "-"):
        k = _strip(e.rhs)
        if isinstance(k, N.Const) and isinstance(k.value, int) and not isinstance(k.value, bool):
            base, c = _split_const(e.lhs)
            return base, c + (int(k.value) if e.op == "+" else -int(k.value))
    if isinstance(e, N.Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return "0", int(e.value)
    return printer.expr(e), 0


def _check_store_pairs(body: list[N.Stmt], loop_vars: list[str], varying: set[str], written: set[str], what: str):
    """Two stores to one array (`a[i] = ...; a[i + 1] = ...`) must not write the same element from different
    iterations: in some dimension both must be c*i + r + k with the same r and offsets k that c cannot bridge."""
    stores: dict[str, list[N.Store]] = {}
    for s in N.walk_stmts(body):
        if isinstance(s, N.Store) and isinstance(s.view, N.Var):
            stores.setdefault(s.view.name, []).append(s)
    for name, group in stores.items():
        kinds = {tuple(printer.expr(i) for i in s.index): s for s in group}
        if len(kinds) < 2:
            continue
        first, *rest = kinds.values()
        for other in rest:
            for v in loop_vars:
                ok = False
                for a, b in zip(first.index, other.index, strict=True):
                    ca, sa, oka = _affine(a, v, varying, written, {})
                    cb, sb, okb = _affine(b, v, varying, written, {})
                    if not (oka and okb and ca == cb and ca != 0 and sa == sb == 0):
                        continue
                    (ba, ka), (bb, kb) = _split_const(a), _split_const(b)
                    if ba == bb and (ka - kb) % ca != 0 or ka == kb and ba == bb:
                        ok = True
                        break
                if not ok:
                    raise KernelTypeError(
                        f"iterations of {what} may write the same element of {name!r} through two stores (index "
                        f"{', '.join(printer.expr(i) for i in first.index)} and "
                        f"{', '.join(printer.expr(i) for i in other.index)}): write it through one index, or run "
                        "the loop sequentially",
                        other.loc,
                    )


def simd_safe(body: list[N.Stmt], var: str) -> bool:
    """May the iterations of a sequential loop over `var` run as vector lanes? Every store must write its own
    element, and nothing atomic or opaque (device functions that write, nested parallel loops) may run."""
    varying = set(_assigned(body)) | {var}
    written = written_views(body)
    for s in N.walk_stmts(body):
        if isinstance(s, (N.ParallelFor, N.Region, N.Printf, N.Return, N.Break, N.Continue, N.While)):
            return False
        if isinstance(s, N.Store) and not distinct(s.index, [var], varying, written):
            return False
        for e in _stmt_exprs(s):
            for x in N.walk_exprs(e):
                if isinstance(x, (N.Atomic, N.Call)):
                    return False
    return True


def scalar_replace(loop: N.For, new_tmp) -> tuple[list[N.Stmt], list[N.Stmt]] | None:
    """`for j: y[i] += a[j] * x[j]` (an element the loop does not index): accumulate in a local instead. Returns
    (statements before the loop, after it) and rewrites the loop body, or None when nothing applies."""
    varying = set(_assigned(loop.body)) | {loop.var.name}
    written = written_views(loop.body)
    before: list[N.Stmt] = []
    after: list[N.Stmt] = []
    for k, s in enumerate(loop.body):
        if not isinstance(s, N.Store) or not isinstance(s.view, N.Var):
            continue
        r = rmw(s)
        if r is None or not all(_affine(i, loop.var.name, varying, written, {}) == (0, 0, True) for i in s.index):
            continue
        name = s.view.name
        uses = sum(
            1
            for t in N.walk_stmts(loop.body)
            for e in _stmt_exprs(t)
            for x in N.walk_exprs(e)
            if (isinstance(x, (N.Load, N.Atomic)) and isinstance(x.view, N.Var) and x.view.name == name)
        )
        stores = sum(1 for t in N.walk_stmts(loop.body) if isinstance(t, N.Store) and printer.expr(t.view) == name)
        if uses != 1 or stores != 1:
            continue
        op, operand = r
        dt = s.view.type.dtype
        tmp = N.Var(dt, s.loc, new_tmp(dt))
        before.append(N.Assign(s.loc, tmp, N.Load(dt, s.loc, s.view, s.index)))
        value = N.BinOp(dt, s.loc, op, tmp, operand if operand.type == dt else N.Cast(dt, s.loc, operand))
        loop.body[k] = N.Assign(s.loc, tmp, value)
        after.append(N.Store(s.loc, s.view, s.index, tmp))
    return (before, after) if before else None
