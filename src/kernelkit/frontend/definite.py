"""Definite assignment: every local a kernel reads must have been assigned on every path that reaches the read.

Python raises UnboundLocalError at run time for a local read before it is bound; compiled kernels would read the
zero their locals start from, so the frontend rejects such reads instead, with the line. The rules are the usual
ones (Java's definite assignment, adapted to Python's statements):

- after `if c: A else: B` a local is assigned when both branches assign it (a branch that cannot fall through,
  ending in `return`, `break` or `continue`, assigns everything);
- a `for` loop may run zero times and a `while` loop may stop before its first iteration, so what their bodies
  assign does not count after them; a `while True:` loop counts what every `break` out of it has assigned;
- inside a loop body, a local the body assigns somewhere counts as assigned for reads in later iterations (a
  loop-carried value such as `best` below, set on the first iteration); were it read unassigned on some
  iteration, the read gives the zero locals start from, the same on every space:

      for j in range(n):
          if j == 0:
              best = x[j]
          elif x[j] > best:
              best = x[j]

- `pk.single` bodies and nested patterns run on some threads or some iterations only: like a loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kernelkit.errors import KernelTypeError, Loc
from kernelkit.ir import nodes as N


class _All(frozenset):
    """The set after a statement that does not fall through: every name (the identity of intersection)."""


ALL = _All()


def _meet(a: frozenset, b: frozenset) -> frozenset:
    if isinstance(a, _All):
        return b
    if isinstance(b, _All):
        return a
    return a & b


@dataclass
class _Loop:
    breaks: list[frozenset] = field(default_factory=list)


def check(body: list[N.Stmt], local_names, assigned: set[str] | frozenset = frozenset()) -> None:
    """Raise a KernelTypeError at the first read of a local in `local_names` that `body` may reach unassigned."""
    _Checker(frozenset(local_names)).block(body, frozenset(assigned), carried=frozenset(), loops=[])


class _Checker:
    def __init__(self, names: frozenset):
        self.names = names
        self.maybe: dict[str, tuple[str, Loc]] = {}  # local -> (construct that assigns it only sometimes, where)

    # ------------------------------------------------------------------------------------------ reads

    def read(self, e, have: frozenset, carried: frozenset) -> None:
        if not isinstance(e, N.Expr):
            return
        for sub in N.walk_exprs(e):
            if isinstance(sub, N.Var) and sub.name in self.names and sub.name not in have and sub.name not in carried:
                self.fail(sub)

    def fail(self, var: N.Var) -> None:
        name = var.name
        why = self.maybe.get(name)
        if why is None:
            raise KernelTypeError(f"local {name!r} is read here before it is assigned", var.loc)
        kind, where = why
        how = {
            "if": f"only under the `if` at line {where.line}, not on every branch",
            "loop": f"only inside the loop at line {where.line}, which may run zero times",
        }.get(kind, f"only inside the {kind} at line {where.line}, which runs on some threads or iterations only")
        raise KernelTypeError(
            f"local {name!r} may be read here before it is assigned: it is assigned {how}; assign it before "
            f"(e.g. `{name} = 0`) so that every path gives it a value",
            var.loc,
        )

    # ------------------------------------------------------------------------------------------ statements

    def block(self, body: list[N.Stmt], have: frozenset, carried: frozenset, loops: list[_Loop]) -> frozenset:
        for s in body:
            if isinstance(have, _All):
                return have  # unreachable code after return/break/continue: nothing more to check
            have = self.stmt(s, have, carried, loops)
        return have

    def sometimes(self, kind: str, loc: Loc, before: frozenset, inside: frozenset, after: frozenset) -> None:
        if isinstance(inside, _All):
            return
        for name in inside - after:
            if name in self.names and name not in before:
                self.maybe[name] = (kind, loc)

    def loop_body(self, body: list[N.Stmt], have: frozenset, carried: frozenset, loops: list[_Loop], loop: _Loop):
        mine = frozenset(N.assigned_names(body)) & self.names
        return self.block(body, have, carried | mine, [*loops, loop])

    def stmt(self, s: N.Stmt, have: frozenset, carried: frozenset, loops: list[_Loop]) -> frozenset:
        r = self.read
        if isinstance(s, N.Assign):
            r(s.value, have, carried)
            return have | {s.target.name}
        if isinstance(s, N.FieldAssign):
            r(s.value, have, carried)
            return have
        if isinstance(s, N.Store):
            r(s.view, have, carried)
            for ix in s.index:
                r(ix, have, carried)
            r(s.value, have, carried)
            return have
        if isinstance(s, N.If):
            r(s.cond, have, carried)
            a = self.block(s.then, have, carried, loops)
            b = self.block(s.orelse, have, carried, loops)
            after = _meet(a, b)
            for side in (a, b):
                self.sometimes("if", s.loc, have, side, after)
            return after
        if isinstance(s, N.For):
            for e in (s.start, s.stop, s.step):
                r(e, have, carried)
            inside = self.loop_body(s.body, have | {s.var.name}, carried, loops, _Loop())
            self.sometimes("loop", s.loc, have, inside, have)
            return have
        if isinstance(s, N.While):
            r(s.cond, have, carried | (frozenset(N.assigned_names(s.body)) & self.names))
            loop = _Loop()
            inside = self.loop_body(s.body, have, carried, loops, loop)
            forever = isinstance(s.cond, N.Const) and bool(s.cond.value)
            after: frozenset = have
            if forever:
                after = ALL
                for b in loop.breaks:
                    after = _meet(after, b)
            self.sometimes("loop", s.loc, have, inside, after)
            return after
        if isinstance(s, N.Break):
            if loops:
                loops[-1].breaks.append(have)
            return ALL
        if isinstance(s, N.Continue):
            return ALL
        if isinstance(s, N.Return):
            if s.value is not None:
                r(s.value, have, carried)
            return ALL
        if isinstance(s, N.ExprStmt):
            r(s.value, have, carried)
            return have
        if isinstance(s, N.Printf):
            for a in s.args:
                r(a, have, carried)
            return have
        if isinstance(s, N.Single):
            r(s.team, have, carried)
            inside = self.block(s.body, have, carried, loops)
            self.sometimes("pk.single", s.loc, have, inside, have)
            return have
        if isinstance(s, N.Nested):
            r(s.team, have, carried)
            for b, e in s.bounds:
                r(b, have, carried)
                r(e, have, carried)
            own = {v.name for v in s.vars} | {x.name for x in (s.acc, s.final) if x is not None}
            inside = self.loop_body(s.body, have | own, carried, loops, _Loop())
            self.sometimes("nested pattern", s.loc, have, inside, have)
            return have | ({s.result.name} if s.result is not None else set())
        # Barrier and statements without reads or writes of locals
        for v in vars(s).values():
            if isinstance(v, N.Expr):
                r(v, have, carried)
        return have
