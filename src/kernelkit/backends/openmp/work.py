"""How much work a parallel loop of a @pk.jit program holds, estimated before it runs, so that OpenMP forks its
threads only when the work pays for the fork.

A parallel loop whose body holds loops (npbench's cholesky: one parallel loop per column, each iteration a dot
product over the columns before it) may be run thousands of times per call with little work each time; waking
sleeping threads costs tens of microseconds (OMP_WAIT_POLICY=passive, or threads idle past their spin count),
which such a loop repays only when it has enough iterations. The estimate counts inner-loop iterations: the
parallel loop's trip count times, per iteration, the trip counts of the loops in its body (nested ones
multiplied, sibling ones added, both branches of an `if` counted). It exists only when every inner loop's
bounds are invariant in the loop (built from constants, locals the body never assigns, extents, + - * and
min/max, never an array element or a division that could trap when evaluated before the loop; steps constant);
otherwise the
loop forks as before. The backend renders the estimate as the loop's OpenMP `if(...)` clause against
`KK_PAR_WORK` (program.h): below it the loop runs on the calling thread, with the same result.
"""

from __future__ import annotations

from collections.abc import Callable

from kernelkit.ir import nodes as N

_SAFE_OPS = ("+", "-", "*", "min", "max")


def estimate(s: N.ParallelFor, render: Callable[[N.Expr], str], trips: list[str]) -> str | None:
    """The C expression (a double) of the inner-loop iterations of `s`, or None when it cannot be estimated
    before the loop; `trips` are the C names of the loop's per-dimension trip counts, `render` renders an
    invariant expression."""
    variant = {v.name for v in s.vars} | N.assigned_names(s.body)
    inner = _body(s.body, variant, render)
    if inner is None or inner == "0.0":
        return None
    total = " * ".join(f"(double){t}" for t in trips)
    return f"{total} * ({inner})"


def _body(body: list[N.Stmt], variant: set[str], render) -> str | None:
    terms: list[str] = []
    for st in body:
        if isinstance(st, N.While):
            return None
        if isinstance(st, N.For):
            bounds = (st.start, st.stop, st.step)
            # a step that is not a nonzero constant could be 0 where the loop itself would never run (kk::trip
            # divides by it): only constant steps are counted before the loop
            if not (isinstance(st.step, N.Const) and st.step.value) or not all(_invariant(e, variant) for e in bounds):
                return None
            inner = _body(st.body, variant, render)
            if inner is None:
                return None
            trip = f"(double)kk::trip({', '.join(render(e) for e in bounds)})"
            terms.append(f"{trip} * (1.0 + {inner})" if inner != "0.0" else trip)
        elif isinstance(st, N.If):
            for branch in (st.then, st.orelse):
                inner = _body(branch, variant, render)
                if inner is None:
                    return None
                if inner != "0.0":
                    terms.append(inner)
        elif isinstance(st, N.ParallelFor | N.Region):
            return None
    return " + ".join(terms) if terms else "0.0"


def _invariant(e: N.Expr, variant: set[str]) -> bool:
    for x in N.walk_exprs(e):
        if isinstance(x, N.Var):
            if x.name in variant:
                return False
        elif isinstance(x, N.BinOp):
            if x.op not in _SAFE_OPS:
                return False
        elif not isinstance(x, N.Const | N.Extent | N.Cast):
            return False
    return True
